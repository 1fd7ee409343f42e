/*
 * runner.c - options and boot sequence shared by the one-vCPU runners (see runner.h).
 */
#include "runner.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *to, const char *prog, const char *extra)
{
	fprintf(to,
		"usage: %s [--mode real|protected|paged|long] [--mem SIZE] [--kvm PATH] GUEST%s\n"
		"  --mode  the CPU mode the guest starts in (default long)\n"
		"  --mem   guest RAM, e.g. 2M or 64K (default 2M, 64K..1G)\n"
		"  --kvm   the KVM device (default /dev/kvm)\n",
		prog, extra ? extra : "");
}

uint64_t parse_size(const char *text)
{
	char *end;
	errno = 0;
	unsigned long long n = strtoull(text, &end, 0);
	if (errno || end == text || text[0] == '-')
		return 0;
	unsigned shift = 0;
	switch (*end) {
	case 'k': case 'K': shift = 10; end++; break;
	case 'm': case 'M': shift = 20; end++; break;
	case 'g': case 'G': shift = 30; end++; break;
	case 't': case 'T': shift = 40; end++; break;
	}
	if (*end == 'i' || *end == 'B')   /* accept 2MiB and 2MB as well */
		end += end[0] == 'i' && end[1] == 'B' ? 2 : 1;
	if (*end || n > (~0ull >> shift))
		return 0;
	return n << shift;
}

int runner_parse(struct runner_options *opt, int argc, char **argv, const char *extra_usage)
{
	static const struct option longopts[] = {
		{ "mode", required_argument, NULL, 'm' },
		{ "mem", required_argument, NULL, 's' },
		{ "kvm", required_argument, NULL, 'k' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *prog = argv[0];
	int c, mode;

	*opt = (struct runner_options){ MODE_LONG, RUNNER_DEFAULT_MEM, "/dev/kvm", NULL };
	while ((c = getopt_long(argc, argv, "+m:s:k:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'm':
			mode = cpu_mode_from_name(optarg);
			if (mode < 0) {
				fprintf(stderr, "%s: unknown mode '%s' (real, protected, paged or long)\n",
					prog, optarg);
				return -1;
			}
			opt->mode = mode;
			break;
		case 's':
			opt->mem_size = parse_size(optarg);
			if (opt->mem_size < RUNNER_MIN_MEM || opt->mem_size > RUNNER_MAX_MEM) {
				fprintf(stderr, "%s: --mem %s: RAM size must be between 64K and 1G\n",
					prog, optarg);
				return -1;
			}
			/* KVM maps memory slots in whole pages. */
			if (opt->mem_size % 4096) {
				fprintf(stderr, "%s: --mem %s: RAM size must be a multiple of 4K\n",
					prog, optarg);
				return -1;
			}
			break;
		case 'k':
			opt->kvm_path = optarg;
			break;
		case 'h':
			/* Asked for, the usage is the answer, not an error: stdout, exit status 0. */
			usage(stdout, prog, extra_usage);
			exit(0);
		default:
			usage(stderr, prog, extra_usage);
			return -1;
		}
	}
	if (optind >= argc) {
		fprintf(stderr, "%s: no guest image given\n", prog);
		usage(stderr, prog, extra_usage);
		return -1;
	}
	opt->guest_path = argv[optind];
	return optind + 1;
}

static int load_guest(const struct runner_options *opt, struct vm *vm)
{
	long n = guest_memory_load_file(&vm->mem, GUEST_LOAD_GPA, opt->guest_path);
	if (n >= 0)
		return 0;
	if (n == -EFBIG)
		fprintf(stderr, "%s: guest image larger than RAM (%llu bytes from 0x%x)\n",
			opt->guest_path, (unsigned long long)(vm->mem.size - GUEST_LOAD_GPA),
			GUEST_LOAD_GPA);
	else if (n == -ENODATA)
		fprintf(stderr, "%s: guest image is empty\n", opt->guest_path);
	else if (n == -EINVAL)
		fprintf(stderr, "%s: guest image is not a regular file\n", opt->guest_path);
	else
		fprintf(stderr, "%s: cannot load guest image: %s\n", opt->guest_path, strerror((int)-n));
	return (int)n;
}

int runner_boot(const struct runner_options *opt, struct vm *vm, struct vcpu *vcpu)
{
	char why[256];
	int err = vm_create(vm, opt->kvm_path, opt->mem_size, why, sizeof(why));
	if (err) {
		fprintf(stderr, "%s\n", why);
		return err;
	}
	err = load_guest(opt, vm);
	if (err)
		goto fail_vm;
	err = vcpu_create(vm, vcpu, 0);
	if (err) {
		fprintf(stderr, "%s: cannot create vCPU: %s\n", opt->kvm_path, strerror(-err));
		goto fail_vm;
	}
	/* Real mode cannot address the top of a large RAM: its stack sits just below the image. */
	uint64_t stack = opt->mode == MODE_REAL ? GUEST_LOAD_GPA : vm->mem.size;
	err = cpu_enter_mode(vcpu, opt->mode, GUEST_LOAD_GPA, stack);
	if (err == -EOPNOTSUPP) {
		fprintf(stderr, "%s: this KVM does not accept %s mode's CR0/CR4/EFER (it dropped "
			"them: nested KVMs may run paging only in long mode)\n", opt->kvm_path,
			cpu_mode_name(opt->mode));
		vcpu_destroy(vcpu);
		goto fail_vm;
	}
	if (err) {
		fprintf(stderr, "%s: cannot enter %s mode: %s\n", opt->kvm_path,
			cpu_mode_name(opt->mode), strerror(-err));
		vcpu_destroy(vcpu);
		goto fail_vm;
	}
	return 0;
fail_vm:
	vm_destroy(vm);
	return err;
}
