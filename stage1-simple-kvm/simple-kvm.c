/*
 * simple-kvm.c - stage 1: run one guest on one vCPU and check that it said hello.
 *
 *   ./simple-kvm --mode long ../guests/stage1/hello-long.bin
 *
 * The whole life of a VM in order: runner_boot() opens /dev/kvm, creates the VM, its RAM
 * and a vCPU, loads the guest and sets up the CPU mode (kvm.c, cpu_modes.c); the run loop
 * calls KVM_RUN and dispatches exits until HLT (run_loop.c). Then, like the classic KVM
 * hello-world, the host checks the value the guest left in RAX and in memory.
 *
 * Exit status: 0 the guest halted with the done value; 1 the guest failed (triple fault,
 * unhandled exit, wrong value); 2 bad command line or input.
 */
#include <stdio.h>
#include <sys/ioctl.h>

#include "cpu_modes.h"
#include "run_loop.h"
#include "runner.h"

static int check_done_value(struct vcpu *vcpu)
{
	struct kvm_regs regs;
	uint32_t *result = gpa_to_hva(&vcpu->vm->mem, RESULT_GPA, sizeof(*result));

	if (ioctl(vcpu->fd, KVM_GET_REGS, &regs) < 0) {
		perror("KVM_GET_REGS");
		return 1;
	}
	/* Real mode leaves only 16 or 32 bits meaningful: compare the low 32. */
	uint32_t rax = (uint32_t)regs.rax;
	printf("guest halted: rax=%u mem[0x%x]=%u\n", rax, RESULT_GPA, *result);
	if (rax != GUEST_DONE_VALUE || *result != GUEST_DONE_VALUE) {
		fprintf(stderr, "guest halted without the done value %d in RAX and at 0x%x\n",
			GUEST_DONE_VALUE, RESULT_GPA);
		return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct runner_options opt;
	struct vm vm;
	struct vcpu vcpu;
	struct exit_stats stats = { 0 };
	const struct exit_handlers console = { .pio = debug_console_pio };

	int next = runner_parse(&opt, argc, argv, NULL);
	if (next < 0)
		return 2;
	if (next < argc) {
		fprintf(stderr, "%s: unexpected argument '%s'\n", argv[0], argv[next]);
		return 2;
	}
	if (runner_boot(&opt, &vm, &vcpu))
		return 2;

	printf("simple-kvm: %s mode, %llu KiB RAM, guest %s\n", cpu_mode_name(opt.mode),
	       (unsigned long long)(opt.mem_size >> 10), opt.guest_path);
	fflush(stdout);
	enum vcpu_status status = vcpu_run_until_stop(&vcpu, &stats, &console);
	fflush(stdout);

	int rc = status == VCPU_HALTED ? check_done_value(&vcpu) : 1;
	exit_stats_print(&stats, stdout);
	vcpu_destroy(&vcpu);
	vm_destroy(&vm);
	return rc;
}
