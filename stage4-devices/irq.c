/*
 * irq.c - create KVM's in-kernel interrupt controllers and PIT; drive interrupt lines, by
 * ioctl (KVM_IRQ_LINE) or by eventfd (KVM_IRQFD with resample).
 * See irq.h for what each chip does. Reference: Documentation/virt/kvm/api.rst,
 * KVM_CREATE_IRQCHIP, KVM_CREATE_PIT2, KVM_IRQ_LINE, KVM_SET_TSS_ADDR, KVM_IRQFD.
 */
#include "irq.h"

#include <errno.h>
#include <linux/kvm.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <unistd.h>

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

int kvm_irqfd(int vm_fd, int fd, unsigned gsi, int resample_fd, bool on)
{
	struct kvm_irqfd f = { .fd = fd, .gsi = gsi };
	if (!on) {
		f.flags = KVM_IRQFD_FLAG_DEASSIGN;
	} else if (resample_fd >= 0) {
		f.flags = KVM_IRQFD_FLAG_RESAMPLE;
		f.resamplefd = resample_fd;
	}
	return ioctl(vm_fd, KVM_IRQFD, &f) < 0 ? -errno : 0;
}

void irqfd_line_init(struct irqfd_line *l)
{
	*l = (struct irqfd_line){ .vm_fd = -1, .fd = -1, .resample_fd = -1 };
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

int irqfd_line_on(struct irqfd_line *l, int vm_fd, unsigned gsi)
{
	irqfd_line_init(l);
	l->vm_fd = vm_fd;
	l->gsi = gsi;
	l->fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	l->resample_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	int err = l->fd < 0 || l->resample_fd < 0 ? -errno
		  : kvm_irqfd(vm_fd, l->fd, gsi, l->resample_fd, true);
	if (err) {
		close_fd(&l->fd);
		close_fd(&l->resample_fd);
	}
	return err;
}

void irqfd_line_off(struct irqfd_line *l)
{
	if (l->fd < 0)
		return;
	kvm_irqfd(l->vm_fd, l->fd, l->gsi, -1, false);
	close_fd(&l->fd);
	close_fd(&l->resample_fd);
	l->high = false;
}

bool irqfd_line_raise(struct irqfd_line *l)
{
	uint64_t one = 1;
	if (l->fd < 0 || l->high)
		return false;
	if (write(l->fd, &one, sizeof(one)) < 0) {
		perror("irq: irqfd");
		return false;
	}
	l->high = true;
	return true;
}

bool irqfd_line_resampled(struct irqfd_line *l)
{
	uint64_t n;
	if (l->resample_fd < 0 || read(l->resample_fd, &n, sizeof(n)) != sizeof(n))
		return false;   /* (EAGAIN: nothing new) */
	l->high = false;
	return true;
}

void irqfd_line_lower(struct irqfd_line *l)
{
	if (l->fd < 0 || !l->high)
		return;
	int err = kvm_irqfd(l->vm_fd, l->fd, l->gsi, -1, false);
	if (!err)
		err = kvm_irqfd(l->vm_fd, l->fd, l->gsi, l->resample_fd, true);
	if (err && err != -EBADF)   /* (EBADF: no VM, as in the unit tests) */
		fprintf(stderr, "irq: KVM_IRQFD on GSI %u again: %s\n", l->gsi, strerror(-err));
	irqfd_line_resampled(l);   /* (a resample that came meanwhile says nothing new) */
	l->high = false;
}
