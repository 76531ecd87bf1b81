#!/usr/bin/env bash
# shellcheck disable=SC2054,SC2094 # commas inside QEMU arguments are intended; the padding reads the size first
# SPDX-License-Identifier: MIT
#
# Boots the test guest once under QEMU (TCG), for manual runs and debugging.
#
#   scripts/guest/run.sh [--pci|--mmio] [--socket PATH] [--timeout SECONDS] [--append ARGS] [TEST_SCRIPT]
#
#   --pci            q35 + vhost-user-gpio-pci (default)
#   --mmio           microvm + vhost-user-gpio-device (virtio-mmio, force-legacy=false)
#   --socket PATH    vhost-user socket of a running back-end (e.g. the virtio-gpio daemon);
#                    without it the guest boots with no GPIO device at all
#   --timeout S      host-side limit for the whole boot (default 90); the guest watchdog is S-10
#   --append ARGS    extra kernel command-line options (e.g. the differential tests' reserved RAM
#                    and module list: 'memmap=1M$0x8000000 vgpio.skipmod=virtio_mmio,gpio-virtio')
#   TEST_SCRIPT      shell script run as /test.sh in the guest (appended as a second cpio archive);
#                    it may source /lib/vgpio.sh for vgpio_sync/vgpio_result
#
# The serial console goes to stdout. Needs scripts/guest/prepare.sh to have run.
set -euo pipefail
SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$SCRIPT_DIR/../.." && pwd)"
GUEST_DIR="${VIRTIOGPIO_GUEST_DIR:-$REPO_ROOT/.guest}"
die() { echo "[guest/run] ERROR: $*" >&2; exit 1; }

TRANSPORT=pci SOCKET="" TIMEOUT=90 TEST="" EXTRA_APPEND=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --pci) TRANSPORT=pci ;;
    --mmio) TRANSPORT=mmio ;;
    --socket) SOCKET="$2"; shift ;;
    --timeout) TIMEOUT="$2"; shift ;;
    --append) EXTRA_APPEND="$2"; shift ;;
    -h|--help) sed -n '5,19p' "$0"; exit 0 ;;
    -*) die "unknown option $1" ;;
    *) TEST="$1" ;;
  esac
  shift
done
[[ -f "$GUEST_DIR/guest.env" ]] || die "no $GUEST_DIR/guest.env: run scripts/guest/prepare.sh first"
# shellcheck disable=SC1091
. "$GUEST_DIR/guest.env"

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
cp "$INITRD" "$WORK/initrd"
if [[ -n "$TEST" ]]; then
  mkdir -p "$WORK/extra"
  cp "$TEST" "$WORK/extra/test.sh"
  # Appended archives must start 4-byte aligned (prepare.sh pads the base; keep it so).
  head -c $(( (4 - $(stat -c %s "$WORK/initrd") % 4) % 4 )) /dev/zero >> "$WORK/initrd"
  (cd "$WORK/extra" && echo test.sh | cpio -o -H newc --owner=0:0 --quiet) >> "$WORK/initrd"
fi

APPEND="console=ttyS0 panic=-1 oops=panic quiet vgpio.timeout=$((TIMEOUT > 20 ? TIMEOUT - 10 : TIMEOUT))"
ARGS=(-accel tcg -smp 1 -m 256M -object memory-backend-memfd,id=mem,size=256M,share=on
      -nodefaults -no-user-config -nographic -serial stdio -no-reboot
      -kernel "$KERNEL" -initrd "$WORK/initrd")
if [[ "$TRANSPORT" == pci ]]; then
  # reboot=t: a triple-fault reset, which QEMU (-no-reboot) turns into an exit at once. Not on
  # microvm: there the guest then never boots; reset does not work there, poweroff does.
  APPEND+=" reboot=t"
  ARGS+=(-machine q35,memory-backend=mem)
else
  # microvm has no HPET/PM timer: the guest's PIT calibration of the TSC fails on a loaded host
  # and the boot hangs. Under TCG the guest TSC runs at the host's TSC rate: pass it in.
  TSC_KHZ="${VIRTIOGPIO_TSC_KHZ:-$(awk -F: '/^cpu MHz/ { printf "%d", $2 * 1000; exit }' /proc/cpuinfo)}"
  APPEND+=" tsc_early_khz=$TSC_KHZ tsc=reliable"
  ARGS+=(-machine microvm,acpi=on,rtc=on,memory-backend=mem -global virtio-mmio.force-legacy=false)
fi
if [[ -n "$SOCKET" ]]; then
  ARGS+=(-chardev "socket,id=vgpio,path=$SOCKET")
  if [[ "$TRANSPORT" == pci ]]; then ARGS+=(-device vhost-user-gpio-pci,chardev=vgpio); else ARGS+=(-device vhost-user-gpio-device,chardev=vgpio); fi
else
  APPEND+=" vgpio.nochip=1"
fi
[[ -n "$EXTRA_APPEND" ]] && APPEND+=" $EXTRA_APPEND"
echo "[guest/run] $QEMU ${ARGS[*]} -append '$APPEND'" >&2
rc=0
timeout --kill-after=5 "$TIMEOUT" "$QEMU" "${ARGS[@]}" -append "$APPEND" || rc=$?
[[ $rc -eq 124 ]] && echo "[guest/run] ERROR: host-side timeout after ${TIMEOUT}s (QEMU killed)" >&2
exit $rc
