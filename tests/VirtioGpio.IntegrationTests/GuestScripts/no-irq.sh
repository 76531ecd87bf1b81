# SPDX-License-Identifier: MIT
# Daemon started with --no-irq: VIRTIO_GPIO_F_IRQ is not offered, so the guest has no eventq and no IRQ chip
# (what every guest saw with QEMU 7.2). Lines and values must still work; requesting events must fail.
kv detect "$(gpiodetect)"
kv get2 "$(gpioget "$C" 2 2>&1)"
gpioset "$C" 1=1; kv set1.rc $?
timeout 60 gpiomon --num-events=1 "$C" 4 > /tmp/mon.out 2>&1; kv mon.rc $?
kv mon "$(tr '\n' ';' < /tmp/mon.out)"
kv finished yes
