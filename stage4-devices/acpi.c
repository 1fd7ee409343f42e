/*
 * acpi.c - build RSDP, XSDT, FADT, FACS, DSDT and MADT in guest RAM. See acpi.h.
 * Table layouts: ACPI 6.4, sections 5.2.5 (RSDP), 5.2.8 (XSDT), 5.2.9 (FADT), 5.2.10 (FACS),
 * 5.2.11 (DSDT), 5.2.12 (MADT); AML encoding: chapter 20.
 */
#include "acpi.h"

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "pci.h"
#include "power.h"
#include "rtc.h"

struct acpi_header {
	char signature[4];
	uint32_t length;
	uint8_t revision, checksum;
	char oem_id[6], oem_table_id[8];
	uint32_t oem_revision;
	char creator_id[4];
	uint32_t creator_revision;
} __attribute__((packed));

struct acpi_rsdp {
	char signature[8];
	uint8_t checksum;             /* of the first 20 bytes (ACPI 1.0 part) */
	char oem_id[6];
	uint8_t revision;             /* 2: has the XSDT fields */
	uint32_t rsdt_address;
	uint32_t length;
	uint64_t xsdt_address;
	uint8_t extended_checksum;    /* of all 36 bytes */
	uint8_t reserved[3];
} __attribute__((packed));

/* Generic Address Structure: a register in I/O or memory space. */
struct acpi_gas {
	uint8_t space_id, bit_width, bit_offset, access_size;
	uint64_t address;
} __attribute__((packed));

/* The FADT up to the ACPI 2.0 extended addresses (revision 3, 244 bytes). */
struct acpi_fadt {
	struct acpi_header h;
	uint32_t firmware_ctrl, dsdt;
	uint8_t reserved0, preferred_pm_profile;
	uint16_t sci_int;
	uint32_t smi_cmd;
	uint8_t acpi_enable, acpi_disable, s4bios_req, pstate_cnt;
	uint32_t pm1a_evt_blk, pm1b_evt_blk, pm1a_cnt_blk, pm1b_cnt_blk, pm2_cnt_blk, pm_tmr_blk;
	uint32_t gpe0_blk, gpe1_blk;
	uint8_t pm1_evt_len, pm1_cnt_len, pm2_cnt_len, pm_tmr_len, gpe0_blk_len, gpe1_blk_len;
	uint8_t gpe1_base, cst_cnt;
	uint16_t p_lvl2_lat, p_lvl3_lat, flush_size, flush_stride;
	uint8_t duty_offset, duty_width, day_alrm, mon_alrm, century;
	uint16_t iapc_boot_arch;
	uint8_t reserved1;
	uint32_t flags;
	struct acpi_gas reset_reg;
	uint8_t reset_value;
	uint16_t arm_boot_arch;
	uint8_t minor_version;
	uint64_t x_firmware_ctrl, x_dsdt;
	struct acpi_gas x_pm1a_evt_blk, x_pm1b_evt_blk, x_pm1a_cnt_blk, x_pm1b_cnt_blk;
	struct acpi_gas x_pm2_cnt_blk, x_pm_tmr_blk, x_gpe0_blk, x_gpe1_blk;
} __attribute__((packed));

#define FADT_F_WBINVD        (1u << 0)
#define FADT_F_PWR_BUTTON    (1u << 4)   /* set: there is NO fixed power button */
#define FADT_F_SLP_BUTTON    (1u << 5)
#define FADT_F_RESET_REG_SUP (1u << 10)  /* RESET_REG holds the reset register */
#define BOOT_ARCH_VGA_ABSENT ACPI_BOOT_ARCH_VGA_ABSENT

struct acpi_facs {
	char signature[4];
	uint32_t length;
	uint32_t hardware_signature, waking_vector, global_lock, flags;
	uint8_t reserved[40];
} __attribute__((packed));

struct madt_lapic {
	uint8_t type, length, processor_id, apic_id;
	uint32_t flags;
} __attribute__((packed));
struct madt_ioapic {
	uint8_t type, length, id, reserved;
	uint32_t address, gsi_base;
} __attribute__((packed));
struct madt_override {
	uint8_t type, length, bus, source;
	uint32_t gsi;
	uint16_t flags;
} __attribute__((packed));

/* ---- the DSDT's AML, assembled by hand (ACPI 6.4, chapter 20) -------------------------
 *
 * What iasl would make of:
 *   Scope (\_SB) {
 *     Device (PCI0) {
 *       Name (_HID, EisaId ("PNP0A03"))          // a PCI root bridge: Linux scans bus 0
 *       Name (_UID, 0)
 *       Name (_CRS, ResourceTemplate () { ... })  // the bus, port and memory windows
 *       Name (_PRT, Package () {                 // PCI routing: slot N's INTA# -> GSI
 *         Package () { 0x0001ffff, 0, 0, 10 }, ...
 *       })
 *     }
 *   }
 *   Name (_S5, Package () { 5, 0, 0, 0 })        // the PM1 SLP_TYP value of "soft off"
 *
 * AML is a tree of opcodes; a construct that contains others (Scope, Device, Package) starts
 * with a PkgLength: its length in bytes, counting the PkgLength itself, in 1 byte when it
 * is under 64, else in 2 bytes (low 4 bits in the first, the rest in the second).
 */
struct aml {
	uint8_t bytes[512];
	unsigned len;
};

static void aml_put(struct aml *a, const void *p, unsigned n)
{
	if (a->len + n <= sizeof(a->bytes))
		memcpy(a->bytes + a->len, p, n);
	a->len += n;   /* an overflow shows as len > sizeof(bytes): acpi_build checks */
}

static void aml_byte(struct aml *a, uint8_t b)
{
	aml_put(a, &b, 1);
}

/* op, then PkgLength, then body: the shape of Scope, Device and Package. */
static void aml_wrap(struct aml *a, const uint8_t *op, unsigned op_len, const struct aml *body)
{
	aml_put(a, op, op_len);
	if (body->len + 1 < 64) {
		aml_byte(a, body->len + 1);
	} else {
		unsigned total = body->len + 2;
		aml_byte(a, 0x40 | (total & 0x0f));
		aml_byte(a, total >> 4);
	}
	aml_put(a, body->bytes, body->len);
}

static void aml_name(struct aml *a, const char name[4])
{
	aml_byte(a, 0x08);   /* NameOp */
	aml_put(a, name, 4);
}

/* Package () { 0xSSSSffff (slot, any function), pin 0 (INTA#), source 0 (a GSI), gsi } */
static void aml_prt_entry(struct aml *a, unsigned slot, unsigned gsi)
{
	struct aml e = { .len = 0 };
	uint32_t address = slot << 16 | 0xffff;
	const uint8_t pkg = 0x12;
	aml_byte(&e, 4);                  /* NumElements */
	aml_byte(&e, 0x0c);               /* DWordPrefix */
	aml_put(&e, &address, 4);
	aml_byte(&e, 0x00);               /* ZeroOp: INTA# */
	aml_byte(&e, 0x00);               /* ZeroOp: no link device, the next value is a GSI */
	aml_byte(&e, 0x0a);               /* BytePrefix */
	aml_byte(&e, gsi);
	aml_wrap(a, &pkg, 1, &e);
}

/* Word (16-bit) address space descriptor (ACPI 6.4, 6.4.3.5.3): a range the bridge decodes. */
static void resource_word(struct aml *r, uint8_t type, uint8_t type_flags, uint16_t min,
			  uint16_t max)
{
	uint16_t len = max - min + 1;
	uint8_t d[16] = { 0x88, 13, 0, type, 0x0c /* min, max fixed */, type_flags };
	memcpy(d + 8, &min, 2);
	memcpy(d + 10, &max, 2);
	memcpy(d + 14, &len, 2);
	aml_put(r, d, sizeof(d));
}

/* DWord (32-bit) memory range descriptor (6.4.3.5.2). */
static void resource_dword_memory(struct aml *r, uint32_t min, uint32_t max)
{
	uint32_t len = max - min + 1;
	uint8_t d[26] = { 0x87, 23, 0, 0 /* memory */, 0x0c, 0x01 /* read-write */ };
	memcpy(d + 10, &min, 4);
	memcpy(d + 14, &max, 4);
	memcpy(d + 22, &len, 4);
	aml_put(r, d, sizeof(d));
}

/*
 * Name (_CRS, ResourceTemplate () { ... }): what the root bridge decodes. Bus numbers 0-255,
 * the config ports 0xcf8-0xcff for itself, the rest of the I/O ports, and the memory window
 * for BARs from 3 GiB up to the IOAPIC. Linux assigns and checks BARs against these windows.
 */
static void aml_crs(struct aml *a)
{
	static const uint8_t buffer_op = 0x11;
	static const uint8_t config_ports[] = { 0x47, 0x01, 0xf8, 0x0c, 0xf8, 0x0c, 0x01, 0x08 };
	static const uint8_t end_tag[] = { 0x79, 0x00 };
	struct aml res = { .len = 0 }, buf = { .len = 0 };

	resource_word(&res, 2 /* bus numbers */, 0, 0x00, 0xff);
	aml_put(&res, config_ports, sizeof(config_ports));
	resource_word(&res, 1 /* I/O */, 0x03, 0x0000, 0x0cf7);
	resource_word(&res, 1, 0x03, 0x0d00, 0xffff);
	resource_dword_memory(&res, PCI_MMIO_BASE, IOAPIC_GPA - 1);
	aml_put(&res, end_tag, sizeof(end_tag));

	aml_byte(&buf, 0x0a);            /* BytePrefix: the buffer's size */
	aml_byte(&buf, res.len);
	aml_put(&buf, res.bytes, res.len);
	aml_name(a, "_CRS");
	aml_wrap(a, &buffer_op, 1, &buf);
}

static void build_dsdt_aml(struct aml *out)
{
	static const uint8_t hid[] = { 0x0c, 0x41, 0xd0, 0x0a, 0x03 };   /* EisaId PNP0A03 */
	static const uint8_t device_op[] = { 0x5b, 0x82 }, scope_op = 0x10, package_op = 0x12;
	struct aml prt = { .len = 0 }, pci0 = { .len = 0 }, sb = { .len = 0 };

	aml_byte(&prt, PCI_LAST_DEVICE_SLOT);                      /* NumElements */
	for (unsigned slot = 1; slot <= PCI_LAST_DEVICE_SLOT; slot++)
		aml_prt_entry(&prt, slot, pci_slot_irq(slot));

	aml_put(&pci0, "PCI0", 4);
	aml_name(&pci0, "_HID");
	aml_put(&pci0, hid, sizeof(hid));
	aml_name(&pci0, "_UID");
	aml_byte(&pci0, 0x00);
	aml_crs(&pci0);
	aml_name(&pci0, "_PRT");
	aml_wrap(&pci0, &package_op, 1, &prt);

	aml_put(&sb, "\\_SB_", 5);
	aml_wrap(&sb, device_op, 2, &pci0);
	aml_wrap(out, &scope_op, 1, &sb);

	static const uint8_t s5[] = { 0x08, '_', 'S', '5', '_', 0x12, 0x07, 0x04,
				      0x0a, ACPI_S5_SLP_TYP, 0x00, 0x00, 0x00 };
	aml_put(out, s5, sizeof(s5));   /* NameOp _S5_ Package(4) { 5, Zero, Zero, Zero } */
}

int acpi_set_boot_arch(uint8_t *buf, const struct acpi_layout *layout, uint16_t set,
		       uint16_t clear)
{
	for (unsigned i = 0; i < layout->ntables; i++) {
		struct acpi_fadt *f = (struct acpi_fadt *)(buf + layout->tables[i].at);
		if (memcmp(f->h.signature, "FACP", 4) != 0 || layout->tables[i].len < sizeof(*f))
			continue;
		f->iapc_boot_arch = (f->iapc_boot_arch & ~clear) | set;
		f->h.checksum = 0;
		f->h.checksum = -acpi_checksum(f, layout->tables[i].len);
		return 0;
	}
	return -ENOENT;
}

int acpi_set_reset_reg(uint8_t *buf, const struct acpi_layout *layout, uint16_t port,
		       uint8_t value)
{
	for (unsigned i = 0; i < layout->ntables; i++) {
		struct acpi_fadt *f = (struct acpi_fadt *)(buf + layout->tables[i].at);
		if (memcmp(f->h.signature, "FACP", 4) != 0 || layout->tables[i].len < sizeof(*f))
			continue;
		f->reset_reg = (struct acpi_gas){ 1, 8, 0, 1, port };   /* system I/O, a byte */
		f->reset_value = value;
		f->flags |= FADT_F_RESET_REG_SUP;
		f->h.checksum = 0;
		f->h.checksum = -acpi_checksum(f, layout->tables[i].len);
		return 0;
	}
	return -ENOENT;
}

uint8_t acpi_checksum(const void *table, unsigned len)
{
	uint8_t sum = 0;
	for (unsigned i = 0; i < len; i++)
		sum += ((const uint8_t *)table)[i];
	return sum;
}

static void fill_header(struct acpi_header *h, const char *sig, uint32_t len, uint8_t rev)
{
	memcpy(h->signature, sig, 4);
	h->length = len;
	h->revision = rev;
	memcpy(h->oem_id, "MINIVR", 6);
	memcpy(h->oem_table_id, "MINIVISR", 8);
	h->oem_revision = 1;
	memcpy(h->creator_id, "MVSR", 4);
	h->creator_revision = 1;
	h->checksum = 0;
	h->checksum = -acpi_checksum(h, len);
}

/* A bump allocator over the table area; it also notes where tables and pointers go. */
struct table_area {
	uint8_t *buf;
	uint32_t size, next;
	uint64_t base;                 /* the guest address of buf[0] */
	struct acpi_layout *layout;
};

static void *take(struct table_area *a, uint32_t len, uint32_t align, uint64_t *gpa)
{
	uint32_t at = (a->next + align - 1) & ~(align - 1);
	if (at > a->size || len > a->size - at)
		return NULL;
	a->next = at + len;
	*gpa = a->base + at;
	return a->buf + at;
}

/* Note a table (for its checksum) or a pointer field, both by their guest address. */
static void note_table(struct table_area *a, uint64_t gpa, uint32_t len)
{
	struct acpi_layout *l = a->layout;
	l->tables[l->ntables].at = gpa - a->base;
	l->tables[l->ntables++].len = len;
}

static void note_pointer(struct table_area *a, uint64_t gpa, uint8_t size)
{
	struct acpi_layout *l = a->layout;
	l->pointers[l->npointers].at = gpa - a->base;
	l->pointers[l->npointers++].size = size;
}

static void fill_fadt(struct acpi_fadt *f, uint64_t facs, uint64_t dsdt)
{
	f->firmware_ctrl = facs;
	f->dsdt = dsdt;
	f->sci_int = ACPI_SCI_IRQ;
	f->smi_cmd = 0;   /* no SMI command port: the machine is in ACPI mode from reset */
	f->pm1a_evt_blk = ACPI_PM1_EVT_PORT;
	f->pm1_evt_len = 4;
	f->pm1a_cnt_blk = ACPI_PM1_CNT_PORT;
	f->pm1_cnt_len = 2;
	f->pm_tmr_blk = ACPI_PM_TMR_PORT;
	f->pm_tmr_len = 4;
	f->p_lvl2_lat = 101;    /* > 100: C2 not supported */
	f->p_lvl3_lat = 1001;   /* > 1000: C3 not supported */
	f->century = RTC_CENTURY;
	/* No VGA, no 8042 keyboard; MSI allowed (the virtio devices have MSI-X). */
	f->iapc_boot_arch = BOOT_ARCH_VGA_ABSENT;
	f->flags = FADT_F_WBINVD | FADT_F_PWR_BUTTON | FADT_F_SLP_BUTTON;
	fill_header(&f->h, "FACP", sizeof(*f), 3);
}

static int build_madt(struct table_area *a, unsigned ncpus, uint64_t *gpa)
{
	uint32_t len = sizeof(struct acpi_header) + 8 + ncpus * sizeof(struct madt_lapic) +
		       sizeof(struct madt_ioapic) + sizeof(struct madt_override);
	uint8_t *t = take(a, len, 16, gpa);
	if (!t)
		return -ENOSPC;
	uint8_t *p = t + sizeof(struct acpi_header);
	uint32_t lapic_addr = LAPIC_GPA, pcat_compat = 1;   /* dual 8259s present too */
	memcpy(p, &lapic_addr, 4);
	memcpy(p + 4, &pcat_compat, 4);
	p += 8;
	for (unsigned i = 0; i < ncpus; i++, p += sizeof(struct madt_lapic)) {
		/* KVM gives vCPU n local APIC ID n. Flags bit 0: enabled. */
		struct madt_lapic l = { 0, sizeof(l), i, i, 1 };
		memcpy(p, &l, sizeof(l));
	}
	struct madt_ioapic io = { 1, sizeof(io), 0, 0, IOAPIC_GPA, 0 };
	memcpy(p, &io, sizeof(io));
	p += sizeof(io);
	/*
	 * ISA IRQ n is IOAPIC pin n here: KVM's default routing wires GSI n to pin n (even the
	 * PIT's IRQ 0). Only the SCI needs an entry, to say it is level-triggered, active low.
	 */
	struct madt_override sci = { 2, sizeof(sci), 0, ACPI_SCI_IRQ, ACPI_SCI_IRQ, 0x000f };
	memcpy(p, &sci, sizeof(sci));
	fill_header((struct acpi_header *)t, "APIC", len, 3);
	note_table(a, *gpa, len);
	return 0;
}

/* A later machine's own table (stage 5: the MCFG), after ours. */
static int build_extra(struct table_area *a, const struct acpi_extra_table *x, uint64_t *gpa)
{
	uint32_t len = sizeof(struct acpi_header) + x->body_len;
	struct acpi_header *h = take(a, len, 16, gpa);
	if (!h)
		return -ENOSPC;
	memcpy(h + 1, x->body, x->body_len);
	fill_header(h, x->signature, len, x->revision);
	note_table(a, *gpa, len);
	return 0;
}

/* A DSDT from elsewhere (stage 5 compiles its own with iasl): a whole table, header first. */
static bool dsdt_is_valid(const void *dsdt, uint32_t len)
{
	uint32_t stated;
	if (len < sizeof(struct acpi_header) || memcmp(dsdt, "DSDT", 4))
		return false;
	memcpy(&stated, (const uint8_t *)dsdt + 4, 4);
	return stated == len;
}

int acpi_build_into(uint8_t *buf, uint32_t size, uint64_t base, unsigned ncpus,
		    const struct acpi_extra_table *extra, unsigned nextra,
		    struct acpi_layout *layout)
{
	return acpi_build_with_dsdt(buf, size, base, ncpus, NULL, 0, extra, nextra, layout);
}

int acpi_build_with_dsdt(uint8_t *buf, uint32_t size, uint64_t base, unsigned ncpus,
			 const void *own_dsdt, uint32_t own_dsdt_len,
			 const struct acpi_extra_table *extra, unsigned nextra,
			 struct acpi_layout *layout)
{
	struct table_area a = { buf, size, 0, base, layout };
	uint64_t rsdp_at = 0, xsdt_at = 0, fadt_at = 0, facs_at = 0, dsdt_at = 0;
	uint64_t entries[2 + ACPI_MAX_EXTRA];
	unsigned nentries = 2 + nextra;

	if (nextra > ACPI_MAX_EXTRA)
		return -ENOSPC;
	if (own_dsdt && !dsdt_is_valid(own_dsdt, own_dsdt_len))
		return -EINVAL;
	memset(buf, 0, size);
	memset(layout, 0, sizeof(*layout));
	uint32_t xsdt_len = sizeof(struct acpi_header) + 8 * nentries;
	struct acpi_rsdp *rsdp = take(&a, sizeof(*rsdp), 16, &rsdp_at);
	struct acpi_header *xsdt = take(&a, xsdt_len, 16, &xsdt_at);
	struct acpi_facs *facs = take(&a, sizeof(*facs), 64, &facs_at);
	struct aml aml = { .len = 0 };
	if (!own_dsdt)
		build_dsdt_aml(&aml);
	if (aml.len > sizeof(aml.bytes))
		return -ENOSPC;
	uint32_t dsdt_len = own_dsdt ? own_dsdt_len : sizeof(struct acpi_header) + aml.len;
	struct acpi_header *dsdt = take(&a, dsdt_len, 16, &dsdt_at);
	struct acpi_fadt *fadt = take(&a, sizeof(*fadt), 16, &fadt_at);
	if (!rsdp || !xsdt || !facs || !dsdt || !fadt)
		return -ENOSPC;
	note_table(&a, xsdt_at, xsdt_len);
	note_table(&a, dsdt_at, dsdt_len);
	note_table(&a, fadt_at, sizeof(*fadt));
	entries[0] = fadt_at;
	if (build_madt(&a, ncpus, &entries[1]))
		return -ENOSPC;
	for (unsigned i = 0; i < nextra; i++)
		if (build_extra(&a, &extra[i], &entries[2 + i]))
			return -ENOSPC;

	memcpy(facs->signature, "FACS", 4);
	facs->length = sizeof(*facs);
	if (own_dsdt) {
		memcpy(dsdt, own_dsdt, dsdt_len);   /* its own header: only the checksum is ours */
		dsdt->checksum = 0;
		dsdt->checksum = -acpi_checksum(dsdt, dsdt_len);
	} else {
		memcpy(dsdt + 1, aml.bytes, aml.len);
		fill_header(dsdt, "DSDT", dsdt_len, 2);
	}
	fill_fadt(fadt, facs_at, dsdt_at);
	note_pointer(&a, fadt_at + offsetof(struct acpi_fadt, firmware_ctrl), 4);
	note_pointer(&a, fadt_at + offsetof(struct acpi_fadt, dsdt), 4);

	memcpy(xsdt + 1, entries, 8 * nentries);
	fill_header(xsdt, "XSDT", xsdt_len, 1);
	for (unsigned i = 0; i < nentries; i++)
		note_pointer(&a, xsdt_at + sizeof(*xsdt) + 8 * i, 8);

	memcpy(rsdp->signature, "RSD PTR ", 8);
	memcpy(rsdp->oem_id, "MINIVR", 6);
	rsdp->revision = 2;
	rsdp->length = sizeof(*rsdp);
	rsdp->xsdt_address = xsdt_at;
	rsdp->checksum = -acpi_checksum(rsdp, 20);
	rsdp->extended_checksum = -acpi_checksum(rsdp, sizeof(*rsdp));
	layout->rsdp = rsdp_at - base;
	layout->size = a.next;
	return 0;
}

int acpi_build(const struct guest_memory *mem, unsigned ncpus, uint64_t *rsdp_gpa)
{
	uint32_t size = ACPI_TABLES_END - ACPI_TABLES_GPA;
	uint8_t *area = gpa_to_hva(mem, ACPI_TABLES_GPA, size);
	struct acpi_layout layout;
	if (!area || acpi_build_into(area, size, ACPI_TABLES_GPA, ncpus, NULL, 0, &layout))
		return -ENOSPC;
	*rsdp_gpa = ACPI_TABLES_GPA + layout.rsdp;
	return 0;
}
