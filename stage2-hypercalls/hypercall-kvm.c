/*
 * hypercall-kvm.c - stage 2: a guest that asks its hypervisor for services.
 *
 *   ./hypercall-kvm ../guests/stage2/demo.bin
 *
 * Everything of stage 1 is reused as it is: the options and boot sequence (runner.c) and
 * the run loop (run_loop.c). What is new is one pio handler, hypercall_pio(), which turns
 * port I/O to 0x500..0x5ff into calls (hypercall_host.c) and leaves port 0xE9 to stage 1's
 * console. The guest gets its RAM size in RDI, as from a boot loader, and halts with the
 * number of its own checks that failed in RAX.
 *
 * Exit status: 0 the guest halted with 0 in RAX; 1 it halted with another value, or failed
 * (triple fault, an exit nobody handles); 2 bad command line or input.
 */
#include <stdio.h>
#include <sys/ioctl.h>

#include "hypercall_host.h"
#include "run_loop.h"
#include "runner.h"

/* 0 when the guest halted with RAX = 0: all of its checks passed. */
static int guest_verdict(struct vcpu *vcpu, enum vcpu_status status)
{
	struct kvm_regs regs;
	if (status != VCPU_HALTED)
		return 1;
	if (ioctl(vcpu->fd, KVM_GET_REGS, &regs) < 0) {
		perror("KVM_GET_REGS");
		return 1;
	}
	printf("guest halted: rax=%llu\n", regs.rax);
	if (regs.rax) {
		fprintf(stderr, "the guest reports %llu failed check(s)\n", regs.rax);
		return 1;
	}
	return 0;
}

/* Everything one run of the program owns. */
struct machine {
	struct runner_options opt;
	struct vm vm;
	struct vcpu vcpu;
	struct exit_stats stats;
	struct hypercall_host hc;
};

/* Parse the command line, boot, ready the vCPU for hypercalls. 0 or an exit status. */
static int start(struct machine *m, int argc, char **argv)
{
	int next = runner_parse(&m->opt, argc, argv, NULL);
	if (next >= 0 && next < argc)
		fprintf(stderr, "%s: unexpected argument '%s'\n", argv[0], argv[next]);
	if (next < 0 || next < argc || runner_boot(&m->opt, &m->vm, &m->vcpu))
		return 2;
	int err = hypercall_host_init(&m->hc, &m->vcpu, &m->stats);
	if (!err)
		err = hypercall_guest_args(&m->vcpu, 0);
	if (err) {
		fprintf(stderr, "%s: cannot set up the vCPU for hypercalls: %s\n", m->opt.kvm_path,
			hypercall_host_strerror(err));
		vcpu_destroy(&m->vcpu);
		vm_destroy(&m->vm);
		return 2;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static struct machine m;   /* zeroed: the exit counts start at 0 */
	const struct exit_handlers handlers = { .pio = hypercall_pio, .ctx = &m.hc };

	setvbuf(stdout, NULL, _IOLBF, 0);   /* host lines and error lines in the order made */
	int rc = start(&m, argc, argv);
	if (rc)
		return rc;
	printf("hypercall-kvm: %s mode, %llu KiB RAM, guest %s\n", cpu_mode_name(m.opt.mode),
	       (unsigned long long)(m.opt.mem_size >> 10), m.opt.guest_path);
	enum vcpu_status status = vcpu_run_until_stop(&m.vcpu, &m.stats, &handlers);
	fflush(stdout);

	rc = guest_verdict(&m.vcpu, status);
	printf("hypercalls: %llu made, %llu refused\n", (unsigned long long)m.hc.calls,
	       (unsigned long long)m.hc.errors);
	exit_stats_print(&m.stats, stdout);
	vcpu_destroy(&m.vcpu);
	vm_destroy(&m.vm);
	return rc;
}
