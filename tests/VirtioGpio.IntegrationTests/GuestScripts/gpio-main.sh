# SPDX-License-Identifier: MIT
# One boot that exercises the GPIO paths of the daemon from a real Linux guest.
# Lines (daemon --names): 0 led0, 1 led1, 2 in2, 3 in3, 4 rise4, 5 fall5, 6 both6, 7 level7.
# Host presets before boot: in2 = 1, in3 = 0, fall5 = 1, level7 = 0.

kv detect "$(gpiodetect)"
gpioinfo "$C" | while IFS= read -r l; do echo "VGPIO-INFO $l"; done
kv find "$(gpiofind both6)"

# Inputs driven by the host.
kv get2 "$(gpioget "$C" 2 2>&1)"
kv get3a "$(gpioget "$C" 3 2>&1)"
vgpio_sync set3
kv get3b "$(gpioget "$C" 3 2>&1)"

# Outputs: released at once, then held until killed.
gpioset "$C" 1=1; kv set1.rc $?
gpioset --mode=signal "$C" 0=1 &
P=$!
vgpio_sync held0
kill $P; wait $P
vgpio_sync released0

# Edge interrupts: the host waits for the device to see SET_IRQ_TYPE, then drives the edge.
monitor rise4 --num-events=1 --rising-edge "$C" 4
vgpio_sync arm-rise4
finish rise4
vgpio_sync after-rise4

monitor fall5 --num-events=1 --falling-edge "$C" 5
vgpio_sync arm-fall5
finish fall5
vgpio_sync after-fall5

# EDGE_BOTH: one rising, then one falling (separate runs, so the kernel reads a settled level for the edge kind).
monitor both6a --num-events=1 "$C" 6
vgpio_sync arm-both6-rise
finish both6a
monitor both6b --num-events=1 "$C" 6
vgpio_sync arm-both6-fall
finish both6b
# A pulse while the line is masked: the second edge is latched and delivered on re-unmask (2 events).
monitor both6c --num-events=2 "$C" 6
vgpio_sync arm-both6-pulse
finish both6c
vgpio_sync after-both6

# Level interrupts through vgpio_level.ko (the GPIO uAPI cannot request level triggers).
insmod /lib/modules/vgpio_level.ko line=7 trigger=high limit=3; kv lvlhigh.load $?
vgpio_sync arm-level-high
kv lvlhigh.count "$(cat /sys/module/vgpio_level/parameters/count)"
rmmod vgpio_level; kv lvlhigh.unload $?
vgpio_sync pre-level-low
insmod /lib/modules/vgpio_level.ko line=7 trigger=low limit=2; kv lvllow.load $?
i=0
while [ "$(cat /sys/module/vgpio_level/parameters/count)" -lt 2 ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i + 1)); done
kv lvllow.count "$(cat /sys/module/vgpio_level/parameters/count)"
vgpio_sync post-level-low
rmmod vgpio_level; kv lvllow.unload $?
kv finished yes
