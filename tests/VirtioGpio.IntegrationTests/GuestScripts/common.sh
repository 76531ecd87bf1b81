# SPDX-License-Identifier: MIT
# Helpers for the guest test scripts (concatenated in front of each one by the test; /lib/vgpio.sh comes from
# scripts/guest/init.sh and provides vgpio_sync). Results are reported as "VGPIO-KV key=value" lines; the host
# side asserts on them together with the daemon's control-socket view.
. /lib/vgpio.sh
# shellcheck disable=SC2034 # used by the test scripts appended after this file
C=gpiochip0
kv() { echo "VGPIO-KV $1=$2"; }
# monitor NAME GPIOMON-ARGS...: gpiomon in the background, bounded by a guest-side timeout.
monitor() {
  n=$1; shift
  ( timeout 90 gpiomon "$@" > "/tmp/$n.out" 2>&1; echo $? > "/tmp/$n.rc" ) &
}
# finish NAME: wait for the background gpiomon and report its output (';'-joined) and exit code.
finish() {
  wait
  kv "$1" "$(tr '\n' ';' < "/tmp/$1.out")"
  kv "$1.rc" "$(cat "/tmp/$1.rc")"
}
