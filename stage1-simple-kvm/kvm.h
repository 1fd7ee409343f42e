/*
 * kvm.h - the KVM API in the fewest calls that give a running virtual CPU.
 *
 * KVM is a set of ioctl()s on three kinds of file descriptor:
 *   /dev/kvm        the system:   API version, capabilities, "create a VM"
 *   the VM fd       one machine:  memory slots, "create a vCPU"
 *   the vCPU fd     one CPU:      registers, KVM_RUN
 * and one shared page per vCPU (struct kvm_run) through which KVM_RUN reports why it exited.
 * The kernel's Documentation/virt/kvm/api.rst is the reference for every call used here.
 */
#ifndef KVM_H
#define KVM_H

#include <linux/kvm.h>
#include <stdint.h>

#include "guest_memory.h"

struct vm {
	const char *name;         /* for messages: "guest", or "Neo" in stage 3 */
	int kvm_fd;               /* /dev/kvm */
	int vm_fd;                /* from KVM_CREATE_VM */
	int vcpu_mmap_size;       /* size of each vCPU's struct kvm_run mapping */
	struct guest_memory mem;  /* RAM at guest-physical 0 (memory slot 0) */
};

struct vcpu {
	int id;
	int fd;                   /* from KVM_CREATE_VCPU */
	struct kvm_run *run;      /* shared with the kernel: exit reason and its data */
	struct vm *vm;
};

/*
 * Open the KVM device at path, check its API version and the capabilities we rely on,
 * create a VM and give it ram_size bytes of RAM at guest-physical 0.
 * Returns 0, or a negative errno with a one-line reason in why[] (it names the path).
 */
int vm_create(struct vm *vm, const char *kvm_path, uint64_t ram_size, char *why, int why_len);
void vm_destroy(struct vm *vm);

/*
 * CPUID is what the guest learns about its processor. KVM_GET_SUPPORTED_CPUID says what KVM
 * can offer; a VMM may edit that table (stage 4 adds APIC IDs and the hypervisor bit) before
 * KVM_SET_CPUID2 gives it to a vCPU. vcpu_create() gives every vCPU the table as it is.
 */
#define CPUID_MAX_ENTRIES 256
struct cpuid_table {
	struct kvm_cpuid2 head;
	struct kvm_cpuid_entry2 entries[CPUID_MAX_ENTRIES];
};

/* Fill table with KVM's supported CPUID. 0 or a negative errno. */
int vm_supported_cpuid(struct vm *vm, struct cpuid_table *table);
/* Give the vCPU this CPUID. 0 or a negative errno. */
int vcpu_set_cpuid(struct vcpu *vcpu, struct cpuid_table *table);

/* Create vCPU number id, map its kvm_run page, give it the supported CPUID. */
int vcpu_create(struct vm *vm, struct vcpu *vcpu, int id);
void vcpu_destroy(struct vcpu *vcpu);

#endif
