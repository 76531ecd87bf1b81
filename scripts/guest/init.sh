#!/bin/busybox sh
# SPDX-License-Identifier: MIT
# /init of the VirtioGpio test guest (copied into the initramfs by scripts/guest/prepare.sh).
#
# Serial-console protocol (parsed by tests/VirtioGpio.IntegrationTests and scripts/guest/run.sh):
#   VGPIO-BOOT kernel=<release>          /init started
#   VGPIO-MODULE <name> ok|FAIL          each module load
#   VGPIO-CHIP <gpiochipN> <label> <n>   the virtio-gpio chip appeared
#   VGPIO-BEGIN                          the per-test script (/test.sh) starts
#   VGPIO-SYNC <name>                    the guest waits for "<name>" on the console (host acts first)
#   VGPIO-KV <key>=<value>               a result for the host to check (test scripts)
#   VGPIO-RESULT <name> PASS|FAIL <detail>  a result checked in the guest (vgpio_result)
#   VGPIO-END rc=<n>                     the test script finished (rc = its exit code)
#   VGPIO-WATCHDOG                       the guest watchdog fired: forced power-off/reset follows
#   VGPIO-REBOOT / VGPIO-POWEROFF        about to reboot (the test created /tmp/vgpio-reboot) / power off
# Kernel command line options: vgpio.timeout=<s> (guest watchdog, default 120),
# vgpio.nochip=1 (do not wait for a gpiochip: boot without a device),
# vgpio.skipmod=<m1,m2,...> (do not load these modules; the differential tests leave the virtio
# transport unclaimed so that /dev/mem and sysfs reach QEMU's transport registers directly).
/bin/busybox --install -s /bin
export PATH=/bin:/usr/bin
mkdir -p /proc /sys /dev /tmp /run
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
echo 1 > /proc/sys/kernel/sysrq
stty -echo 2>/dev/null

cmdline_opt() { # cmdline_opt NAME DEFAULT
  for w in $(cat /proc/cmdline); do
    case "$w" in "$1="*) echo "${w#*=}"; return ;; esac
  done
  echo "$2"
}

TIMEOUT=$(cmdline_opt vgpio.timeout 120)
NOCHIP=$(cmdline_opt vgpio.nochip 0)
SKIPMOD=$(cmdline_opt vgpio.skipmod "")
echo "VGPIO-BOOT kernel=$(uname -r) timeout=${TIMEOUT}"

# Guest watchdog: a device that never answers leaves the driver in an uninterruptible wait
# (even a normal poweroff then blocks). Print a marker and the blocked tasks, then power off
# through sysrq (works on q35 and microvm), then reset (q35 only; QEMU runs with -no-reboot).
# The host-side timeout stays the last resort.
( sleep "$TIMEOUT"; echo "VGPIO-WATCHDOG fired after ${TIMEOUT}s"; echo 8 > /proc/sys/kernel/printk; echo w > /proc/sysrq-trigger; sleep 1; echo o > /proc/sysrq-trigger; sleep 5; echo b > /proc/sysrq-trigger ) &

for m in virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci virtio_mmio gpio-virtio; do
  case ",$SKIPMOD," in *",$m,"*) echo "VGPIO-MODULE $m skipped"; continue ;; esac
  if insmod "/lib/modules/$m.ko"; then echo "VGPIO-MODULE $m ok"; else echo "VGPIO-MODULE $m FAIL"; fi
done

if [ "$NOCHIP" != "1" ]; then
  i=0
  while [ ! -e /dev/gpiochip0 ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done
  if [ -e /dev/gpiochip0 ]; then
    echo "VGPIO-CHIP $(gpiodetect | head -n 1)"
  else
    echo "VGPIO-CHIP none"
  fi
fi

# Helpers for the per-test script.
cat > /lib/vgpio.sh <<'LIB'
# Sourced by /test.sh.
vgpio_sync() { # print a marker, wait until the host answers with the same word
  echo "VGPIO-SYNC $1"
  read -r vgpio_ack
  if [ "$vgpio_ack" != "$1" ]; then echo "VGPIO-RESULT sync-$1 FAIL got '$vgpio_ack'"; return 1; fi
}
vgpio_result() { # vgpio_result NAME EXPECTED ACTUAL
  if [ "$2" = "$3" ]; then echo "VGPIO-RESULT $1 PASS $3"; else echo "VGPIO-RESULT $1 FAIL expected '$2' got '$3'"; fi
}
vgpio_base() { cat /sys/class/gpio/gpiochip*/base 2>/dev/null | head -n 1; }
LIB

echo "VGPIO-BEGIN"
rc=0
if [ -f /test.sh ]; then
  sh /test.sh
  rc=$?
else
  echo "VGPIO-RESULT no-test-script PASS"
fi
echo "VGPIO-END rc=$rc"
if [ -f /tmp/vgpio-reboot ]; then
  echo "VGPIO-REBOOT"
  reboot -f
fi
echo "VGPIO-POWEROFF"
poweroff -f
sleep 5
echo b > /proc/sysrq-trigger
