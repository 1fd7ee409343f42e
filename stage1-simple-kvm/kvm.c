/*
 * kvm.c - open /dev/kvm, check it, create a VM with RAM, create vCPUs.
 *
 * Every step names the ioctl it makes so that the flowchart in docs/stage1-flow.dot can be
 * read beside this file.
 */
#include "kvm.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

/* The capabilities this course depends on, checked up front so a missing one is named. */
static const struct {
	int cap;
	const char *name;
} required_caps[] = {
	{ KVM_CAP_USER_MEMORY, "KVM_CAP_USER_MEMORY" },       /* RAM is our mmap() */
	{ KVM_CAP_IMMEDIATE_EXIT, "KVM_CAP_IMMEDIATE_EXIT" }, /* stage 3 kicks vCPUs */
};

static int fail(char *why, int why_len, int err, const char *fmt, const char *arg)
{
	char msg[200];
	snprintf(msg, sizeof(msg), fmt, arg);
	snprintf(why, why_len, "%s: %s", msg, strerror(err));
	return -err;
}

static int check_kvm_device(int kvm_fd, const char *path, char *why, int why_len)
{
	/* Any ioctl on a file that is not KVM fails with ENOTTY: that is how /dev/null is told. */
	int version = ioctl(kvm_fd, KVM_GET_API_VERSION, 0);
	if (version < 0)
		return fail(why, why_len, errno, "%s: not a KVM device (KVM_GET_API_VERSION)", path);
	if (version != KVM_API_VERSION) {
		snprintf(why, why_len, "%s: KVM API version %d, this program needs %d", path,
			 version, KVM_API_VERSION);
		return -EINVAL;
	}
	for (size_t i = 0; i < sizeof(required_caps) / sizeof(required_caps[0]); i++) {
		if (ioctl(kvm_fd, KVM_CHECK_EXTENSION, required_caps[i].cap) <= 0) {
			snprintf(why, why_len, "%s: KVM lacks %s", path, required_caps[i].name);
			return -ENOTSUP;
		}
	}
	return 0;
}

static int add_ram_slot(struct vm *vm)
{
	struct kvm_userspace_memory_region region = {
		.slot = 0,
		.guest_phys_addr = 0,
		.memory_size = vm->mem.size,
		.userspace_addr = (uint64_t)(uintptr_t)vm->mem.host,
	};
	return ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &region) < 0 ? -errno : 0;
}

int vm_create(struct vm *vm, const char *kvm_path, uint64_t ram_size, char *why, int why_len)
{
	int err;

	memset(vm, 0, sizeof(*vm));
	vm->name = "guest";
	vm->kvm_fd = vm->vm_fd = -1;

	vm->kvm_fd = open(kvm_path, O_RDWR | O_CLOEXEC);
	if (vm->kvm_fd < 0)
		return fail(why, why_len, errno, "%s: cannot open", kvm_path);
	err = check_kvm_device(vm->kvm_fd, kvm_path, why, why_len);
	if (err)
		goto out;

	vm->vcpu_mmap_size = ioctl(vm->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (vm->vcpu_mmap_size <= 0) {
		err = fail(why, why_len, errno, "%s: KVM_GET_VCPU_MMAP_SIZE", kvm_path);
		goto out;
	}
	vm->vm_fd = ioctl(vm->kvm_fd, KVM_CREATE_VM, 0);
	if (vm->vm_fd < 0) {
		err = fail(why, why_len, errno, "%s: KVM_CREATE_VM", kvm_path);
		goto out;
	}
	err = guest_memory_alloc(&vm->mem, ram_size);
	if (err) {
		fail(why, why_len, -err, "cannot allocate %s of guest RAM", "the requested size");
		goto out;
	}
	err = add_ram_slot(vm);
	if (err) {
		fail(why, why_len, -err, "%s: KVM_SET_USER_MEMORY_REGION", kvm_path);
		goto out;
	}
	return 0;
out:
	vm_destroy(vm);
	return err;
}

void vm_destroy(struct vm *vm)
{
	guest_memory_free(&vm->mem);
	if (vm->vm_fd >= 0)
		close(vm->vm_fd);
	if (vm->kvm_fd >= 0)
		close(vm->kvm_fd);
	vm->vm_fd = vm->kvm_fd = -1;
}

int vm_supported_cpuid(struct vm *vm, struct cpuid_table *table)
{
	table->head.nent = CPUID_MAX_ENTRIES;
	return ioctl(vm->kvm_fd, KVM_GET_SUPPORTED_CPUID, table) < 0 ? -errno : 0;
}

int vcpu_set_cpuid(struct vcpu *vcpu, struct cpuid_table *table)
{
	return ioctl(vcpu->fd, KVM_SET_CPUID2, table) < 0 ? -errno : 0;
}

/*
 * Give the vCPU every CPUID feature KVM supports. Without KVM_SET_CPUID2 the guest sees an
 * almost empty CPUID and KVM refuses states that need a feature bit, such as EFER.LME.
 */
static int set_supported_cpuid(struct vm *vm, struct vcpu *vcpu)
{
	struct cpuid_table table;
	int err = vm_supported_cpuid(vm, &table);
	return err ? err : vcpu_set_cpuid(vcpu, &table);
}

int vcpu_create(struct vm *vm, struct vcpu *vcpu, int id)
{
	int err;

	memset(vcpu, 0, sizeof(*vcpu));
	vcpu->id = id;
	vcpu->vm = vm;
	vcpu->fd = ioctl(vm->vm_fd, KVM_CREATE_VCPU, id);
	if (vcpu->fd < 0)
		return -errno;
	vcpu->run = mmap(NULL, vm->vcpu_mmap_size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu->fd, 0);
	if (vcpu->run == MAP_FAILED) {
		err = -errno;
		vcpu->run = NULL;
		goto out;
	}
	err = set_supported_cpuid(vm, vcpu);
	if (err)
		goto out;
	return 0;
out:
	vcpu_destroy(vcpu);
	return err;
}

void vcpu_destroy(struct vcpu *vcpu)
{
	if (vcpu->run)
		munmap(vcpu->run, vcpu->vm->vcpu_mmap_size);
	if (vcpu->fd >= 0)
		close(vcpu->fd);
	vcpu->run = NULL;
	vcpu->fd = -1;
}
