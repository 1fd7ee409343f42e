/*
 * fuzz_vmstate.c - stage 5's migration destination (migration/vmstate.c, vmstate_load()): every
 * section of an incoming stream handed to the device model it names (the legacy devices, the
 * HPET, the chipset with every PCI function's config space replayed through its own write
 * path, IDE or AHCI with their buffers, the VGA's registers and VRAM, RAM pages), and then the
 * guest's first register accesses on the loaded machine: the state a stream sets is the state
 * the next guest store works with, so a loaded value nothing checked shows up there.
 *
 * A machine without KVM: the device models of pc or q35 (with or without the VGA) on a bus, as
 * board/pc.c wires them, guest RAM from fuzz_ops.c, no vCPU, vm_fd -1. vmstate_load() applies
 * the device models' sections, then fails at KVM's (KVM_SET_IRQCHIP on fd -1): those are the
 * kernel's to check. The HPET is not on the bus (no thread here); op 3 reads and writes its
 * registers at a fuzzed time.
 *
 * Input: a machine byte (bit 0 q35, bit 1 the VGA), then sections as records, each
 *   name length (u8, 0 ends the list), the name, version (u32), length (u32), stored (u32),
 *   then the stored bytes of the payload, which is zero-padded to its length (so a seed's
 *   16 MiB VRAM section is a few bytes);
 * the harness writes each with stream_write_section(), checksum and all, since a fuzzer
 * would never get a CRC right, and the stream reader has a target of its own
 * (migration_stream). The op stream follows the list.
 *
 * Seeds: FUZZ_WRITE_SEED=FILE FUZZ_MACHINE=N build/fuzz/bin/fuzz_vmstate writes the device
 * models' sections of a power-on machine (vmstate_save_devices()) and, zero-filled, the vCPU
 * and KVM sections at the sizes vmstate.c wants (it says them: "want N").
 *
 * Teaches: a migration stream is input like any other: a destination that trusts it runs
 * a guest whose device state was written by whoever sent it.
 */
#define _GNU_SOURCE   /* memfd_create */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fuzz_disks.h"
#include "fuzz_ops.h"
#include "migration/vmstate.h"

#define RAM_SIZE (64 * 1024)
#define MAX_PAYLOAD (VGA_VRAM_SIZE + (1u << 20))   /* the biggest section: the VGA's */
#define MAX_STREAM (MAX_PAYLOAD + (4u << 20))       /* an input's sections, all together */
#define MACHINE_Q35 1
#define MACHINE_VGA 2

static struct pc pc;
static struct fuzz_disks disks;
static int null_fd = -1;

/* The device models of board/pc.c's attach_devices(), without KVM and without threads. */
static void build(unsigned machine, struct guest_memory *mem)
{
	struct machine *m = &pc.m;
	char why[256];
	memset(&pc, 0, sizeof(pc));
	m->vm.vm_fd = m->vm.kvm_fd = m->stop_fd = -1;
	m->vm.mem = *mem;
	m->ncpus = 1;
	m->vcpus[0].fd = -1;
	bus_init(&m->bus);
	bool q35 = machine & MACHINE_Q35;
	chipset_init(&pc.chipset, q35 ? CHIPSET_Q35 : CHIPSET_I440FX);
	fw_cfg_init(&pc.fw_cfg, &m->vm.mem);
	i8042_init(&pc.i8042, -1, &m->reset_line, &m->bus.lock);
	hpet_init(&pc.hpet, -1);
	if (uart_attach(&m->com1, &m->bus, -1, COM1_PORT, COM1_IRQ, null_fd) ||
	    rtc_attach(&m->rtc, &m->bus) || power_attach(&m->power, &m->bus) ||
	    i8042_attach(&pc.i8042, &m->bus) ||
	    chipset_attach(&pc.chipset, &m->bus, -1, ACPI_PM1_EVT_PORT) ||
	    fw_cfg_attach(&pc.fw_cfg, &m->bus))
		abort();
	pc.chipset.reset_line = &m->reset_line;
	struct block_dev *drives[PC_DRIVE_POSITIONS] = { disks.disk, NULL, disks.cd };
	enum ata_media media[PC_DRIVE_POSITIONS] = { ATA_MEDIA_DISK, ATA_MEDIA_DISK,
						     ATA_MEDIA_CDROM };
	int err = q35 ? ahci_attach(&pc.ahci, &m->bus, &pc.chipset.pci, &m->vm.mem, -1,
				    Q35_LPC_SLOT, 2, chipset_intx_gsi(Q35_LPC_SLOT, 0), drives,
				    media, why, sizeof(why))
		      : ide_attach(&pc.ide, &m->bus, &pc.chipset.pci, &m->vm.mem, -1, 1, 1, drives,
				   media, why, sizeof(why));
	if (!err && (machine & MACHINE_VGA)) {
		err = std_vga_attach(&pc.vga, &m->bus, &pc.chipset.pci, -1, 16, q35 ? 1 : 2, why,
				     sizeof(why));
		pc.has_vga = pc.vga.vga.vram != NULL;
	}
	if (err) {
		fprintf(stderr, "fuzz_vmstate: %s\n", why);
		abort();
	}
}

static void teardown(void)
{
	if (pc.has_vga)
		std_vga_detach(&pc.vga);
	ide_detach(&pc.ide);
	fw_cfg_free(&pc.fw_cfg);
}

/* The sections of the input, written as a sender would (with their checksums). */
static void write_sections(struct stream *s, struct fuzz_input *in)
{
	static uint8_t *payload;
	if (!payload && !(payload = malloc(MAX_PAYLOAD)))
		abort();
	size_t total = 0;
	for (unsigned n = 0; n < 64 && in->left; n++) {
		char name[STREAM_NAME_LEN + 1] = "";
		unsigned name_len = fi_u8(in) % (STREAM_NAME_LEN + 1);
		if (!name_len)
			break;
		fi_bytes(in, name, name_len);
		uint32_t version = fi_u32(in), len = fi_u32(in) % (MAX_PAYLOAD + 1);
		if (total + len > MAX_STREAM)   /* zero padding is cheap to ask for, not to make */
			len = 0;
		total += len;
		uint32_t stored = fi_u32(in);
		size_t got = fi_bytes(in, payload, stored < len ? stored : len);
		memset(payload + got, 0, len - got);
		stream_write_section(s, name, version, payload, len);
	}
	stream_write_end(s);
}

/* Op 3: the HPET's registers (not on the bus here), at a time that moves forward. */
static void hpet_op(void *ctx, struct fuzz_input *in)
{
	static uint64_t now;
	struct hpet *h = ctx;
	uint8_t how = fi_u8(in);
	uint64_t offset = fi_u16(in) & 0x3ff;
	now += fi_u32(in);
	if (how & 1)
		hpet_write_reg(h, offset, fi_u64(in), ~0ull, now);
	else
		hpet_read_reg(h, offset, now);
	hpet_update(h, now);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int fd = -1;
	struct fuzz_input in = { data, size };
	char why[256];

	fuzz_quiet();
	if (!disks.disk)
		fuzz_disks_open(&disks, "vmstate");
	if (null_fd < 0 && (null_fd = open("/dev/null", O_WRONLY)) < 0)
		abort();
	if (fd < 0 && (fd = memfd_create("fuzz-vmstate", 0)) < 0)
		abort();
	struct guest_memory *mem = fuzz_ram(RAM_SIZE);
	build(fi_u8(&in), mem);

	struct stream s;
	if (ftruncate(fd, 0) < 0 || lseek(fd, 0, SEEK_SET) < 0)
		abort();
	stream_init(&s, fd);
	write_sections(&s, &in);
	if (lseek(fd, 0, SEEK_SET) < 0)
		abort();
	stream_init(&s, fd);
	/* It fails at KVM's sections at the latest: FUZZ_VERBOSE=1 says where. */
	if (vmstate_load(&pc, &s, why, sizeof(why)) && getenv("FUZZ_VERBOSE"))
		fprintf(stderr, "vmstate_load: %s\n", why);

	fuzz_ops_run(&pc.m.bus, mem, &in, hpet_op, &pc.hpet, 4096);
	teardown();
	fuzz_ram_free(mem);
	return 0;
}

/* The seed writer (see the header comment). */
static uint32_t wanted_size(const char *name)
{
	struct stream s;
	char why[256];
	unsigned want = 0;
	int fd = memfd_create("fuzz-vmstate-probe", 0);
	stream_init(&s, fd);
	stream_write_section(&s, name, 1, "", 0);
	stream_write_end(&s);
	lseek(fd, 0, SEEK_SET);
	stream_init(&s, fd);
	vmstate_load(&pc, &s, why, sizeof(why));
	close(fd);
	const char *w = strstr(why, "want ");
	if (!w || sscanf(w, "want %u", &want) != 1)
		abort();
	return want;
}

static void record(FILE *f, const char *name, uint32_t version, const uint8_t *p, uint32_t len)
{
	uint32_t used = len;
	while (used && !p[used - 1])   /* the harness pads with zeros again */
		used--;
	fputc((int)strlen(name), f);
	fputs(name, f);
	fwrite(&version, 4, 1, f);
	fwrite(&len, 4, 1, f);
	fwrite(&used, 4, 1, f);
	fwrite(p, 1, used, f);
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc, (void)argv;
	const char *path = getenv("FUZZ_WRITE_SEED");
	if (!path)
		return 0;
	unsigned machine = getenv("FUZZ_MACHINE") ? atoi(getenv("FUZZ_MACHINE")) : 0;
	char why[256];
	fuzz_disks_open(&disks, "vmstate");
	null_fd = open("/dev/null", O_WRONLY);
	struct guest_memory *mem = fuzz_ram(RAM_SIZE);
	build(machine, mem);
	FILE *f = fopen(path, "w");
	uint8_t *zero = calloc(1, 1u << 20);
	if (!f || !zero)
		abort();
	fputc(machine, f);
	record(f, "cpu0", 1, zero, wanted_size("cpu0"));
	record(f, "kvm", 1, zero, wanted_size("kvm"));
	/* The device models: saved through the product's own writer, read back as sections. */
	int fd = memfd_create("fuzz-vmstate-seed", 0);
	struct stream s;
	stream_init(&s, fd);
	if (vmstate_save_devices(&pc, &s, why, sizeof(why)) || stream_write_end(&s))
		abort();
	lseek(fd, 0, SEEK_SET);
	stream_init(&s, fd);
	struct section sec;
	while (stream_read_section(&s, &sec) == 0) {
		record(f, sec.name, sec.version, sec.payload, sec.len);
		free(sec.payload);
	}
	fputc(0, f);   /* the end of the list; ops follow: a UART and an IDE/AHCI register */
	static const uint8_t ops[] = { 2, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0 };
	fwrite(ops, 1, sizeof(ops), f);
	fclose(f);
	close(fd);
	free(zero);
	teardown();
	fuzz_ram_free(mem);
	exit(0);
}
