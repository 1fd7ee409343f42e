/*
 * cpu_modes.c - GDT encoding, identity page tables, and the register values of each mode.
 * See cpu_modes.h for the guest memory layout.
 */
#include "cpu_modes.h"

#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>

#include "kvm.h"

static const char *const mode_names[] = {
	[MODE_REAL] = "real",
	[MODE_PROTECTED] = "protected",
	[MODE_PAGED] = "paged",
	[MODE_LONG] = "long",
};

int cpu_mode_from_name(const char *name)
{
	for (int m = MODE_REAL; m <= MODE_LONG; m++)
		if (strcmp(name, mode_names[m]) == 0)
			return m;
	return -1;
}

const char *cpu_mode_name(enum cpu_mode mode)
{
	return mode_names[mode];
}

/*
 * Descriptor layout (SDM vol. 3, figure 3-8):
 *   bits  0-15 limit 15:0      bits 16-39 base 23:0     bits 40-43 type
 *   bit  44    S (code/data)   bits 45-46 DPL           bit  47    P (present)
 *   bits 48-51 limit 19:16     bit  52    AVL           bit  53    L (64-bit code)
 *   bit  54    D/B (32-bit)    bit  55    G (limit in 4 KiB units)  bits 56-63 base 31:24
 */
uint64_t gdt_encode(const struct kvm_segment *seg)
{
	uint64_t limit = seg->g ? seg->limit >> 12 : seg->limit;
	uint64_t base = seg->base;
	uint64_t d = 0;

	d |= limit & 0xffff;
	d |= (base & 0xffffff) << 16;
	d |= (uint64_t)(seg->type & 0xf) << 40;
	d |= (uint64_t)(seg->s & 1) << 44;
	d |= (uint64_t)(seg->dpl & 3) << 45;
	d |= (uint64_t)(seg->present & 1) << 47;
	d |= ((limit >> 16) & 0xf) << 48;
	d |= (uint64_t)(seg->avl & 1) << 52;
	d |= (uint64_t)(seg->l & 1) << 53;
	d |= (uint64_t)(seg->db & 1) << 54;
	d |= (uint64_t)(seg->g & 1) << 55;
	d |= ((base >> 24) & 0xff) << 56;
	return d;
}

struct kvm_segment flat_code_segment(enum cpu_mode mode)
{
	struct kvm_segment s = {
		.base = 0,
		.limit = 0xffffffff,
		.selector = SEL_CODE,
		.type = 0xb,     /* execute/read, accessed */
		.present = 1,
		.s = 1,          /* a code/data segment, not a system one */
		.g = 1,
	};
	/* In long mode L=1 makes the code 64-bit and D must be 0; elsewhere D=1 means 32-bit. */
	s.l = mode == MODE_LONG;
	s.db = mode != MODE_LONG;
	return s;
}

struct kvm_segment flat_data_segment(void)
{
	struct kvm_segment s = {
		.base = 0,
		.limit = 0xffffffff,
		.selector = SEL_DATA,
		.type = 0x3,     /* read/write, accessed */
		.present = 1,
		.s = 1,
		.db = 1,
		.g = 1,
	};
	return s;
}

/* Hand out zeroed 4 KiB pages from the pool, in order. */
struct page_pool {
	const struct guest_memory *mem;
	uint64_t next, end;
};

static uint64_t *pool_take(struct page_pool *pool, uint64_t *gpa)
{
	if (pool->next + PAGE_SIZE > pool->end)
		return NULL;
	uint64_t *page = gpa_to_hva(pool->mem, pool->next, PAGE_SIZE);
	if (!page)
		return NULL;
	memset(page, 0, PAGE_SIZE);
	*gpa = pool->next;
	pool->next += PAGE_SIZE;
	return page;
}

static int pool_error(const struct page_pool *pool)
{
	return gpa_to_hva(pool->mem, pool->next, PAGE_SIZE) ? -ENOSPC : -EFAULT;
}

int build_long_mode_tables(const struct guest_memory *mem, uint64_t pool_gpa, uint64_t pool_end,
			   uint64_t map_bytes, uint64_t *cr3)
{
	struct page_pool pool = { mem, pool_gpa, pool_end };
	uint64_t pml4_gpa, pdpt_gpa, pd_gpa;
	uint64_t *pml4 = pool_take(&pool, &pml4_gpa);
	uint64_t *pdpt = pml4 ? pool_take(&pool, &pdpt_gpa) : NULL;
	if (!pdpt)
		return pool_error(&pool);
	/* One PDPT covers 512 GiB, far more than simple-kvm allows, so one PML4 entry is enough. */
	if (map_bytes > 512 * SIZE_1G)
		return -ENOSPC;
	pml4[0] = pdpt_gpa | PTE_PRESENT | PTE_WRITE;

	uint64_t pages = (map_bytes + SIZE_2M - 1) / SIZE_2M;
	uint64_t *pd = NULL;
	for (uint64_t i = 0; i < pages; i++) {
		if (i % 512 == 0) {   /* each page directory maps 512 x 2 MiB = 1 GiB */
			pd = pool_take(&pool, &pd_gpa);
			if (!pd)
				return pool_error(&pool);
			pdpt[i / 512] = pd_gpa | PTE_PRESENT | PTE_WRITE;
		}
		pd[i % 512] = (i * SIZE_2M) | PTE_PRESENT | PTE_WRITE | PTE_HUGE;
	}
	*cr3 = pml4_gpa;
	return 0;
}

int build_32bit_tables(const struct guest_memory *mem, uint64_t pd_gpa, uint64_t map_bytes,
		       uint64_t *cr3)
{
	struct page_pool pool = { mem, pd_gpa, pd_gpa + PAGE_SIZE };
	uint64_t gpa;
	uint32_t *pd = (uint32_t *)pool_take(&pool, &gpa);
	if (!pd)
		return pool_error(&pool);
	/* 1024 entries of 4 MiB cover the whole 32-bit address space. */
	if (map_bytes > 1024 * SIZE_4M)
		return -ENOSPC;
	for (uint64_t i = 0; i < (map_bytes + SIZE_4M - 1) / SIZE_4M; i++)
		pd[i] = (uint32_t)(i * SIZE_4M) | PTE_PRESENT | PTE_WRITE | PTE_HUGE;
	*cr3 = gpa;
	return 0;
}

static void load_flat_segments(struct kvm_sregs *sregs, enum cpu_mode mode)
{
	struct kvm_segment code = flat_code_segment(mode), data = flat_data_segment();
	sregs->cs = code;
	sregs->ds = sregs->es = sregs->fs = sregs->gs = sregs->ss = data;
}

static int write_gdt(const struct guest_memory *mem, struct kvm_sregs *sregs, enum cpu_mode mode)
{
	struct kvm_segment code = flat_code_segment(mode), data = flat_data_segment();
	uint64_t *gdt = gpa_to_hva(mem, GDT_GPA, 3 * sizeof(uint64_t));
	if (!gdt)
		return -EFAULT;
	gdt[0] = 0;                    /* the null descriptor */
	gdt[SEL_CODE / 8] = gdt_encode(&code);
	gdt[SEL_DATA / 8] = gdt_encode(&data);
	sregs->gdt.base = GDT_GPA;
	sregs->gdt.limit = 3 * sizeof(uint64_t) - 1;
	/*
	 * An empty IDT: any exception the guest takes cannot be delivered, which escalates to a
	 * double fault and then a triple fault (KVM_EXIT_SHUTDOWN). That is the clearest outcome
	 * for a guest that has no exception handlers of its own.
	 */
	sregs->idt.base = 0;
	sregs->idt.limit = 0;
	return 0;
}

/*
 * KVM may quietly refuse a state it cannot run. Some nested KVMs (the PVM flavour among
 * them) support paging only in long mode and drop CR0.PG from a 32-bit paged state; the
 * guest would then triple-fault on its first instruction for no visible reason. Reading the
 * registers back turns that into a clear error.
 */
static int check_registers_took(struct vcpu *vcpu, const struct kvm_sregs *want)
{
	struct kvm_sregs got;
	if (ioctl(vcpu->fd, KVM_GET_SREGS, &got) < 0)
		return -errno;
	if ((got.cr0 & (CR0_PE | CR0_PG)) != (want->cr0 & (CR0_PE | CR0_PG)) ||
	    (got.cr4 & (CR4_PSE | CR4_PAE)) != (want->cr4 & (CR4_PSE | CR4_PAE)) ||
	    (got.efer & EFER_LME) != (want->efer & EFER_LME))
		return -EOPNOTSUPP;
	return 0;
}

static int set_special_registers(struct vcpu *vcpu, enum cpu_mode mode)
{
	const struct guest_memory *mem = &vcpu->vm->mem;
	struct kvm_sregs sregs;
	uint64_t cr3 = 0;
	int err;

	if (ioctl(vcpu->fd, KVM_GET_SREGS, &sregs) < 0)
		return -errno;

	if (mode == MODE_REAL) {
		/* After reset CS has base 0xffff0000 (the BIOS entry); our image is at 0. */
		sregs.cs.base = 0;
		sregs.cs.selector = 0;
	} else {
		err = write_gdt(mem, &sregs, mode);
		if (err)
			return err;
		load_flat_segments(&sregs, mode);
		sregs.cr0 |= CR0_PE;
	}

	if (mode == MODE_PAGED) {
		err = build_32bit_tables(mem, PAGE_POOL_GPA, mem->size, &cr3);
		if (err)
			return err;
		sregs.cr4 |= CR4_PSE;
	} else if (mode == MODE_LONG) {
		err = build_long_mode_tables(mem, PAGE_POOL_GPA, PAGE_POOL_END, mem->size, &cr3);
		if (err)
			return err;
		sregs.cr4 |= CR4_PAE;
		sregs.efer |= EFER_LME | EFER_LMA;
	}
	if (mode == MODE_PAGED || mode == MODE_LONG) {
		sregs.cr3 = cr3;
		sregs.cr0 |= CR0_PG;
	}
	if (ioctl(vcpu->fd, KVM_SET_SREGS, &sregs) < 0)
		return -errno;
	return check_registers_took(vcpu, &sregs);
}

int cpu_enter_mode(struct vcpu *vcpu, enum cpu_mode mode, uint64_t entry, uint64_t stack_top)
{
	int err = set_special_registers(vcpu, mode);
	if (err)
		return err;
	struct kvm_regs regs = {
		.rip = entry,
		.rsp = stack_top,
		.rflags = 0x2,   /* bit 1 is reserved and always 1; interrupts off */
	};
	return ioctl(vcpu->fd, KVM_SET_REGS, &regs) < 0 ? -errno : 0;
}
