/*
 * bench-hypercall.c - what a hypercall costs, next to stage 1's bare exit in the same run.
 *
 *   ./bench-hypercall ../guests/stage1/bench-out.bin ../guests/stage2/bench.bin [CALLS]
 *
 * A hypercall is one or more VM exits plus the host's work. So the reference is an exit
 * with no work at all, measured here and now on a VM of the same size: stage 1's bench-out
 * guest, an endless OUT to port 0x80 that the host ignores. Then bench.c loops on each
 * hypercall in turn, the host serving it with the real hypercall_pio() (printing nothing),
 * and each is reported as time
 * per call, exits per call and the ratio to the reference exit. Last, the two parts of a
 * pointer call that are not exits, timed in the host alone: reading the vCPU's paging
 * registers (KVM_GET_SREGS) and the page walk.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "hypercall_host.h"
#include "runner.h"
#include "vcpu_paging.h"

#define WARMUP 500

static const struct {
	const char *name, *what;
} calls[] = {   /* in the order of enum bench_call in guests/stage2/bench.c */
	{ "HC_numExits", "IN" },
	{ "HC_print32bit", "OUT + IN" },
	{ "HC_printStr", "OUT + IN, walk, copy" },
	{ "HC_gvaToHva", "OUT + IN + IN, walk" },
};

static double now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

/* Step the vCPU until *counter has grown by n. Microseconds per count, or -1. */
static double time_until(struct vcpu *vcpu, struct exit_stats *stats,
			 const struct exit_handlers *h, const uint64_t *counter, uint64_t n)
{
	uint64_t goal = *counter + n;
	double start = now_us();
	while (*counter < goal)
		if (vcpu_step(vcpu, stats, h) != VCPU_RUNNING)
			return -1;
	return (now_us() - start) / n;
}

/* Stage 1's reference: bench-out's OUT to port 0x80, answered by doing nothing. */
static int port80_ignored(void *ctx, struct vcpu *vcpu, uint16_t port, bool out, uint8_t *data,
			  unsigned size)
{
	(void)ctx, (void)vcpu, (void)out, (void)data, (void)size;
	return port == 0x80 ? 0 : -ENOENT;
}

/* Times one stage-1 I/O exit. -1 on failure. */
static double stage1_exit(struct runner_options *opt, const char *guest, long n)
{
	struct vm vm;
	struct vcpu vcpu;
	struct exit_stats stats = { 0 };
	const struct exit_handlers h = { .pio = port80_ignored };

	opt->guest_path = guest;
	if (runner_boot(opt, &vm, &vcpu))
		return -1;
	double us = time_until(&vcpu, &stats, &h, &stats.io_out, WARMUP);
	if (us >= 0)
		us = time_until(&vcpu, &stats, &h, &stats.io_out, n);
	vcpu_destroy(&vcpu);
	vm_destroy(&vm);
	return us;
}

/* Times `call` of bench.c; *exits gets the exits per call. -1 on failure. */
static double one_call(struct runner_options *opt, const char *guest, int call, long n,
		       double *exits)
{
	struct vm vm;
	struct vcpu vcpu;
	struct exit_stats stats = { 0 };
	struct hypercall_host hc;
	double us = -1;

	opt->guest_path = guest;
	if (runner_boot(opt, &vm, &vcpu))
		return -1;
	if (!hypercall_host_init(&hc, &vcpu, &stats) && !hypercall_guest_args(&vcpu, call)) {
		const struct exit_handlers h = { .pio = hypercall_pio, .ctx = &hc };
		hc.quiet = true;
		us = time_until(&vcpu, &stats, &h, &hc.calls, WARMUP);
		uint64_t before = stats.total;
		if (us >= 0)
			us = time_until(&vcpu, &stats, &h, &hc.calls, n);
		*exits = (double)(stats.total - before) / n;
		if (hc.errors)
			us = -1;   /* a refused call would time the error path */
	}
	vcpu_destroy(&vcpu);
	vm_destroy(&vm);
	return us;
}

/* The host's own work in a pointer call, without an exit: reading CR3 (and friends), walking. */
struct host_parts {
	double sregs, walk;
};

static double time_sregs(struct vcpu *vcpu, struct paging_regs *regs, long n)
{
	double start = now_us();
	for (long i = 0; i < n; i++)
		if (vcpu_paging_update(vcpu, regs))
			return -1;
	return (now_us() - start) / n;
}

/* The walk of an address in the guest image, through the host-built tables. */
static double time_walk(const struct guest_memory *mem, const struct paging_regs *regs, long n)
{
	struct page_walk w;
	uint64_t sum = 0;
	double start = now_us();
	for (long i = 0; i < n; i++)
		sum += page_walk(mem, regs, GUEST_LOAD_GPA + (i & 0xfff), &w) ? 0 : w.gpa;
	double us = (now_us() - start) / n;
	return sum ? us : -1;   /* using sum keeps the loop from being optimised away */
}

static int host_parts(struct runner_options *opt, const char *guest, long n,
		      struct host_parts *p)
{
	struct vm vm;
	struct vcpu vcpu;
	struct paging_regs regs;

	opt->guest_path = guest;
	if (runner_boot(opt, &vm, &vcpu))
		return -1;
	p->sregs = p->walk = -1;
	if (!vcpu_paging_init(&vcpu, &regs)) {
		p->sregs = time_sregs(&vcpu, &regs, n);
		p->walk = time_walk(&vm.mem, &regs, n * 100);
	}
	vcpu_destroy(&vcpu);
	vm_destroy(&vm);
	return p->sregs < 0 || p->walk < 0 ? -1 : 0;
}

static void row(const char *name, const char *what, double exits, double us, double ref)
{
	char per_call[16] = "";
	if (exits > 0)
		snprintf(per_call, sizeof(per_call), "%.0f", exits);
	printf("stage2  %-14s %-22s %5s %9.3f us %7.3fx\n", name, what, per_call, us, us / ref);
}

int main(int argc, char **argv)
{
	struct runner_options opt;
	double exits;

	int next = runner_parse(&opt, argc, argv, " HYPERCALL_GUEST [CALLS]");
	if (next < 0)
		return 2;
	const char *stage1_guest = opt.guest_path;
	const char *guest = next < argc ? argv[next] : NULL;
	long n = next + 1 < argc ? atol(argv[next + 1]) : 10000;
	if (!guest || n <= 0) {
		fprintf(stderr, "%s: give the hypercall guest and a positive number of calls\n",
			argv[0]);
		return 2;
	}

	double ref = stage1_exit(&opt, stage1_guest, n);
	if (ref < 0)
		return 1;
	printf("stage2  %-14s %-22s %5s %12s %8s\n", "call", "what", "exits", "per call",
	       "vs exit");
	row("I/O exit", "stage 1, OUT 0x80", 1, ref, ref);
	for (int call = 0; call < (int)(sizeof(calls) / sizeof(calls[0])); call++) {
		double us = one_call(&opt, guest, call, n, &exits);
		if (us < 0) {
			fprintf(stderr, "%s: %s did not run as expected\n", argv[0],
				calls[call].name);
			return 1;
		}
		row(calls[call].name, calls[call].what, exits, us, ref);
	}
	struct host_parts parts;
	if (host_parts(&opt, guest, n, &parts))
		return 1;
	row("KVM_GET_SREGS", "host only: CR3 etc.", 0, parts.sregs, ref);
	row("page walk", "host only: 2 MiB page", 0, parts.walk, ref);
	return 0;
}
