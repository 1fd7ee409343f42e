/*
 * minivisor-lite - stage 4's VMM: boots an unmodified Linux bzImage on KVM with a serial
 * console, the in-kernel PIC/IOAPIC/LAPIC/PIT, a CMOS clock, ACPI, PCI and virtio devices.
 *
 *   minivisor-lite [options] KERNEL [INITRD]
 *     --mem SIZE       guest RAM (default 256M; 16M .. 3G)
 *     --smp N          vCPUs, one host thread each (default 1; 1 .. 8)
 *     --disk IMAGE     virtio-blk on a raw image file, opened read-write
 *     --net tap=NAME   virtio-net on host tap device NAME
 *     --rng            virtio-rng, fed by the host's getrandom()
 *     --test CMD       run CMD in the guest (kernel argument mv.test="CMD")
 *     --append ARGS    more kernel arguments;  --cmdline ARGS  replace the default ones
 *     --kvm PATH       the KVM device (default /dev/kvm)
 *     --trace-io       report accesses to ports and addresses where no device is
 *     --stats          at the end, print the VMM's memory overhead (RSS minus guest RAM)
 *     --simple-virtio  serve virtio-blk in the vCPU thread, without ioeventfd and the I/O
 *                      thread (the lesson's simple path)
 *     --fast-virtio    serve it with ioeventfd and an I/O thread even when the host has no
 *                      CPU to spare for that thread (default: only when it has one)
 *                      and how many VM exits of each kind the vCPUs made
 *     --create-tap NAME  create a persistent tap device NAME and exit (for scripts)
 *     --help             print the usage on stdout and exit 0
 *
 * Exit status: 0 when the guest powers off, reboots (the VMM stops, as QEMU's -no-reboot)
 * or the user quits with Ctrl-A x; 1 when a vCPU fails; 2 for bad input, with one line that
 * names the file or device.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "machine.h"
#include "runner.h"

#define DEFAULT_MEM (256ull << 20)
#define MIN_MEM     (16ull << 20)
/* console=ttyS0: our UART; panic=-1: a failed boot reboots, which ends the VMM. */
#define DEFAULT_CMDLINE "console=ttyS0 panic=-1 quiet"

static const char usage[] =
	"usage: minivisor-lite [--mem SIZE] [--smp N] [--disk IMAGE] [--net tap=NAME] [--rng]\n"
	"                      [--test CMD] [--append ARGS] [--cmdline ARGS] [--kvm PATH]\n"
	"                      [--trace-io] [--stats] [--simple-virtio|--fast-virtio]\n"
	"                      KERNEL [INITRD]\n"
	"       minivisor-lite --create-tap NAME\n";

static int bad(const char *fmt, const char *arg)
{
	fprintf(stderr, "minivisor-lite: ");
	fprintf(stderr, fmt, arg);
	fputc('\n', stderr);
	return 2;
}

struct options {
	struct machine_config cfg;
	const char *base_cmdline, *append, *test;
	bool stats;
};

/* Returns 0, or an exit status after printing the reason. */
static int parse(struct options *o, int argc, char **argv)
{
	struct machine_config *c = &o->cfg;
	c->kvm_path = "/dev/kvm";
	c->mem_size = DEFAULT_MEM;
	c->ncpus = 1;
	o->base_cmdline = DEFAULT_CMDLINE;

	int i = 1;
	for (; i < argc && argv[i][0] == '-'; i++) {
		const char *opt = argv[i];
		const char *val = i + 1 < argc ? argv[i + 1] : NULL;
		if (!strcmp(opt, "--rng")) {
			c->rng = true;
			continue;
		}
		if (!strcmp(opt, "--trace-io")) {
			c->trace_io = true;
			continue;
		}
		if (!strcmp(opt, "--stats")) {
			o->stats = true;
			continue;
		}
		if (!strcmp(opt, "--simple-virtio") || !strcmp(opt, "--fast-virtio")) {
			c->virtio_path = opt[2] == 's' ? VIRTIO_SIMPLE : VIRTIO_FAST;
			continue;
		}
		if (!val)
			return bad("%s needs a value", opt);
		i++;
		if (!strcmp(opt, "--mem")) {
			c->mem_size = parse_size(val);
			if (c->mem_size < MIN_MEM || c->mem_size > BOOT_MAX_RAM)
				return bad("--mem %s: RAM size must be between 16M and 3G", val);
		} else if (!strcmp(opt, "--smp")) {
			char *end;
			long n = strtol(val, &end, 10);
			if (*end || n < 1 || n > MAX_VCPUS)
				return bad("--smp %s: the number of vCPUs must be 1 to 8", val);
			c->ncpus = n;
		} else if (!strcmp(opt, "--disk")) {
			c->disk_path = val;
		} else if (!strcmp(opt, "--net")) {
			if (strncmp(val, "tap=", 4) || !val[4])
				return bad("--net %s: expected tap=NAME", val);
			c->tap_name = val + 4;
		} else if (!strcmp(opt, "--test")) {
			o->test = val;
		} else if (!strcmp(opt, "--append")) {
			o->append = val;
		} else if (!strcmp(opt, "--cmdline")) {
			o->base_cmdline = val;
		} else if (!strcmp(opt, "--kvm")) {
			c->kvm_path = val;
		} else {
			fputs(usage, stderr);
			return bad("unknown option %s", opt);
		}
	}
	if (i == argc) {
		fputs(usage, stderr);
		fprintf(stderr, "minivisor-lite: no kernel given\n");
		return 2;
	}
	c->boot.kernel_path = argv[i++];
	if (i < argc)
		c->boot.initrd_path = argv[i++];
	if (i < argc)
		return bad("unexpected argument %s", argv[i]);
	return 0;
}

/* The kernel command line: defaults, --append, and mv.test="CMD" for the test guest's init. */
static char *build_cmdline(const struct options *o)
{
	static char line[BOOT_CMDLINE_MAX];
	int n = snprintf(line, sizeof(line), "%s", o->base_cmdline);
	if (o->append)
		n += snprintf(line + n, sizeof(line) - n, " %s", o->append);
	if (o->test)
		snprintf(line + n, sizeof(line) - n, " mv.test=\"%s\"", o->test);
	return line;
}

int main(int argc, char **argv)
{
	struct options o = { 0 };
	struct machine m;
	char why[512];

	if (argc == 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		fputs(usage, stdout);
		return 0;
	}
	if (argc == 3 && !strcmp(argv[1], "--create-tap")) {
		int err = tap_create_persistent(argv[2]);
		if (err) {
			fprintf(stderr, "minivisor-lite: tap %s: cannot create: %s\n", argv[2],
				strerror(-err));
			return 2;
		}
		return 0;
	}
	int rc = parse(&o, argc, argv);
	if (rc)
		return rc;
	if (o.test && strchr(o.test, '"'))
		return bad("--test %s: the command cannot contain a double quote", o.test);
	o.cfg.boot.cmdline = build_cmdline(&o);

	if (machine_create(&m, &o.cfg, why, sizeof(why)) < 0) {
		fprintf(stderr, "minivisor-lite: %s\n", why);
		machine_destroy(&m);
		return 2;
	}
	enum machine_end end = machine_run(&m);
	struct memory_use use;
	if (o.stats && machine_memory_use(&m, &use) == 0)
		fprintf(stderr, "minivisor-lite: memory: rss=%llu KiB guest-resident=%llu KiB "
			"overhead=%llu KiB\n", (unsigned long long)use.rss_kib,
			(unsigned long long)use.guest_kib, (unsigned long long)use.overhead_kib);
	if (o.stats) {
		fprintf(stderr, "minivisor-lite: ");
		machine_print_exits(&m, stderr);
		if (m.has_blk)
			fprintf(stderr,
				"minivisor-lite: virtio-blk: %llu requests, %llu KiB, %.3f s in "
				"preadv/pwritev; interrupts: %llu irqfd, %llu KVM_SIGNAL_MSI, "
				"%llu INTx (%llu by irqfd, %llu KVM_IRQ_LINE)\n",
				(unsigned long long)m.blk.requests,
				(unsigned long long)(m.blk.bytes >> 10), m.blk.io_ns / 1e9,
				m.blk.vp.irq_count[VIRTIO_IRQ_IRQFD],
				m.blk.vp.irq_count[VIRTIO_IRQ_MSI],
				m.blk.vp.irq_count[VIRTIO_IRQ_INTX] +
					m.blk.vp.irq_count[VIRTIO_IRQ_INTX_IRQFD],
				m.blk.vp.irq_count[VIRTIO_IRQ_INTX_IRQFD],
				m.blk.vp.irq_count[VIRTIO_IRQ_INTX]);
	}
	machine_destroy(&m);

	switch (end) {
	case END_POWEROFF:
		fprintf(stderr, "minivisor-lite: the guest powered off\n");
		return 0;
	case END_REBOOT:
		fprintf(stderr, "minivisor-lite: the guest rebooted; stopping (no reboot)\n");
		return 0;
	case END_QUIT:
		fprintf(stderr, "\r\nminivisor-lite: quit (Ctrl-A x)\n");
		return 0;
	default:
		fprintf(stderr, "minivisor-lite: the guest failed\n");
		return 1;
	}
}
