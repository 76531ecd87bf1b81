# SPDX-License-Identifier: MIT
# Two boots against the same daemon. PHASE=1: drive an output, let the host set in5, then reboot (PCI) or power
# off (MMIO). PHASE=2: the host's level must have survived; outputs and interrupts must work again.
if [ "$PHASE" = 1 ]; then
  kv get2 "$(gpioget "$C" 2 2>&1)"
  gpioset "$C" 0=1; kv set0.rc $?
  vgpio_sync set5
  if [ "$REBOOT" = 1 ]; then touch /tmp/vgpio-reboot; fi
else
  kv get5 "$(gpioget "$C" 5 2>&1)"
  kv get2 "$(gpioget "$C" 2 2>&1)"
  gpioset "$C" 1=1; kv set1.rc $?
  monitor rise4 --num-events=1 --rising-edge "$C" 4
  vgpio_sync arm-rise4
  finish rise4
fi
kv finished yes
