/*
 * options.h - the command line of matrix-a, matrix-b and matrix.
 *
 *   matrix-a [--lines N,N..]                   [--mem SIZE] [--kvm PATH] [GUEST...]
 *   matrix-b [--quantum MS] [--seconds S]      [--mem SIZE] [--kvm PATH] [GUEST...]
 *   matrix   [--share W,W..] [--quantum MS] [--seconds S] [...]          [GUEST...]
 *
 * GUEST i runs in VM i; the last GUEST given also fills the VMs after it, and with no GUEST
 * every VM runs the program's default guest from guests/stage3/. Every VM is its own KVM VM
 * with its own RAM and its own copy of the image, even when the image is the same file.
 */
#ifndef OPTIONS_H
#define OPTIONS_H

#include <limits.h>
#include <stdint.h>

#include "sched.h"

/* Which options a program takes. */
#define OPT_LINES   (1u << 0)
#define OPT_QUANTUM (1u << 1)
#define OPT_SECONDS (1u << 2)
#define OPT_SHARE   (1u << 3)

#define DEFAULT_QUANTUM_MS 10
#define MAX_QUANTUM_MS     1000
#define MAX_SECONDS        3600
#define DEFAULT_LINES      5
#define MAX_LINES          1000

struct matrix_options {
	const char *prog;
	unsigned allowed;                       /* OPT_* this program takes */
	int vms;                                /* how many VMs */
	unsigned weight[SCHED_MAX_VMS];         /* --share (all 1 without it) */
	unsigned guest_arg[SCHED_MAX_VMS];      /* passed in RSI: --lines (default 5) */
	const char *guest[SCHED_MAX_VMS];       /* image for each VM */
	uint64_t quantum_ns;
	double seconds;                         /* how long matrix-b and matrix run */
	uint64_t mem_size;
	const char *kvm_path;
	char default_guest[PATH_MAX];
};

/*
 * Parse argv for a program taking the `allowed` options, with default_guest (a file name in
 * guests/stage3/) and the default run time and weights. Returns 0, 1 after printing the
 * usage for --help, or -1 after printing one line that names the bad option.
 */
int matrix_parse(struct matrix_options *opt, int argc, char **argv, unsigned allowed,
		 const char *default_guest, double default_seconds);

#endif
