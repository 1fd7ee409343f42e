/*
 * edu-test.c - a Multiboot kernel that drives QEMU's "edu" teaching device (1234:11e8) given
 * to the guest by minivisor's VFIO passthrough (stage5-full-machine/vfio/): it is the real
 * (emulated-by-L0) device, reached through L1's IOMMU.
 *
 * What it teaches: what a driver needs from passthrough, one thing at a time, and the guest's
 * view of each. Each check prints one line "edu-test: NAME: ok ..." (or "FAILED ...") on COM1:
 *   ident      register 0x00 reads 0x010000ed (edu version 1.0)
 *   inversion  what is written at 0x04 reads back inverted (a plain MMIO round trip)
 *   msi        the device's MSI (programmed in its MSI capability: address 0xfee00000, data =
 *              vector 0x41) arrives as that vector, counted by an interrupt handler
 *   dma        256 bytes RAM -> edu's buffer -> other RAM (edu's DMA engine, guest-physical
 *              addresses, the IOMMU translating), with an MSI at the end of each transfer
 *   hostile    a DMA from the device into an address outside guest RAM (0xff00000; RAM is
 *              64 MiB): the IOMMU blocks it (the host logs a DMAR fault), the guest runs on
 *   dma-after  the round trip again: the device still works
 * then powers off by ACPI (or, with "reset" on its command line, resets the machine once and
 * runs them all again after the reset: minivisor passes the device through to the new VM).
 * Under minivisor -kernel (board/multiboot.h): 32-bit protected mode, paging off, so BARs and
 * the LAPIC are plain physical addresses.
 *
 * edu's registers (QEMU docs/specs/edu.txt): 0x00 ident, 0x04 inversion, 0x24 interrupt status,
 * 0x60 raise, 0x64 acknowledge, 0x80 DMA source, 0x88 destination, 0x90 count, 0x98 command
 * (bit 0 start, bit 1 edu -> RAM, bit 2 interrupt when done), buffer at 0x40000 (4 KiB). Two
 * quirks of the model (issue 15): its DMA addresses have 28 bits, and a transfer that ends
 * exactly at the buffer's end aborts L0's QEMU: 256 bytes at the buffer's start are safe.
 */
#include <stdint.h>
#include "../stage4/serial.h"

#define PM1A_CONTROL 0x604
#define SLP_S5 ((5 << 10) | 0x2000)
#define LAPIC 0xfee00000u
#define VECTOR 0x41
#define EDU_BUF 0x40000u
#define SRC_RAM 0x200000u
#define DST_RAM 0x300000u
#define OUTSIDE 0x0ff00000u   /* 255 MiB: inside edu's 28 bits, outside a 64 MiB guest */
#define LEN 256

/* Entry (Multiboot header, stack), and the interrupt stubs: an MSI counter, a catch-all. */
__asm__(".text\n.align 4\n"
	"mb_header: .long 0x1badb002, 0x3, -(0x1badb002 + 0x3)\n"
	".globl start\nstart: mov $stack_top, %esp\n push %ebx\n push %eax\n call main\n"
	"1: cli\n hlt\n jmp 1b\n"
	".globl isr_msi\nisr_msi: pushal\n call on_msi\n popal\n iret\n"
	".globl isr_other\nisr_other: pushal\n call on_other\n popal\n iret\n"
	".globl isr_fault\nisr_fault: call on_fault\n 2: cli\n hlt\n jmp 2b\n"
	".bss\n.align 16\n.space 8192\nstack_top:\n.text\n");
void isr_msi(void), isr_other(void), isr_fault(void);

/* Port I/O (outb, outl, inl) and COM1 from stage 4's bare guests; outw is this guest's own. */
static inline void outw(uint16_t p, uint16_t v)
{
	__asm__ volatile("outw %0, %1" :: "a"(v), "Nd"(p));
}

static inline uint32_t rd(uint32_t a) { return *(volatile uint32_t *)a; }
static inline void wr(uint32_t a, uint32_t v) { *(volatile uint32_t *)a = v; }
static inline uint64_t rdtsc(void)
{
	uint32_t lo, hi;
	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return (uint64_t)hi << 32 | lo;
}

static void puts(const char *s)
{
	while (*s)
		outb(COM1, *s++);
}

static void puthex(uint32_t v)
{
	char b[11] = "0x";
	int n = 2;
	for (int i = 28; i >= 0; i -= 4)
		if ((v >> i) || i == 0 || n > 2)
			b[n++] = "0123456789abcdef"[(v >> i) & 15];
	b[n] = 0;
	puts(b);
}

static volatile uint32_t msi_count, msi_status, other_count;
static uint32_t bar0;

/* edu's interrupt: read why, acknowledge at the device, then at the LAPIC. */
void on_msi(void)
{
	msi_status = rd(bar0 + 0x24);
	wr(bar0 + 0x64, msi_status);
	msi_count++;
	wr(LAPIC + 0xb0, 0);
}

void on_other(void)
{
	other_count++;
	wr(LAPIC + 0xb0, 0);
}

void on_fault(void)
{
	puts("edu-test: FAILED: a CPU exception\n");
}

/* A bounded wait (a test must end): about 10 s of TSC on a 2 - 3 GHz host. */
static int wait_for(volatile uint32_t *what, uint32_t until)
{
	uint64_t t0 = rdtsc();
	while (*what < until)
		if (rdtsc() - t0 > 30000000000ull)
			return 0;
	return 1;
}

static uint32_t pci_read(uint32_t slot, uint32_t reg)
{
	outl(0xcf8, 0x80000000u | slot << 11 | reg);
	return inl(0xcfc);
}

static void pci_write(uint32_t slot, uint32_t reg, uint32_t v)
{
	outl(0xcf8, 0x80000000u | slot << 11 | reg);
	outl(0xcfc, v);
}

static struct {
	uint16_t lo, sel;
	uint8_t zero, type;
	uint16_t hi;
} __attribute__((packed)) idt[256];

static void set_gate(int v, void (*fn)(void), uint16_t cs)
{
	uint32_t a = (uint32_t)fn;
	idt[v].lo = a;
	idt[v].hi = a >> 16;
	idt[v].sel = cs;
	idt[v].zero = 0;
	idt[v].type = 0x8e;   /* 32-bit interrupt gate, present */
}

/* Interrupts: an IDT, the 8259s masked (their vectors would be exceptions here), the LAPIC on. */
static void interrupts_on(void)
{
	uint16_t cs;
	__asm__ volatile("mov %%cs, %0" : "=r"(cs));
	for (int v = 0; v < 256; v++)
		set_gate(v, v < 32 ? isr_fault : v == VECTOR ? isr_msi : isr_other, cs);
	struct { uint16_t limit; uint32_t base; } __attribute__((packed)) idtr = { sizeof(idt) - 1,
										   (uint32_t)idt };
	__asm__ volatile("lidt %0" :: "m"(idtr));
	outb(0x21, 0xff);
	outb(0xa1, 0xff);
	wr(LAPIC + 0xf0, 0x1ff);   /* spurious vector 0xff, APIC software-enabled */
	wr(LAPIC + 0x80, 0);       /* task priority: accept all */
	__asm__ volatile("sti");
}

/* Program the MSI capability: address 0xfee00000 (APIC ID 0), data = the vector, enable. */
static int msi_on(uint32_t slot)
{
	uint32_t p = pci_read(slot, 0x34) & 0xfc;
	for (int n = 0; p && n < 48; n++, p = (pci_read(slot, p) >> 8) & 0xfc) {
		uint32_t head = pci_read(slot, p);
		if ((head & 0xff) != 0x05)
			continue;
		int is64 = head & (0x80 << 16);
		pci_write(slot, p + 4, LAPIC);
		if (is64) {
			pci_write(slot, p + 8, 0);
			pci_write(slot, p + 12, VECTOR);
		} else {
			pci_write(slot, p + 8, VECTOR);
		}
		pci_write(slot, p, head | (1 << 16));   /* MSI enable (control bit 0) */
		return 1;
	}
	return 0;
}

/* One edu DMA transfer, its end signalled by an MSI (command bit 2). */
static int dma(uint32_t src, uint32_t dst, uint32_t to_ram)
{
	uint32_t before = msi_count;
	wr(bar0 + 0x80, src);
	wr(bar0 + 0x84, 0);
	wr(bar0 + 0x88, dst);
	wr(bar0 + 0x8c, 0);
	wr(bar0 + 0x90, LEN);
	wr(bar0 + 0x94, 0);
	wr(bar0 + 0x98, 1 | (to_ram ? 2 : 0) | 4);
	return wait_for(&msi_count, before + 1) && !(rd(bar0 + 0x98) & 1) && msi_status == 0x100;
}

static void round_trip(const char *name, uint8_t seed)
{
	volatile uint8_t *src = (uint8_t *)SRC_RAM, *dst = (uint8_t *)DST_RAM;
	for (int i = 0; i < LEN; i++) {
		src[i] = (uint8_t)(i * 7 + seed);
		dst[i] = 0;
	}
	int ok = dma(SRC_RAM, EDU_BUF, 0) && dma(EDU_BUF, DST_RAM, 1);
	int same = 1;
	for (int i = 0; i < LEN; i++)
		same &= dst[i] == src[i];
	puts("edu-test: ");
	puts(name);
	puts(ok && same ? ": ok (256 bytes RAM -> edu -> RAM, MSI at each end)\n"
			: ": FAILED (transfer or interrupt missing, or the bytes differ)\n");
}

/* CMOS NVRAM survives a reset (board/pc.c keeps it): the mark of a second boot. */
#define CMOS_MARK 0x4f

static uint8_t cmos_read(uint8_t index)
{
	outb(0x70, index);
	return inb(0x71);
}

static void cmos_write(uint8_t index, uint8_t value)
{
	outb(0x70, index);
	outb(0x71, value);
}

/* The Multiboot command line (MBI flag 2) holds the word "reset"? */
static int asked_to_reset(uint32_t magic, const uint32_t *mbi)
{
	if (magic != 0x2badb002 || !(mbi[0] & 4))
		return 0;
	for (const char *p = (const char *)mbi[4]; *p; p++)
		if (p[0] == 'r' && p[1] == 'e' && p[2] == 's' && p[3] == 'e' && p[4] == 't')
			return 1;
	return 0;
}

/*
 * With "reset" on the command line (-append reset), the first boot runs the checks and then
 * resets the machine (0xcf9): minivisor builds it again (new RAM, new KVM VM) and passes the
 * device through again; the second boot (CMOS mark set) runs them again and powers off.
 */
static void finish(int reset)
{
	if (reset) {
		puts("edu-test: resetting the machine (0xcf9)\n");
		cmos_write(CMOS_MARK, 0xed);
		outb(0xcf9, 0x02);
		outb(0xcf9, 0x06);
	}
	outw(PM1A_CONTROL, SLP_S5);
}

int main(uint32_t magic, const uint32_t *mbi)
{
	uint32_t slot = 0;
	int second = cmos_read(CMOS_MARK) == 0xed;
	int reset = !second && asked_to_reset(magic, mbi);
	if (second)
		cmos_write(CMOS_MARK, 0);
	puts(second ? "edu-test: start (after a reset)\n" : "edu-test: start\n");
	for (slot = 0; slot < 32 && pci_read(slot, 0) != 0x11e81234u; slot++)
		;
	if (slot == 32) {
		puts("edu-test: FAILED: no edu device (1234:11e8) on bus 0\n");
		finish(0);
		return 0;
	}
	bar0 = pci_read(slot, 0x10) & ~0xfu;
	pci_write(slot, 0x04, pci_read(slot, 0x04) | 0x6);   /* memory decoding, bus master */
	puts("edu-test: found at 00:");
	puthex(slot);
	puts(".0, BAR0 ");
	puthex(bar0);
	puts("\n");

	uint32_t id = rd(bar0);
	puts(id == 0x010000ed ? "edu-test: ident: ok " : "edu-test: ident: FAILED ");
	puthex(id);
	puts("\n");
	wr(bar0 + 4, 0x12345678);
	uint32_t inv = rd(bar0 + 4);
	puts(inv == ~0x12345678u ? "edu-test: inversion: ok " : "edu-test: inversion: FAILED ");
	puthex(inv);
	puts("\n");

	interrupts_on();
	if (!msi_on(slot)) {
		puts("edu-test: msi: FAILED: no MSI capability\n");
	} else {
		wr(bar0 + 0x60, 0x1);   /* raise: interrupt status bit 0 */
		int got = wait_for(&msi_count, 1);
		puts(got && msi_status == 1 ? "edu-test: msi: ok (vector 0x41, status 0x1)\n"
					    : "edu-test: msi: FAILED (no interrupt)\n");
	}
	round_trip("dma", 0x11);

	/* Hostile: the device writes where the guest has no RAM. The IOMMU has no mapping
	 * there: the write is blocked (L1's kernel logs a DMAR fault), edu still says done. */
	uint32_t before = msi_count;
	wr(bar0 + 0x80, EDU_BUF);
	wr(bar0 + 0x88, OUTSIDE);
	wr(bar0 + 0x90, LEN);
	wr(bar0 + 0x98, 1 | 2 | 4);
	int done = wait_for(&msi_count, before + 1);
	puts("edu-test: hostile: DMA to ");
	puthex(OUTSIDE);
	puts(done ? " (outside RAM) finished; the guest runs on\n"
		  : " (outside RAM) never finished; the guest runs on\n");
	round_trip("dma-after", 0x5a);
	puts("edu-test: other interrupts ");
	puthex(other_count);
	puts("\nedu-test: done\n");
	finish(reset);
	return 0;
}
