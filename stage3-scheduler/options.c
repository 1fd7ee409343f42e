/*
 * options.c - parse the schedulers' command line (see options.h).
 *
 * Every mistake gets one line that names the option and what it must be, and the program
 * exits 2: a scheduler started with a nonsense quantum would only confuse its reader.
 */
#include "options.h"

#include <getopt.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "runner.h"

#define DEFAULT_SHARE "70,30"   /* Neo 70 %, Morpheus 30 % */

static void usage(const struct matrix_options *opt)
{
	printf("usage: %s [options] [GUEST...]\n", opt->prog);
	if (opt->allowed & OPT_SHARE)
		printf("  --share W,W..  CPU weights, one per VM, 2..%d VMs (default %s)\n",
		       SCHED_MAX_VMS, DEFAULT_SHARE);
	if (opt->allowed & OPT_LINES)
		printf("  --lines N,N..  lines each VM's guest prints (default %d each)\n",
		       DEFAULT_LINES);
	if (opt->allowed & OPT_QUANTUM)
		printf("  --quantum MS   time slice, 1..%d ms (default %d)\n", MAX_QUANTUM_MS,
		       DEFAULT_QUANTUM_MS);
	if (opt->allowed & OPT_SECONDS)
		printf("  --seconds S    how long to run (default %g)\n", opt->seconds);
	printf("  --mem SIZE     RAM of each VM (default 2M)\n"
	       "  --kvm PATH     the KVM device (default /dev/kvm)\n"
	       "  GUEST          image for VM 1, 2, ...; the last fills the rest (default %s)\n",
	       opt->default_guest);
}

static int bad(const struct matrix_options *opt, const char *what, const char *value,
	       const char *must)
{
	fprintf(stderr, "%s: %s %s: %s\n", opt->prog, what, value, must);
	return -1;
}

/* <repository>/guests/stage3/<name>, found from this executable, so it works from anywhere. */
static void find_default_guest(struct matrix_options *opt, const char *name)
{
	char exe[PATH_MAX];
	ssize_t len = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (len <= 0) {
		snprintf(opt->default_guest, sizeof(opt->default_guest), "../guests/stage3/%s",
			 name);
		return;
	}
	exe[len] = '\0';
	snprintf(opt->default_guest, sizeof(opt->default_guest), "%s/guests/stage3/%s",
		 dirname(dirname(exe)), name);
}

static int parse_list(struct matrix_options *opt, const char *flag, const char *text,
		      unsigned *values, unsigned limit)
{
	char why[160];
	int n = parse_uint_list(text, values, SCHED_MAX_VMS, limit, why, sizeof(why));
	if (n < 0) {
		fprintf(stderr, "%s: %s %s\n", opt->prog, flag, why);
		return -1;
	}
	return n;
}

static int parse_quantum(struct matrix_options *opt, const char *text)
{
	unsigned ms;
	char why[160];
	if (parse_uint_list(text, &ms, 1, MAX_QUANTUM_MS, why, sizeof(why)) != 1)
		return bad(opt, "--quantum", text, "the time slice must be 1..1000 ms");
	opt->quantum_ns = ms * 1000000ull;
	return 0;
}

static int parse_seconds(struct matrix_options *opt, const char *text)
{
	char *end;
	double s = strtod(text, &end);
	if (end == text || *end || !(s > 0) || s > MAX_SECONDS)
		return bad(opt, "--seconds", text, "the run time must be a number of seconds, "
			   "more than 0 and at most 3600");
	opt->seconds = s;
	return 0;
}

static int parse_mem(struct matrix_options *opt, const char *text)
{
	opt->mem_size = parse_size(text);
	if (opt->mem_size < RUNNER_MIN_MEM || opt->mem_size > RUNNER_MAX_MEM)
		return bad(opt, "--mem", text, "RAM size must be between 64K and 1G");
	return 0;
}

static void set_defaults(struct matrix_options *opt, char *prog, unsigned allowed,
			 const char *default_guest, double default_seconds)
{
	memset(opt, 0, sizeof(*opt));
	opt->prog = prog;
	opt->allowed = allowed;
	opt->vms = 2;
	for (int i = 0; i < SCHED_MAX_VMS; i++) {
		opt->weight[i] = 1;
		opt->guest_arg[i] = DEFAULT_LINES;   /* only talk.c reads it */
	}
	if (allowed & OPT_SHARE)
		opt->vms = parse_uint_list(DEFAULT_SHARE, opt->weight, SCHED_MAX_VMS,
					   SCHED_MAX_WEIGHT, NULL, 0);
	opt->quantum_ns = DEFAULT_QUANTUM_MS * 1000000ull;
	opt->seconds = default_seconds;
	opt->mem_size = RUNNER_DEFAULT_MEM;
	opt->kvm_path = "/dev/kvm";
	find_default_guest(opt, default_guest);
}

/* How many VMs, and which image each runs. */
static int assign_guests(struct matrix_options *opt, int lists, char **guests, int count)
{
	if (count > SCHED_MAX_VMS)
		return bad(opt, "GUEST", guests[SCHED_MAX_VMS], "at most 8 VMs");
	if (opt->allowed & OPT_SHARE) {
		if (count > opt->vms) {
			fprintf(stderr, "%s: %d guests for %d VMs (one --share weight per VM)\n",
				opt->prog, count, opt->vms);
			return -1;
		}
	} else {
		opt->vms = count > lists ? count : lists;
		opt->vms = opt->vms > 2 ? opt->vms : 2;
	}
	for (int i = 0; i < opt->vms; i++)
		opt->guest[i] = count == 0 ? opt->default_guest : guests[i < count ? i : count - 1];
	return 0;
}

static int parse_option(struct matrix_options *opt, int c, const char *arg, int *lists)
{
	int n;
	switch (c) {
	case 'S':
		n = parse_list(opt, "--share", arg, opt->weight, SCHED_MAX_WEIGHT);
		if (n == 1)
			return bad(opt, "--share", arg, "give a weight for each of 2 or more VMs");
		opt->vms = n;
		return n < 0 ? -1 : 0;
	case 'l':
		n = parse_list(opt, "--lines", arg, opt->guest_arg, MAX_LINES);
		*lists = n;
		return n < 0 ? -1 : 0;
	case 'q':
		return parse_quantum(opt, arg);
	case 't':
		return parse_seconds(opt, arg);
	case 's':
		return parse_mem(opt, arg);
	case 'k':
		opt->kvm_path = arg;
		return 0;
	}
	return -1;
}

static unsigned needs(int c)
{
	switch (c) {
	case 'S': return OPT_SHARE;
	case 'l': return OPT_LINES;
	case 'q': return OPT_QUANTUM;
	case 't': return OPT_SECONDS;
	}
	return 0;
}

int matrix_parse(struct matrix_options *opt, int argc, char **argv, unsigned allowed,
		 const char *default_guest, double default_seconds)
{
	static const struct option longopts[] = {
		{ "share", required_argument, NULL, 'S' },
		{ "lines", required_argument, NULL, 'l' },
		{ "quantum", required_argument, NULL, 'q' },
		{ "seconds", required_argument, NULL, 't' },
		{ "mem", required_argument, NULL, 's' },
		{ "kvm", required_argument, NULL, 'k' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	int c, index, lists = 0;

	set_defaults(opt, argv[0], allowed, default_guest, default_seconds);
	opterr = 0;   /* our own one-line messages */
	optind = 0;   /* glibc: start afresh (the unit tests parse many command lines) */
	while ((c = getopt_long(argc, argv, "+h", longopts, &index)) != -1) {
		if (c == 'h') {
			usage(opt);
			return 1;
		}
		if (c == '?') {
			fprintf(stderr, "%s: unknown option or missing value: '%s' (see --help)\n",
				opt->prog, argv[optind - 1]);
			return -1;
		}
		if (needs(c) & ~allowed) {
			fprintf(stderr, "%s: --%s is not an option of this program (see --help)\n",
				opt->prog, longopts[index].name);
			return -1;
		}
		if (parse_option(opt, c, optarg, &lists))
			return -1;
	}
	return assign_guests(opt, lists, argv + optind, argc - optind);
}
