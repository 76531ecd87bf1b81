// SPDX-License-Identifier: MIT
/*
 * vgpio_level: test helper for the VirtioGpio real-guest tests.
 *
 * The GPIO character device (and so libgpiod's gpiomon) can only request EDGE events, so a
 * LEVEL interrupt of gpio-virtio cannot be exercised from userspace. This module requests the
 * interrupt of one line of the virtio-gpio chip with IRQF_TRIGGER_HIGH or IRQF_TRIGGER_LOW,
 * which makes gpio-virtio send SET_IRQ_TYPE(LEVEL_HIGH/LEVEL_LOW) and queue the eventq pair.
 * Every interrupt increments the read-only parameter "count"; after "limit" interrupts the
 * handler disables the interrupt (gpio-virtio then sends SET_IRQ_TYPE(NONE)), so a level that
 * stays active cannot storm. Unloading the module frees the interrupt and the line.
 *
 *   insmod vgpio_level.ko line=7 trigger=high limit=3
 *   cat /sys/module/vgpio_level/parameters/count
 */
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/interrupt.h>
#include <linux/gpio.h>
#include <linux/gpio/driver.h>
#include <linux/device.h>
#include <linux/string.h>

static int line;
module_param(line, int, 0444);
MODULE_PARM_DESC(line, "line offset on the virtio-gpio chip");
static char *trigger = "high";
module_param(trigger, charp, 0444);
MODULE_PARM_DESC(trigger, "high or low");
static int limit = 3;
module_param(limit, int, 0444);
MODULE_PARM_DESC(limit, "disable the interrupt after this many");
static int count;
module_param(count, int, 0444);
MODULE_PARM_DESC(count, "interrupts received");
static int disabled;
module_param(disabled, int, 0444);
MODULE_PARM_DESC(disabled, "1 once the handler disabled the interrupt");

static unsigned int gpio_number;
static int irq_number = -1;

static int match_virtio_chip(struct gpio_chip *gc, void *data)
{
	return gc->parent && gc->parent->driver && gc->parent->driver->name &&
	       strcmp(gc->parent->driver->name, "gpio_virtio") == 0;
}

static irqreturn_t vgpio_level_thread(int irq, void *dev_id)
{
	count++;
	if (count >= limit && !disabled) {
		disabled = 1;
		disable_irq_nosync(irq);
	}
	return IRQ_HANDLED;
}

static int __init vgpio_level_init(void)
{
	struct gpio_chip *gc;
	unsigned long flags;
	int ret;

	if (strcmp(trigger, "high") == 0)
		flags = IRQF_TRIGGER_HIGH;
	else if (strcmp(trigger, "low") == 0)
		flags = IRQF_TRIGGER_LOW;
	else
		return -EINVAL;

	gc = gpiochip_find(NULL, match_virtio_chip);
	if (!gc) {
		pr_err("vgpio_level: no gpio_virtio chip\n");
		return -ENODEV;
	}
	if (line < 0 || line >= gc->ngpio)
		return -EINVAL;
	gpio_number = gc->base + line;

	ret = gpio_request_one(gpio_number, GPIOF_IN, "vgpio_level");
	if (ret) {
		pr_err("vgpio_level: gpio_request %u: %d\n", gpio_number, ret);
		return ret;
	}
	irq_number = gpio_to_irq(gpio_number);
	if (irq_number < 0) {
		pr_err("vgpio_level: gpio_to_irq: %d\n", irq_number);
		gpio_free(gpio_number);
		return irq_number;
	}
	ret = request_threaded_irq(irq_number, NULL, vgpio_level_thread, flags | IRQF_ONESHOT,
				   "vgpio_level", &gpio_number);
	if (ret) {
		pr_err("vgpio_level: request_irq %d: %d\n", irq_number, ret);
		gpio_free(gpio_number);
		return ret;
	}
	return 0;
}

static void __exit vgpio_level_exit(void)
{
	free_irq(irq_number, &gpio_number);
	gpio_free(gpio_number);
}

module_init(vgpio_level_init);
module_exit(vgpio_level_exit);
MODULE_LICENSE("Dual MIT/GPL");
MODULE_DESCRIPTION("VirtioGpio test helper: level interrupt on a virtio-gpio line");
