/*
 * fuzz_hypercall.c - stage 2's hypercall decoder (hypercall_host.c): any port of 0x500-0x5ff
 * and the debug console, any size and direction, the split 64-bit arguments (HC_HIGH), the
 * one-exit register convention (RAX/RBX in a kvm_run page in plain memory).
 *
 * Teaches: the port number, the access size and the registers are all the guest's choice.
 * Calls that take a guest pointer stop here at KVM_GET_SREGS (no vCPU behind fd -1): their
 * walk through the guest's page tables is fuzz_page_walk's.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz_ops.h"
#include "hypercall.h"
#include "hypercall_host.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct vm vm;
	static struct vcpu vcpu;
	static struct kvm_run run;
	static struct exit_stats stats;
	static struct hypercall_host hc;
	struct fuzz_input in = { data, size };

	memset(&run, 0, sizeof(run));
	memset(&hc, 0, sizeof(hc));
	vm = (struct vm){ .name = "fuzz", .kvm_fd = -1, .vm_fd = -1 };
	vm.mem.host = calloc(1, 4096);
	vm.mem.size = 4096;
	vcpu = (struct vcpu){ .fd = -1, .run = &run, .vm = &vm };
	hc.stats = &stats;
	hc.quiet = true;
	run.kvm_valid_regs = KVM_SYNC_X86_REGS;
	while (in.left > 0) {
		uint16_t port = HC_PORT_BASE + fi_u8(&in);
		if ((port & 0xff) == 0xff)
			port = 0x402;   /* now and then the debug console */
		unsigned len = 1u << (fi_u8(&in) % 3);
		bool out = fi_u8(&in) & 1;
		run.s.regs.regs.rax = fi_u64(&in);
		run.s.regs.regs.rbx = fi_u64(&in);
		stats.total = fi_u64(&in);
		uint8_t bytes[4];
		u64_to_bytes(run.s.regs.regs.rax, bytes, len);
		hypercall_pio(&hc, &vcpu, port, out, bytes, len);
	}
	free(vm.mem.host);
	return 0;
}
