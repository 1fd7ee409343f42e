/*
 * irq.c - create KVM's in-kernel interrupt controllers and PIT; drive interrupt lines.
 * See irq.h for what each chip does. Reference: Documentation/virt/kvm/api.rst,
 * KVM_CREATE_IRQCHIP, KVM_CREATE_PIT2, KVM_IRQ_LINE, KVM_SET_TSS_ADDR.
 */
#include "irq.h"

#include <errno.h>
#include <linux/kvm.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>

/* The VMX helper pages' addresses (VMX_TSS_GPA, VMX_IDENTITY_MAP_GPA) are in irq.h. */
int irqchip_create(int vm_fd, const char **what)
{
	uint64_t identity = VMX_IDENTITY_MAP_GPA;

	*what = "KVM_SET_TSS_ADDR";
	if (ioctl(vm_fd, KVM_SET_TSS_ADDR, (unsigned long)VMX_TSS_GPA) < 0)
		return -errno;
	*what = "KVM_SET_IDENTITY_MAP_ADDR";
	if (ioctl(vm_fd, KVM_SET_IDENTITY_MAP_ADDR, &identity) < 0 && errno != ENOTTY &&
	    errno != EINVAL)
		return -errno;
	*what = "KVM_CREATE_IRQCHIP";
	if (ioctl(vm_fd, KVM_CREATE_IRQCHIP, 0) < 0)
		return -errno;
	/*
	 * KVM_PIT_SPEAKER_DUMMY also makes KVM answer port 0x61, whose bit 5 shows PIT
	 * channel 2's output: Linux's PIT calibration loop polls it.
	 */
	struct kvm_pit_config pit = { .flags = KVM_PIT_SPEAKER_DUMMY };
	*what = "KVM_CREATE_PIT2";
	if (ioctl(vm_fd, KVM_CREATE_PIT2, &pit) < 0)
		return -errno;
	return 0;
}

void irq_line_init(struct irq_line *line, int vm_fd, unsigned gsi)
{
	line->vm_fd = vm_fd;
	line->gsi = gsi;
	line->level = false;
}

void irq_line_set(struct irq_line *line, bool level)
{
	if (line->level == level || line->vm_fd < 0)
		return;
	line->level = level;
	struct kvm_irq_level irq = { .irq = line->gsi, .level = level };
	if (ioctl(line->vm_fd, KVM_IRQ_LINE, &irq) < 0)
		fprintf(stderr, "irq: KVM_IRQ_LINE %u: %s\n", line->gsi, strerror(errno));
}
