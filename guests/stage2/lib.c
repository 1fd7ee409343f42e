/*
 * lib.c - the stage-2 guests' console, self-checks and test map (see guest.h).
 *
 * The test map is written the way a kernel edits its own page tables: read CR3, follow the
 * entries (RAM is identity-mapped, so a table's physical address is also its virtual one),
 * write new entries, then reload CR3 so the TLB forgets what it had cached.
 */
#include <stdarg.h>

#include "guest.h"

#define DEBUG_PORT 0xE9

#define PTE_P    (1ull << 0)
#define PTE_W    (1ull << 1)
#define PTE_PS   (1ull << 7)
#define PTE_ADDR 0x000ffffffffff000ull

uint8_t page_a[GUEST_PAGE] __attribute__((aligned(GUEST_PAGE)));
uint8_t page_b[GUEST_PAGE] __attribute__((aligned(GUEST_PAGE)));
uint8_t page_c[GUEST_PAGE] __attribute__((aligned(GUEST_PAGE)));
uint64_t test_pt[512] __attribute__((aligned(GUEST_PAGE)));
static uint64_t test_pd[512] __attribute__((aligned(GUEST_PAGE)));

static int failures;

/*
 * gcc may call memset and memcpy for array and struct initializers even in freestanding
 * code, so a guest without a C library provides them: one string instruction each.
 */
void *memset(void *dst, int c, unsigned long n)
{
	void *d = dst;
	__asm__ volatile("rep stosb" : "+D"(d), "+c"(n) : "a"(c) : "memory");
	return dst;
}

void *memcpy(void *dst, const void *src, unsigned long n)
{
	void *d = dst;
	__asm__ volatile("rep movsb" : "+D"(d), "+S"(src), "+c"(n) : : "memory");
	return dst;
}

/* ---- the console ---- */

static void console_write(const char *s, uint64_t len)
{
	__asm__ volatile("rep outsb" : "+S"(s), "+c"(len) : "d"(DEBUG_PORT) : "memory");
}

struct line {
	char text[160];
	unsigned len;
};

static void emit(struct line *l, char c)
{
	if (l->len < sizeof(l->text))
		l->text[l->len++] = c;
}

static void emit_str(struct line *l, const char *s)
{
	while (*s)
		emit(l, *s++);
}

static void emit_number(struct line *l, uint64_t n, unsigned base)
{
	char digits[20];
	int len = 0;
	do
		digits[len++] = "0123456789abcdef"[n % base];
	while (n /= base);
	while (len)
		emit(l, digits[--len]);
}

static const char *result_name(uint32_t r)
{
	switch (r) {
	case HC_OK: return "HC_OK";
	case HC_EFAULT: return "HC_EFAULT";
	case HC_EINVAL: return "HC_EINVAL";
	case HC_ENOSYS: return "HC_ENOSYS";
	default: return "?";
	}
}

static void emit_result(struct line *l, uint32_t r)
{
	if (hc_is_error(r)) {
		emit(l, '-');
		emit_number(l, -(uint64_t)(int32_t)r, 10);
	} else {
		emit_number(l, r, 10);
	}
	emit_str(l, " (");
	emit_str(l, result_name(r));
	emit(l, ')');
}

/* One conversion after a '%': returns how many format characters it used. */
static int emit_conversion(struct line *l, const char *f, va_list *ap)
{
	bool wide = *f == 'l';
	char c = f[wide];
	switch (c) {
	case 's': emit_str(l, va_arg(*ap, const char *)); break;
	case 'c': emit(l, (char)va_arg(*ap, int)); break;
	case 'r': emit_result(l, va_arg(*ap, uint32_t)); break;
	case 'd': {
		int v = va_arg(*ap, int);
		if (v < 0)
			emit(l, '-');
		emit_number(l, v < 0 ? -(uint64_t)v : (uint64_t)v, 10);
		break;
	}
	case 'u':
	case 'x':
		emit_number(l, wide ? va_arg(*ap, uint64_t) : va_arg(*ap, uint32_t),
			    c == 'x' ? 16 : 10);
		break;
	default: emit(l, c); break;
	}
	return wide + 1;
}

void say(const char *fmt, ...)
{
	struct line l = { .len = 0 };
	va_list ap;
	va_start(ap, fmt);
	emit_str(&l, "guest: ");
	for (const char *f = fmt; *f; f++)
		if (*f == '%')
			f += emit_conversion(&l, f + 1, &ap);
		else
			emit(&l, *f);
	va_end(ap);
	emit(&l, '\n');
	console_write(l.text, l.len);
}

void check(bool ok, const char *what)
{
	say(ok ? "ok: %s" : "FAILED: %s", what);
	failures += !ok;
}

int checks_failed(void)
{
	return failures;
}

/* ---- the test map ---- */

static uint64_t read_cr3(void)
{
	uint64_t cr3;
	__asm__ volatile("mov %%cr3, %0" : "=r"(cr3));
	return cr3;
}

/* Reloading CR3 drops every cached translation: the new entries take effect. */
static void flush_tlb(void)
{
	__asm__ volatile("mov %0, %%cr3" : : "r"(read_cr3()) : "memory");
}

static uint64_t *table_at(uint64_t entry)
{
	return (uint64_t *)(uintptr_t)(entry & PTE_ADDR);
}

bool cpu_has_1g_pages(void)
{
	uint32_t a = 0x80000001, b, c = 0, d;
	__asm__ volatile("cpuid" : "+a"(a), "=b"(b), "+c"(c), "=d"(d));
	return d & (1u << 26);
}

static uint64_t phys(const void *p)
{
	return (uint64_t)(uintptr_t)p;   /* RAM is identity-mapped */
}

void setup_test_map(uint64_t ram_size)
{
	uint64_t *pml4 = table_at(read_cr3());
	uint64_t *pdpt = table_at(pml4[0]);

	test_pt[0] = phys(page_b) | PTE_P | PTE_W;        /* VA_SWAP_LO */
	test_pt[1] = phys(page_a) | PTE_P | PTE_W;        /* VA_SWAP_HI */
	test_pt[2] = phys(page_c) | PTE_P;                /* VA_READ_ONLY */
	test_pt[3] = 0;                                   /* VA_PT_HOLE */
	test_pt[4] = phys(test_pt) | PTE_P | PTE_W;       /* VA_SELF_MAP */
	test_pt[5] = (ram_size - GUEST_PAGE) | PTE_P | PTE_W;   /* VA_RAM_END */
	test_pt[6] = ram_size | PTE_P | PTE_W;            /* VA_PAST_RAM */
	test_pd[0] = phys(test_pt) | PTE_P | PTE_W;
	test_pd[1] = 0 | PTE_P | PTE_W | PTE_PS;          /* VA_2M_ALIAS */
	pdpt[1] = phys(test_pd) | PTE_P | PTE_W;
	pdpt[2] = 0 | PTE_P | PTE_W | PTE_PS;             /* VA_1G_ALIAS */
	flush_tlb();
}
