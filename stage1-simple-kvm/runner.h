/*
 * runner.h - the command line and the boot sequence of a one-vCPU runner.
 *
 * simple-kvm (stage 1) and the stage 2 hypercall runner take the same options and boot a
 * guest the same way; only what they do with its exits differs. So both call this file:
 *
 *   runner_parse()  --mode real|protected|paged|long  --mem SIZE  --kvm PATH  GUEST
 *   runner_boot()   open KVM, create the VM and its RAM, load GUEST at GUEST_LOAD_GPA,
 *                   create vCPU 0 and put it in the mode asked for.
 */
#ifndef RUNNER_H
#define RUNNER_H

#include <stdint.h>

#include "cpu_modes.h"
#include "kvm.h"

#define RUNNER_DEFAULT_MEM  (2ull << 20)
#define RUNNER_MIN_MEM      (64ull << 10)   /* room for the tables below GUEST_LOAD_GPA */
#define RUNNER_MAX_MEM      (1ull << 30)

struct runner_options {
	enum cpu_mode mode;
	uint64_t mem_size;
	const char *kvm_path;
	const char *guest_path;
};

/*
 * Parse argv. extra_usage (may be NULL) is appended to the usage text. On a bad option
 * it prints one line naming it and returns -1; --help prints the usage on stdout and exits
 * with status 0; it returns the index of the first unparsed argument (after GUEST) otherwise.
 */
int runner_parse(struct runner_options *opt, int argc, char **argv, const char *extra_usage);

/* "2M", "64K", "1G", "4096" -> bytes; 0 on a malformed size. */
uint64_t parse_size(const char *text);

/* Create the VM and vCPU 0, load the guest, enter the mode. Prints the reason on failure. */
int runner_boot(const struct runner_options *opt, struct vm *vm, struct vcpu *vcpu);

#endif
