/*
 * vcpu_paging.c - a vCPU's paging registers and CPUID facts (see vcpu_paging.h).
 * CPUID leaves per the Intel SDM vol. 2, CPUID: 0x80000001 EDX bit 26 "1-GByte pages",
 * 0x80000008 EAX bits 7..0 "physical address bits".
 */
#include "vcpu_paging.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/ioctl.h>

#define CPUID_EXT_FEATURES   0x80000001u
#define CPUID_EXT_GBPAGES    (1u << 26)
#define CPUID_ADDRESS_SIZES  0x80000008u

/* KVM_GET_CPUID2 fails with E2BIG when the array is too small: 256 entries is plenty. */
#define CPUID_MAX_ENTRIES 256

static void read_facts(const struct kvm_cpuid2 *cpuid, struct paging_regs *regs)
{
	regs->gbpages = false;
	regs->maxphyaddr = 36;   /* the SDM's value when leaf 0x80000008 is missing */
	for (unsigned i = 0; i < cpuid->nent; i++) {
		const struct kvm_cpuid_entry2 *e = &cpuid->entries[i];
		if (e->function == CPUID_EXT_FEATURES)
			regs->gbpages = e->edx & CPUID_EXT_GBPAGES;
		else if (e->function == CPUID_ADDRESS_SIZES)
			regs->maxphyaddr = e->eax & 0xff;
	}
}

int vcpu_paging_init(struct vcpu *vcpu, struct paging_regs *regs)
{
	struct kvm_cpuid2 *cpuid = calloc(1, sizeof(*cpuid) +
					  CPUID_MAX_ENTRIES * sizeof(cpuid->entries[0]));
	if (!cpuid)
		return -ENOMEM;
	cpuid->nent = CPUID_MAX_ENTRIES;
	int err = ioctl(vcpu->fd, KVM_GET_CPUID2, cpuid) < 0 ? -errno : 0;
	if (!err)
		read_facts(cpuid, regs);
	free(cpuid);
	return err;
}

int vcpu_paging_update(struct vcpu *vcpu, struct paging_regs *regs)
{
	struct kvm_sregs sregs;
	if (ioctl(vcpu->fd, KVM_GET_SREGS, &sregs) < 0)
		return -errno;
	regs->cr0 = sregs.cr0;
	regs->cr3 = sregs.cr3;
	regs->cr4 = sregs.cr4;
	regs->efer = sregs.efer;
	return 0;
}
