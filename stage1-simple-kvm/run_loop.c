/*
 * run_loop.c - KVM_RUN, the exit dispatch, exit counting and the failure report.
 */
#include "run_loop.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>

static const char *const exit_names[] = {
	[KVM_EXIT_UNKNOWN] = "KVM_EXIT_UNKNOWN",
	[KVM_EXIT_EXCEPTION] = "KVM_EXIT_EXCEPTION",
	[KVM_EXIT_IO] = "KVM_EXIT_IO",
	[KVM_EXIT_HYPERCALL] = "KVM_EXIT_HYPERCALL",
	[KVM_EXIT_DEBUG] = "KVM_EXIT_DEBUG",
	[KVM_EXIT_HLT] = "KVM_EXIT_HLT",
	[KVM_EXIT_MMIO] = "KVM_EXIT_MMIO",
	[KVM_EXIT_IRQ_WINDOW_OPEN] = "KVM_EXIT_IRQ_WINDOW_OPEN",
	[KVM_EXIT_SHUTDOWN] = "KVM_EXIT_SHUTDOWN",
	[KVM_EXIT_FAIL_ENTRY] = "KVM_EXIT_FAIL_ENTRY",
	[KVM_EXIT_INTR] = "KVM_EXIT_INTR",
	[KVM_EXIT_SET_TPR] = "KVM_EXIT_SET_TPR",
	[KVM_EXIT_TPR_ACCESS] = "KVM_EXIT_TPR_ACCESS",
	[KVM_EXIT_NMI] = "KVM_EXIT_NMI",
	[KVM_EXIT_INTERNAL_ERROR] = "KVM_EXIT_INTERNAL_ERROR",
	[KVM_EXIT_SYSTEM_EVENT] = "KVM_EXIT_SYSTEM_EVENT",
	[KVM_EXIT_IOAPIC_EOI] = "KVM_EXIT_IOAPIC_EOI",
	[KVM_EXIT_X86_RDMSR] = "KVM_EXIT_X86_RDMSR",
	[KVM_EXIT_X86_WRMSR] = "KVM_EXIT_X86_WRMSR",
	[KVM_EXIT_DIRTY_RING_FULL] = "KVM_EXIT_DIRTY_RING_FULL",
	[KVM_EXIT_X86_BUS_LOCK] = "KVM_EXIT_X86_BUS_LOCK",
	[KVM_EXIT_NOTIFY] = "KVM_EXIT_NOTIFY",
};

const char *exit_reason_name(uint32_t reason)
{
	if (reason < sizeof(exit_names) / sizeof(exit_names[0]) && exit_names[reason])
		return exit_names[reason];
	return "unknown exit reason";
}

static void count_exit(struct exit_stats *stats, const struct kvm_run *run)
{
	stats->total++;
	stats->by_reason[run->exit_reason < EXIT_REASON_SLOTS ? run->exit_reason : 0]++;
	if (run->exit_reason == KVM_EXIT_IO) {
		if (run->io.direction == KVM_EXIT_IO_OUT)
			stats->io_out++;
		else
			stats->io_in++;
	}
}

static enum vcpu_status report_failure(struct vcpu *vcpu, const char *what)
{
	fprintf(stderr, "%s: %s (%s)\n", vcpu->vm->name, what,
		exit_reason_name(vcpu->run->exit_reason));
	vcpu_dump_state(vcpu);
	return VCPU_FAILED;
}

/*
 * KVM_EXIT_IO: the data of all `count` elements sits inside the kvm_run page at data_offset.
 * For IN we fill it and KVM copies it into the guest's register or memory on the next KVM_RUN.
 */
static enum vcpu_status handle_port_io(struct vcpu *vcpu, const struct exit_handlers *h)
{
	struct kvm_run *run = vcpu->run;
	bool out = run->io.direction == KVM_EXIT_IO_OUT;
	uint8_t *data = (uint8_t *)run + run->io.data_offset;

	for (uint32_t i = 0; i < run->io.count; i++, data += run->io.size) {
		int err = h->pio ? h->pio(h->ctx, vcpu, run->io.port, out, data, run->io.size)
				 : -ENOENT;
		if (err == -ENOENT) {
			fprintf(stderr, "%s: %s of %u byte(s) to port 0x%x: no device there\n",
				vcpu->vm->name, out ? "out" : "in", run->io.size, run->io.port);
			return report_failure(vcpu, "unhandled port I/O");
		}
		if (err == EXIT_HANDLER_STOP)
			return VCPU_STOPPED;
		if (err)
			return report_failure(vcpu, "port I/O handler failed");
	}
	return VCPU_RUNNING;
}

static enum vcpu_status handle_mmio(struct vcpu *vcpu, const struct exit_handlers *h)
{
	struct kvm_run *run = vcpu->run;
	int err = h->mmio ? h->mmio(h->ctx, vcpu, run->mmio.phys_addr, run->mmio.is_write,
				    run->mmio.data, run->mmio.len)
			  : -ENOENT;
	if (err == -ENOENT) {
		fprintf(stderr, "%s: MMIO %s of %u byte(s) at 0x%llx: no RAM or device there\n",
			vcpu->vm->name, run->mmio.is_write ? "write" : "read", run->mmio.len,
			(unsigned long long)run->mmio.phys_addr);
		return report_failure(vcpu, "unhandled MMIO");
	}
	if (err == EXIT_HANDLER_STOP)
		return VCPU_STOPPED;
	return err ? report_failure(vcpu, "MMIO handler failed") : VCPU_RUNNING;
}

static enum vcpu_status report_internal_error(struct vcpu *vcpu)
{
	fprintf(stderr, "%s: KVM internal error, suberror %u%s\n", vcpu->vm->name,
		vcpu->run->internal.suberror,
		vcpu->run->internal.suberror == KVM_INTERNAL_ERROR_EMULATION
			? " (KVM could not emulate an instruction)" : "");
	return report_failure(vcpu, "internal error");
}

enum vcpu_status vcpu_step(struct vcpu *vcpu, struct exit_stats *stats,
			   const struct exit_handlers *handlers)
{
	struct kvm_run *run = vcpu->run;

	if (ioctl(vcpu->fd, KVM_RUN, 0) < 0) {
		/* EINTR: a signal arrived (or immediate_exit was set) before or during the run. */
		if (errno == EINTR || errno == EAGAIN) {
			run->immediate_exit = 0;
			return VCPU_INTERRUPTED;
		}
		fprintf(stderr, "%s: KVM_RUN failed: %s\n", vcpu->vm->name, strerror(errno));
		return VCPU_FAILED;
	}
	count_exit(stats, run);

	switch (run->exit_reason) {
	case KVM_EXIT_HLT:
		return VCPU_HALTED;
	case KVM_EXIT_IO:
		return handle_port_io(vcpu, handlers);
	case KVM_EXIT_MMIO:
		return handle_mmio(vcpu, handlers);
	case KVM_EXIT_INTR:
		return VCPU_INTERRUPTED;
	case KVM_EXIT_SHUTDOWN:
		if (handlers->shutdown && handlers->shutdown(handlers->ctx, vcpu) == EXIT_HANDLER_STOP)
			return VCPU_STOPPED;
		return report_failure(vcpu, "triple fault: the guest shut down");
	case KVM_EXIT_FAIL_ENTRY:
		fprintf(stderr, "%s: hardware entry failure reason 0x%llx\n", vcpu->vm->name,
			(unsigned long long)run->fail_entry.hardware_entry_failure_reason);
		return report_failure(vcpu, "the CPU refused to enter the guest");
	case KVM_EXIT_INTERNAL_ERROR:
		return report_internal_error(vcpu);
	case KVM_EXIT_SYSTEM_EVENT:
		return report_failure(vcpu, "system event (reset or shutdown request)");
	default:
		return report_failure(vcpu, "unexpected exit");
	}
}

enum vcpu_status vcpu_run_until_stop(struct vcpu *vcpu, struct exit_stats *stats,
				     const struct exit_handlers *handlers)
{
	enum vcpu_status status;
	do
		status = vcpu_step(vcpu, stats, handlers);
	while (status == VCPU_RUNNING || status == VCPU_INTERRUPTED);
	return status;
}

void exit_stats_print(const struct exit_stats *stats, FILE *f)
{
	fprintf(f, "exits: total=%llu", (unsigned long long)stats->total);
	for (int r = 0; r < EXIT_REASON_SLOTS; r++) {
		if (!stats->by_reason[r])
			continue;
		/* "KVM_EXIT_IO" -> "io" */
		const char *name = exit_reason_name(r);
		fputc(' ', f);
		for (const char *p = name + (strncmp(name, "KVM_EXIT_", 9) ? 0 : 9); *p; p++)
			fputc(*p >= 'A' && *p <= 'Z' ? *p - 'A' + 'a' : *p, f);
		fprintf(f, "=%llu", (unsigned long long)stats->by_reason[r]);
		if (r == KVM_EXIT_IO)
			fprintf(f, " (in=%llu out=%llu)", (unsigned long long)stats->io_in,
				(unsigned long long)stats->io_out);
	}
	fputc('\n', f);
}

static void dump_segment(const char *name, const struct kvm_segment *s)
{
	fprintf(stderr, "  %s sel=%04x base=%016llx limit=%08x type=%x p=%u dpl=%u db=%u l=%u g=%u\n",
		name, s->selector, (unsigned long long)s->base, s->limit, s->type, s->present,
		s->dpl, s->db, s->l, s->g);
}

void vcpu_dump_state(struct vcpu *vcpu)
{
	struct kvm_regs r;
	struct kvm_sregs s;

	if (ioctl(vcpu->fd, KVM_GET_REGS, &r) < 0 || ioctl(vcpu->fd, KVM_GET_SREGS, &s) < 0) {
		fprintf(stderr, "  (registers unavailable: %s)\n", strerror(errno));
		return;
	}
	fprintf(stderr, "  rip=%016llx rsp=%016llx rflags=%016llx\n", r.rip, r.rsp, r.rflags);
	fprintf(stderr, "  rax=%016llx rbx=%016llx rcx=%016llx rdx=%016llx\n", r.rax, r.rbx,
		r.rcx, r.rdx);
	fprintf(stderr, "  rsi=%016llx rdi=%016llx rbp=%016llx\n", r.rsi, r.rdi, r.rbp);
	fprintf(stderr, "  cr0=%016llx cr2=%016llx cr3=%016llx cr4=%016llx efer=%016llx\n",
		s.cr0, s.cr2, s.cr3, s.cr4, s.efer);
	dump_segment("cs", &s.cs);
	dump_segment("ds", &s.ds);
	dump_segment("ss", &s.ss);
	fprintf(stderr, "  gdt base=%016llx limit=%04x  idt base=%016llx limit=%04x\n",
		s.gdt.base, s.gdt.limit, s.idt.base, s.idt.limit);
}

int debug_console_pio(void *ctx, struct vcpu *vcpu, uint16_t port, bool out, uint8_t *data,
		      unsigned size)
{
	(void)ctx;
	(void)vcpu;
	if (port != DEBUG_CONSOLE_PORT)
		return -ENOENT;
	if (out) {
		fwrite(data, 1, size, stdout);
		if (data[0] == '\n')
			fflush(stdout);
	} else {
		memset(data, DEBUG_CONSOLE_PORT, size);   /* reads back 0xE9, as Bochs does */
	}
	return 0;
}
