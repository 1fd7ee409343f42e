/*
 * translate-check.c - our page walker next to KVM's, address by address.
 *
 *   ./translate-check ../guests/stage2/map.bin [-v]
 *
 * The map guest builds the test map (a page of every size, a hole at every level) and
 * halts. Then, for a sweep of guest-virtual addresses, this program asks two walkers where
 * each one goes: page_walk() (page_walk.c) and KVM_TRANSLATE, which runs KVM's own walker,
 * the one KVM uses for the guest itself. They must agree on "mapped or not" and on the
 * guest-physical address. One difference is by design: KVM_TRANSLATE does not check that an
 * address is canonical (it uses bits 47..0), so for non-canonical addresses we only check
 * that our walker refuses them, and print what KVM said.
 *
 * Exit status: 0 every address agreed and each kind of mapping was seen; 1 a disagreement,
 * a kind never seen, or a KVM without a working KVM_TRANSLATE; 2 bad command line or input.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>

#include "cpu_modes.h"
#include "hypercall_host.h"
#include "runner.h"
#include "vcpu_paging.h"

struct tally {
	unsigned agree, disagree;
	unsigned pages_4k, pages_2m, pages_1g;  /* agreed: mapped, by page size */
	unsigned not_mapped, reserved;          /* agreed: refused (reserved: by a reserved bit) */
	unsigned non_canonical;                 /* refused by our walker alone */
};

struct checker {
	struct vcpu *vcpu;
	struct paging_regs regs;
	struct tally t;
	bool verbose;
};

static void count_agreement(struct tally *t, const struct page_walk *w)
{
	t->agree++;
	if (w->fault == WALK_RESERVED)
		t->reserved++;
	else if (w->fault != WALK_OK)
		t->not_mapped++;
	else if (w->page_size == SIZE_1G)
		t->pages_1g++;
	else if (w->page_size == SIZE_2M)
		t->pages_2m++;
	else
		t->pages_4k++;
}

/* Compare the two walkers on one address. -1 when KVM_TRANSLATE itself fails. */
static int compare(struct checker *c, uint64_t gva)
{
	struct kvm_translation tr = { .linear_address = gva };
	struct page_walk w;
	char ours[200];

	if (ioctl(c->vcpu->fd, KVM_TRANSLATE, &tr) < 0) {
		fprintf(stderr, "translate-check: KVM_TRANSLATE(0x%llx) failed: %s: this KVM "
			"cannot cross-check the walker\n", (unsigned long long)gva,
			strerror(errno));
		return -1;
	}
	int err = page_walk(&c->vcpu->vm->mem, &c->regs, gva, &w);
	walk_describe(&w, ours, sizeof(ours));
	if (w.fault == WALK_NON_CANONICAL) {
		c->t.non_canonical++;
		printf("non-canonical 0x%llx: walker refuses; KVM_TRANSLATE says %s 0x%llx\n",
		       (unsigned long long)gva, tr.valid ? "valid, gpa" : "invalid",
		       (unsigned long long)tr.physical_address);
		return 0;
	}
	bool same = (err == 0) == (tr.valid != 0) && (err || w.gpa == tr.physical_address);
	if (!same || c->verbose)
		printf("%s 0x%llx: walker: %s; KVM_TRANSLATE: %s 0x%llx\n",
		       same ? "agree" : "DISAGREE", (unsigned long long)gva, ours,
		       tr.valid ? "gpa" : "invalid", (unsigned long long)tr.physical_address);
	if (same)
		count_agreement(&c->t, &w);
	else
		c->t.disagree++;
	return 0;
}

/* count addresses from start, step apart, each at offset 0x123 into its page. */
static int sweep(struct checker *c, uint64_t start, uint64_t step, unsigned count)
{
	for (unsigned i = 0; i < count; i++)
		if (compare(c, start + i * step + 0x123))
			return -1;
	return 0;
}

/*
 * The test map (guests/stage2/guest.h) lives in PML4 entry 0 and the first 4 GiB. Each
 * level is swept at its own granularity, so every entry the guest wrote, and the empty ones
 * beside them, is walked at least once.
 */
static int sweep_all(struct checker *c)
{
	static const uint64_t non_canonical[] = {
		0x0000800000000000ull, 0xffff7fffffffffffull, 0x8000000000000000ull,
		0x0001000000001000ull,
	};
	if (sweep(c, 0, PAGE_SIZE, 1024) ||                /* 4 MiB of the identity map */
	    sweep(c, SIZE_1G, PAGE_SIZE, 16) ||            /* the 4 KiB test pages */
	    sweep(c, SIZE_1G, SIZE_2M, 8) ||               /* PD entries of the second GiB */
	    sweep(c, 0, SIZE_1G, 8) ||                     /* PDPT entries, 1 GiB pages */
	    sweep(c, 0, 512 * SIZE_1G, 8) ||               /* PML4 entries of the lower half */
	    sweep(c, 0xffff800000000000ull, 512 * SIZE_1G, 4))   /* and of the upper half */
		return -1;
	for (unsigned i = 0; i < sizeof(non_canonical) / sizeof(non_canonical[0]); i++)
		if (compare(c, non_canonical[i]))
			return -1;
	return 0;
}

/* Pass only if every kind was seen: a sweep that met no 4 KiB page proves nothing about them. */
static int verdict(const struct checker *c)
{
	const struct tally *t = &c->t;
	printf("translate-check: %u addresses agree with KVM_TRANSLATE, %u disagree\n", t->agree,
	       t->disagree);
	printf("  mapped: %u by 4 KiB pages, %u by 2 MiB pages, %u by 1 GiB pages\n", t->pages_4k,
	       t->pages_2m, t->pages_1g);
	printf("  refused by both: %u not mapped, %u for reserved bits\n", t->not_mapped,
	       t->reserved);
	printf("  non-canonical: %u refused by our walker (KVM_TRANSLATE does not check)\n",
	       t->non_canonical);
	printf("  1 GiB pages on this vCPU: %s\n", c->regs.gbpages ? "yes" :
	       "no (CPUID 0x80000001 EDX bit 26 clear: PS in a PDPT entry is a reserved bit)");
	bool all_kinds = t->pages_4k && t->pages_2m && t->not_mapped && t->non_canonical &&
			 (c->regs.gbpages ? t->pages_1g != 0 : t->reserved != 0);
	if (!all_kinds)
		fprintf(stderr, "translate-check: the sweep missed a kind of mapping: is the guest "
			"the map guest?\n");
	return t->disagree || !all_kinds;
}

int main(int argc, char **argv)
{
	struct runner_options opt;
	struct vm vm;
	struct vcpu vcpu;
	struct exit_stats stats = { 0 };
	struct checker c = { .vcpu = &vcpu };
	const struct exit_handlers console = { .pio = debug_console_pio };

	int next = runner_parse(&opt, argc, argv, " [-v]");
	if (next < 0)
		return 2;
	c.verbose = next < argc && strcmp(argv[next], "-v") == 0;
	if (next + c.verbose < argc) {
		fprintf(stderr, "%s: unexpected argument '%s'\n", argv[0], argv[next + c.verbose]);
		return 2;
	}
	if (runner_boot(&opt, &vm, &vcpu))
		return 2;
	if (hypercall_guest_args(&vcpu, 0) || vcpu_paging_init(&vcpu, &c.regs)) {
		fprintf(stderr, "translate-check: cannot set up the vCPU\n");
		return 2;
	}
	if (vcpu_run_until_stop(&vcpu, &stats, &console) != VCPU_HALTED ||
	    vcpu_paging_update(&vcpu, &c.regs)) {
		fprintf(stderr, "translate-check: the guest did not halt\n");
		return 1;
	}
	int rc = sweep_all(&c) ? 1 : verdict(&c);
	vcpu_destroy(&vcpu);
	vm_destroy(&vm);
	return rc;
}
