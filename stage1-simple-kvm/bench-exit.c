/*
 * bench-exit.c - what one VM exit costs.
 *
 *   ./bench-exit ../guests/stage1/bench-out.bin [EXITS]
 *
 * The guest loops on OUT to port 0x80, so every KVM_RUN returns with one KVM_EXIT_IO: the
 * time per KVM_RUN is the full round trip guest -> KVM -> this process -> guest. As the
 * reference, measured in the same run, KVM_RUN with immediate_exit set returns before
 * entering the guest at all: that is the bare cost of the ioctl. Their ratio says how much
 * of an exit is the world switch rather than the system call.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <time.h>

#include "run_loop.h"
#include "runner.h"

#define BENCH_PORT 0x80

static double now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int count_port80(void *ctx, struct vcpu *vcpu, uint16_t port, bool out, uint8_t *data,
			unsigned size)
{
	(void)ctx, (void)vcpu, (void)out, (void)data, (void)size;
	return port == BENCH_PORT ? 0 : -ENOENT;
}

static double time_io_exits(struct vcpu *vcpu, long exits)
{
	struct exit_stats stats = { 0 };
	const struct exit_handlers h = { .pio = count_port80 };
	double start = now_us();
	while ((long)stats.io_out < exits)
		if (vcpu_step(vcpu, &stats, &h) == VCPU_FAILED)
			return -1;
	return (now_us() - start) / exits;
}

static double time_bare_runs(struct vcpu *vcpu, long runs)
{
	double start = now_us();
	for (long i = 0; i < runs; i++) {
		vcpu->run->immediate_exit = 1;
		if (ioctl(vcpu->fd, KVM_RUN, 0) == 0 || errno != EINTR)
			return -1;
	}
	vcpu->run->immediate_exit = 0;
	return (now_us() - start) / runs;
}

int main(int argc, char **argv)
{
	struct runner_options opt;
	struct vm vm;
	struct vcpu vcpu;

	int next = runner_parse(&opt, argc, argv, " [EXITS]");
	if (next < 0)
		return 2;
	long exits = next < argc ? atol(argv[next]) : 20000;
	if (exits <= 0) {
		fprintf(stderr, "%s: EXITS must be a positive number\n", argv[0]);
		return 2;
	}
	if (runner_boot(&opt, &vm, &vcpu))
		return 2;

	double io = time_io_exits(&vcpu, exits);
	double bare = time_bare_runs(&vcpu, exits);
	if (io < 0 || bare < 0) {
		fprintf(stderr, "%s: benchmark guest did not run as expected\n", argv[0]);
		return 1;
	}
	printf("stage1  I/O exit round trip      %8.2f us  (%ld exits)\n", io, exits);
	printf("stage1  bare KVM_RUN (reference) %8.2f us  (immediate_exit, same run)\n", bare);
	printf("stage1  ratio I/O exit / bare    %8.1fx\n", io / bare);
	vcpu_destroy(&vcpu);
	vm_destroy(&vm);
	return 0;
}
