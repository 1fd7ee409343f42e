/*
 * vmstate.c - save and load the PC's state as stream sections (vmstate.h).
 *
 * Device sections copy each model's state struct as it is (version 1 of each): the two ends
 * run the same minivisor, so the layout is the same; a new field means a new version. QEMU
 * describes each field instead (VMState), which lets versions of QEMU talk to each other.
 * What a struct cannot carry - which interrupt line is high, where a BAR decodes - is put
 * back by replaying it through the device's own paths (irq_line_set, PCI config writes).
 */
#include "vmstate.h"
#include "ramfile.h"
#include "devstate.h"
#include "state_check.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define MAX_MSRS 256
#define SEC_VERSION 1

/* ---- the description ------------------------------------------------------------------ */

static bool is_q35(const struct pc *pc)
{
	return pc->chipset.state.kind == CHIPSET_Q35;
}

void vmstate_config(const struct pc *pc, char *out, size_t cap)
{
	char disks[256] = "";
	size_t n = 0;
	for (unsigned i = 0; i < PC_DRIVE_POSITIONS && n < sizeof(disks); i++)
		if (pc->drives.at[i])
			n += snprintf(disks + n, sizeof(disks) - n, "%s%u:%s", n ? "," : "", i,
				      pc->drives.media[i] == ATA_MEDIA_CDROM ? "cdrom" : "disk");
	snprintf(out, cap, "machine=%s\nram=%llu\ncpus=%u\n"
		 "devices=uart,rtc,power,chipset,fw_cfg,hpet,i8042,%s%s%s%s\ndisks=%s\n",
		 is_q35(pc) ? "q35" : "pc", (unsigned long long)pc->m.vm.mem.size, pc->m.ncpus,
		 is_q35(pc) ? "ahci" : "ide", pc->has_vga ? ",std-vga" : "",
		 pc->net.nnics ? ",nic" : "", pc->nflash ? ",pflash" : "", disks);
	if (pc->net.cfg && pc->net.nnics) {   /* cards and back ends, in order: e1000/user,... */
		const struct net_config *c = pc->net.cfg;
		size_t at = strlen(out);
		at += snprintf(out + at, cap - at, "nics=");
		for (unsigned i = 0; i < c->nnics && at < cap; i++) {
			const struct netdev_config *d = NULL;
			for (unsigned j = 0; j < c->nnetdevs; j++)
				if (!strcmp(c->netdevs[j].id, c->nics[i].netdev))
					d = &c->netdevs[j];
			at += snprintf(out + at, cap - at, "%s%s/%s", i ? "," : "",
				       net_model_name(c->nics[i].model),
				       d && d->kind == NETDEV_TAP ? "tap" : "user");
		}
		if (at < cap)
			snprintf(out + at, cap - at, "\n");
	}
	if (pc->usb.has_controller) {
		size_t at = strlen(out);
		at += snprintf(out + at, cap - at, "usb=%s", pc->usb.uhci_boot ? "uhci" : "xhci");
		for (unsigned i = 0; i < USB_MAX_DEVICES && at < cap; i++)
			if (pc->usb.devices[i])
				at += snprintf(out + at, cap - at, ",%s@%u", pc->usb.devices[i]->name,
					       pc->usb.ports[i]);
		if (at < cap)
			snprintf(out + at, cap - at, "\n");
	}
	if (pc->vfio.n)
		snprintf(out + strlen(out), cap - strlen(out), "vfio=%u\n", pc->vfio.n);
}

int vmstate_check(const struct pc *pc, char *why, size_t why_len)
{
	/* A passed-through device's state is inside the host's device (its registers, its
	 * firmware): nothing here can read it out, or put it into another one. QEMU migrates
	 * such a device only with a VFIO driver that has a migration interface. */
	if (pc->vfio.n) {
		snprintf(why, why_len, "a passed-through device (vfio-pci) cannot be migrated: its "
			 "state is in the host's device, not in this process");
		return -ENOTSUP;
	}
	return 0;
}

/* ---- RAM ----------------------------------------------------------------------------- */

uint64_t vmstate_ram_pages(const struct pc *pc)
{
	return pc->m.vm.mem.size / STREAM_PAGE_SIZE;
}

uint8_t *vmstate_page(const struct pc *pc, uint64_t page)
{
	return pc->m.vm.mem.host + page * STREAM_PAGE_SIZE;
}

bool vmstate_page_is_zero(const uint8_t *p)
{
	const uint64_t *q = (const uint64_t *)p;
	for (unsigned i = 0; i < STREAM_PAGE_SIZE / 8; i += 4)
		if (q[i] | q[i + 1] | q[i + 2] | q[i + 3])
			return false;
	return true;
}

/* ---- vCPUs ---------------------------------------------------------------------------- */

struct cpu_state {
	struct kvm_regs regs;
	struct kvm_sregs sregs;
	struct kvm_fpu fpu;
	struct kvm_xsave xsave;
	struct kvm_xcrs xcrs;
	struct kvm_lapic_state lapic;
	struct kvm_vcpu_events events;
	struct kvm_mp_state mp;
	struct kvm_debugregs debugregs;
	uint32_t has_xsave, has_xcrs, nmsrs, pad;
	struct kvm_msr_entry msrs[MAX_MSRS];
};

/* KVM's list of MSRs a VMM should save (KVM_GET_MSR_INDEX_LIST: real and emulated ones). */
static int msr_index_list(int kvm_fd, uint32_t *out, uint32_t *n)
{
	struct { struct kvm_msr_list head; uint32_t indices[1024]; } l = { { 1024 }, { 0 } };
	if (ioctl(kvm_fd, KVM_GET_MSR_INDEX_LIST, &l) < 0)
		return -errno;
	*n = l.head.nmsrs < MAX_MSRS ? l.head.nmsrs : MAX_MSRS;
	memcpy(out, l.indices, *n * sizeof(uint32_t));
	return 0;
}

/* Read the listed MSRs; those this vCPU cannot read (KVM_GET_MSRS stops there) are left out. */
static int save_msrs(int kvm_fd, int vcpu_fd, struct cpu_state *c)
{
	uint32_t idx[MAX_MSRS], n = 0;
	int err = msr_index_list(kvm_fd, idx, &n);
	if (err)
		return err;
	struct { struct kvm_msrs head; struct kvm_msr_entry e[MAX_MSRS]; } m;
	c->nmsrs = 0;
	for (uint32_t from = 0; from < n;) {
		memset(&m, 0, sizeof(m));
		m.head.nmsrs = n - from;
		for (uint32_t i = from; i < n; i++)
			m.e[i - from].index = idx[i];
		int got = ioctl(vcpu_fd, KVM_GET_MSRS, &m);
		if (got < 0)
			return -errno;
		memcpy(&c->msrs[c->nmsrs], m.e, got * sizeof(m.e[0]));
		c->nmsrs += got;
		from += got + 1;   /* skip the one it could not read */
	}
	return 0;
}

static int save_cpu(struct pc *pc, struct vcpu *v, struct cpu_state *c, const char **what)
{
	int fd = v->fd;
	memset(c, 0, sizeof(*c));
	c->has_xsave = ioctl(pc->m.vm.kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_XSAVE) > 0;
	c->has_xcrs = ioctl(pc->m.vm.kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_XCRS) > 0;
#define GET(req, p) do { if (ioctl(fd, req, p) < 0) { *what = #req; return -errno; } } while (0)
	GET(KVM_GET_REGS, &c->regs);
	GET(KVM_GET_SREGS, &c->sregs);
	GET(KVM_GET_FPU, &c->fpu);
	if (c->has_xsave)
		GET(KVM_GET_XSAVE, &c->xsave);
	if (c->has_xcrs)
		GET(KVM_GET_XCRS, &c->xcrs);
	GET(KVM_GET_LAPIC, &c->lapic);
	GET(KVM_GET_VCPU_EVENTS, &c->events);
	GET(KVM_GET_MP_STATE, &c->mp);
	GET(KVM_GET_DEBUGREGS, &c->debugregs);
#undef GET
	*what = "KVM_GET_MSRS";
	return save_msrs(pc->m.vm.kvm_fd, fd, c);
}

/* The order QEMU uses: the APIC before the MSRs (its TSC deadline), events after MP state. */
static int load_cpu(struct vcpu *v, struct cpu_state *c, const char **what)
{
	int fd = v->fd;
#define SET(req, p) do { if (ioctl(fd, req, p) < 0) { *what = #req; return -errno; } } while (0)
	SET(KVM_SET_SREGS, &c->sregs);
	SET(KVM_SET_REGS, &c->regs);
	if (c->has_xsave)
		SET(KVM_SET_XSAVE, &c->xsave);
	else
		SET(KVM_SET_FPU, &c->fpu);
	if (c->has_xcrs)
		SET(KVM_SET_XCRS, &c->xcrs);
	SET(KVM_SET_LAPIC, &c->lapic);
	SET(KVM_SET_MP_STATE, &c->mp);
	c->events.flags |= KVM_VCPUEVENT_VALID_NMI_PENDING | KVM_VCPUEVENT_VALID_SIPI_VECTOR;
	SET(KVM_SET_VCPU_EVENTS, &c->events);
	SET(KVM_SET_DEBUGREGS, &c->debugregs);
#undef SET
	struct { struct kvm_msrs head; struct kvm_msr_entry e[MAX_MSRS]; } m;
	memset(&m, 0, sizeof(m));
	m.head.nmsrs = c->nmsrs < MAX_MSRS ? c->nmsrs : MAX_MSRS;
	memcpy(m.e, c->msrs, m.head.nmsrs * sizeof(m.e[0]));
	int set = ioctl(fd, KVM_SET_MSRS, &m);
	*what = "KVM_SET_MSRS";
	if (set < 0)
		return -errno;
	if ((uint32_t)set < m.head.nmsrs) {
		fprintf(stderr, "minivisor: vCPU %d: MSR 0x%x refused by KVM\n", v->id,
			m.e[set].index);
		return -EINVAL;
	}
	return 0;
}

/* ---- KVM's own devices ---------------------------------------------------------------- */

struct kvm_devices {
	struct kvm_irqchip chip[3];   /* PIC master, PIC slave, IOAPIC */
	struct kvm_pit_state2 pit;
	struct kvm_clock_data clock;
};

static int save_kvm(int vm_fd, struct kvm_devices *k, const char **what)
{
	memset(k, 0, sizeof(*k));
	for (int i = 0; i < 3; i++) {
		k->chip[i].chip_id = i;
		*what = "KVM_GET_IRQCHIP";
		if (ioctl(vm_fd, KVM_GET_IRQCHIP, &k->chip[i]) < 0)
			return -errno;
	}
	*what = "KVM_GET_PIT2";
	if (ioctl(vm_fd, KVM_GET_PIT2, &k->pit) < 0)
		return -errno;
	*what = "KVM_GET_CLOCK";
	return ioctl(vm_fd, KVM_GET_CLOCK, &k->clock) < 0 ? -errno : 0;
}

static int load_kvm(int vm_fd, struct kvm_devices *k, const char **what)
{
	for (int i = 0; i < 3; i++) {
		*what = "KVM_SET_IRQCHIP";
		if (ioctl(vm_fd, KVM_SET_IRQCHIP, &k->chip[i]) < 0)
			return -errno;
	}
	*what = "KVM_SET_PIT2";
	if (ioctl(vm_fd, KVM_SET_PIT2, &k->pit) < 0)
		return -errno;
	/* The guest's clock goes on from where it stopped: the downtime is invisible to it. */
	struct kvm_clock_data c = { .clock = k->clock.clock };
	*what = "KVM_SET_CLOCK";
	return ioctl(vm_fd, KVM_SET_CLOCK, &c) < 0 ? -errno : 0;
}

/* ---- device models --------------------------------------------------------------------- */

/* An interrupt line as the destination must drive it: from low (a new line) to the level. */
static void redrive(struct irq_line *line, bool level)
{
	line->level = false;
	if (level)
		irq_line_set(line, true);
}

struct legacy_state {               /* the stage 4 devices and the board's small ones */
	struct uart_state uart;
	struct rtc_state rtc;
	struct power_state power;
	struct fw_cfg_state fw_cfg;
	struct i8042_state i8042;
	uint8_t uart_irq, kbd_irq, aux_irq;
};

static void save_legacy(struct pc *pc, struct legacy_state *l)
{
	memset(l, 0, sizeof(*l));
	l->uart = pc->m.com1.state;
	l->rtc = pc->m.rtc;
	l->power = pc->m.power;
	l->fw_cfg = pc->fw_cfg.state;
	l->i8042 = pc->i8042.state;
	l->uart_irq = pc->m.com1.irq.level;
	l->kbd_irq = pc->i8042.kbd_irq.level;
	l->aux_irq = pc->i8042.aux_irq.level;
}

/*
 * A stream is input like a guest's stores: a state whose indexes the device uses without a
 * check of its own (a FIFO's head, the CMOS index, the PS/2 queues) is refused here, before
 * anything is applied, or the next port access would index past an array.
 */
static int check_legacy(const struct legacy_state *l, char *why, size_t why_len)
{
	const char *bad = !uart_state_valid(&l->uart) ? "the UART's receive FIFO or a flag" :
			  !rtc_state_valid(&l->rtc) ? "the CMOS index" :
			  !i8042_state_valid(&l->i8042) ? "the PS/2 queues or a flag" : NULL;
	if (bad)
		return machine_fail(-EINVAL, why, why_len, "section 'legacy': %s out of range",
				    bad);
	return 0;
}

static void load_legacy(struct pc *pc, const struct legacy_state *l)
{
	pc->m.com1.state = l->uart;
	pc->m.rtc = l->rtc;
	pc->m.power = l->power;
	pc->fw_cfg.state = l->fw_cfg;
	pc->i8042.state = l->i8042;
	redrive(&pc->m.com1.irq, l->uart_irq);
	redrive(&pc->i8042.kbd_irq, l->kbd_irq);
	redrive(&pc->i8042.aux_irq, l->aux_irq);
}

struct hpet_saved {
	uint64_t config, isr, counter, checked;
	struct { uint64_t config, cmp, period, fsb; uint8_t out, level, pad[6]; } t[HPET_TIMERS];
};

static uint64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + ts.tv_nsec;
}

static void save_hpet(struct pc *pc, struct hpet_saved *s)
{
	const struct hpet *h = &pc->hpet;
	memset(s, 0, sizeof(*s));
	s->config = h->config;
	s->isr = h->isr;
	s->counter = hpet_counter(h, mono_ns());
	s->checked = h->checked;
	for (unsigned i = 0; i < HPET_TIMERS; i++) {
		s->t[i].config = h->t[i].config;
		s->t[i].cmp = h->t[i].cmp;
		s->t[i].period = h->t[i].period;
		s->t[i].fsb = h->t[i].fsb;
		s->t[i].out = h->t[i].out;
		s->t[i].level = h->t[i].line.level;
	}
}

/* The counter goes on from the saved value, from now (its thread is not running yet). */
static void load_hpet(struct pc *pc, const struct hpet_saved *s)
{
	struct hpet *h = &pc->hpet;
	h->config = s->config;
	h->isr = s->isr;
	h->counter = s->counter;
	h->start_ns = mono_ns();
	h->checked = s->checked;
	for (unsigned i = 0; i < HPET_TIMERS; i++) {
		h->t[i].config = s->t[i].config;
		h->t[i].cmp = s->t[i].cmp;
		h->t[i].period = s->t[i].period;
		h->t[i].fsb = s->t[i].fsb;
		h->t[i].out = s->t[i].out;
		h->t[i].line.gsi = hpet_timer_gsi(h, i);
		redrive(&h->t[i].line, s->t[i].level);
	}
}

/* Every PCI function's configuration space, and the chipset's own registers. */
struct chipset_saved {
	struct chipset_state state;
	struct smbus_state smbus;
	uint32_t config_address;
	uint8_t present[PCI_MAX_SLOTS][PCI_MAX_FUNCTIONS];
	uint8_t irq[PCI_MAX_SLOTS][PCI_MAX_FUNCTIONS];
	uint8_t config[PCI_MAX_SLOTS][PCI_MAX_FUNCTIONS][256];
};

static void save_chipset(struct pc *pc, struct chipset_saved *s)
{
	struct pci_host *h = &pc->chipset.pci;
	memset(s, 0, sizeof(*s));
	s->state = pc->chipset.state;
	s->smbus = pc->chipset.smbus.state;
	s->config_address = h->config_address;
	for (unsigned d = 0; d < PCI_MAX_SLOTS; d++)
		for (unsigned f = 0; f < PCI_MAX_FUNCTIONS; f++) {
			struct pci_device *dev = d || f ? h->functions[d][f] : &h->bridge;
			if (!dev)
				continue;
			s->present[d][f] = 1;
			s->irq[d][f] = dev->irq.level;
			memcpy(s->config[d][f], dev->config.bytes, 256);
		}
}

static uint32_t cfg_address(unsigned d, unsigned f, unsigned reg)
{
	return 0x80000000u | d << 11 | f << 8 | reg;
}

/*
 * Replay the saved configuration through the guest's own path, so that whatever follows a
 * write follows now too: BARs decode where they were (bus ranges, the VRAM slot), PAM maps
 * shadow RAM, PCIEXBAR places ECAM, PMBASE the PM block. BARs before the command register
 * that turns decoding on; then the bytes exactly as saved.
 */
static void replay_function(struct pc *pc, unsigned d, unsigned f, const uint8_t *cfg)
{
	struct pci_host *h = &pc->chipset.pci;
	struct pci_device *dev = d || f ? h->functions[d][f] : &h->bridge;
	for (unsigned reg = 0x10; reg < 0x40; reg += 4)
		chipset_config_write(&pc->chipset, cfg_address(d, f, reg),
				     cfg[reg] | cfg[reg + 1] << 8 | cfg[reg + 2] << 16 |
				     (uint32_t)cfg[reg + 3] << 24, 4);
	chipset_config_write(&pc->chipset, cfg_address(d, f, PCI_COMMAND),
			     cfg[PCI_COMMAND] | cfg[PCI_COMMAND + 1] << 8, 2);
	for (unsigned reg = 0x40; reg < 0x100; reg++)
		chipset_config_write(&pc->chipset, cfg_address(d, f, reg), cfg[reg], 1);
	memcpy(dev->config.bytes, cfg, 256);
}

static int load_chipset(struct pc *pc, const struct chipset_saved *s, char *why, size_t why_len)
{
	struct pci_host *h = &pc->chipset.pci;
	for (unsigned d = 0; d < PCI_MAX_SLOTS; d++)
		for (unsigned f = 0; f < PCI_MAX_FUNCTIONS; f++) {
			bool here = !(d || f) || h->functions[d][f];
			if (here != (bool)s->present[d][f]) {
				snprintf(why, why_len, "PCI function 00:%02x.%u: %s in the stream, "
					 "%s here", d, f, s->present[d][f] ? "present" : "absent",
					 here ? "present" : "absent");
				return -EINVAL;
			}
		}
	if (s->state.kind != pc->chipset.state.kind) {
		snprintf(why, why_len, "chipset: another machine type in the stream");
		return -EINVAL;
	}
	if (!STATE_BOOL_OK(&s->state, struct chipset_state, pm_programmed) ||
	    !STATE_BOOL_OK(&s->smbus, struct smbus_state, host_enabled)) {
		snprintf(why, why_len, "chipset: a flag that is neither 0 nor 1");
		return -EINVAL;
	}
	for (unsigned d = 0; d < PCI_MAX_SLOTS; d++)
		for (unsigned f = 0; f < PCI_MAX_FUNCTIONS; f++)
			if (s->present[d][f])
				replay_function(pc, d, f, s->config[d][f]);
	pc->chipset.state = s->state;
	pc->chipset.smbus.state = s->smbus;
	h->config_address = s->config_address;
	for (unsigned d = 0; d < PCI_MAX_SLOTS; d++)
		for (unsigned f = 0; f < PCI_MAX_FUNCTIONS; f++)
			if (s->present[d][f] && (d || f))
				redrive(&h->functions[d][f]->irq, s->irq[d][f]);
	return 0;
}

/* What a drive learned from the guest (SET FEATURES, SET MULTIPLE, sense data). */
struct drive_saved {
	uint8_t multiple, sense_key, asc, ascq, unit_attention;
	uint8_t cur_heads, cur_sectors_per_track, transfer_mode, write_cache, pad[7];
};

static void save_drive(const struct ata_drive *a, struct drive_saved *s)
{
	*s = (struct drive_saved){ a->multiple, a->sense_key, a->asc, a->ascq, a->unit_attention,
				   a->cur_heads, a->cur_sectors_per_track, a->transfer_mode,
				   a->write_cache, { 0 } };
}

static void load_drive(struct ata_drive *a, const struct drive_saved *s)
{
	a->multiple = s->multiple;
	a->sense_key = s->sense_key;
	a->asc = s->asc;
	a->ascq = s->ascq;
	a->unit_attention = s->unit_attention;
	a->cur_heads = s->cur_heads;
	a->cur_sectors_per_track = s->cur_sectors_per_track;
	a->transfer_mode = s->transfer_mode;
	a->write_cache = s->write_cache;
}

/* One IDE channel's registers and the command in progress; its buffer follows, buf_len. */
struct ide_saved {
	struct ide_unit_regs unit[2];
	struct drive_saved drive[2];
	uint8_t device, control, bm_command, bm_status, irq, pad[3];
	uint32_t phase, active, done, buf_len, buf_pos, piece_end, byte_limit, bm_prd_table;
	struct ata_taskfile tf;
	struct ata_command_info info;
	uint8_t cdb[12];
};

/*
 * In a data phase, where the data port reads or writes next (buf_pos, up to piece_end) is used
 * as an index into the channel's buffer (or the CDB while a packet comes in) with no other
 * check: it must lie inside what the buffer holds. Idle or waiting for DMA, the positions are
 * not used (the next command resets them). And the phase must be one there is.
 */
static bool ide_positions_valid(const struct ide_saved *s)
{
	switch (s->phase) {
	case IDE_IDLE:
	case IDE_DMA_WAIT:
		return true;
	case IDE_PACKET_CDB:
		return s->buf_pos <= s->piece_end && s->piece_end <= sizeof(s->cdb);
	case IDE_PIO_IN:
	case IDE_PIO_OUT:
	case IDE_ATAPI_IN:
		return s->buf_pos <= s->piece_end && s->piece_end <= s->buf_len;
	}
	return false;
}

/* The units' interrupt flags and the command's kind are bools: 0 or 1 (state_check.h). */
static bool ide_bools_valid(const struct ide_saved *s)
{
	return STATE_BOOL_OK(&s->unit[0], struct ide_unit_regs, irq_pending) &&
	       STATE_BOOL_OK(&s->unit[1], struct ide_unit_regs, irq_pending) &&
	       STATE_BOOL_OK(&s->info, struct ata_command_info, dma) &&
	       STATE_BOOL_OK(&s->info, struct ata_command_info, packet);
}

/* The "ide" section: two ide_saved, then each channel's buffer bytes. */
static uint8_t *save_ide(struct pc *pc, uint32_t *len)
{
	struct ide_saved s[2];
	memset(s, 0, sizeof(s));
	*len = sizeof(s);
	for (int c = 0; c < 2; c++) {
		struct ide_channel *ch = &pc->ide.channel[c];
		for (int u = 0; u < 2; u++) {
			s[c].unit[u] = ch->unit[u];
			save_drive(&ch->drive[u], &s[c].drive[u]);
		}
		s[c].device = ch->device;
		s[c].control = ch->control;
		s[c].bm_command = ch->bm_command;
		s[c].bm_status = ch->bm_status;
		s[c].irq = ch->irq.level;
		s[c].phase = ch->phase;
		s[c].active = ch->active;
		s[c].done = ch->done;
		s[c].buf_len = ch->buf ? ch->buf_len : 0;
		s[c].buf_pos = ch->buf_pos;
		s[c].piece_end = ch->piece_end;
		s[c].byte_limit = ch->byte_limit;
		s[c].bm_prd_table = ch->bm_prd_table;
		s[c].tf = ch->tf;
		s[c].info = ch->info;
		memcpy(s[c].cdb, ch->cdb, sizeof(s[c].cdb));
		*len += s[c].buf_len;
	}
	uint8_t *out = malloc(*len);
	if (!out)
		return NULL;
	memcpy(out, s, sizeof(s));
	uint32_t at = sizeof(s);
	for (int c = 0; c < 2; c++) {
		memcpy(out + at, pc->ide.channel[c].buf, s[c].buf_len);
		at += s[c].buf_len;
	}
	return out;
}

static int load_ide(struct pc *pc, const uint8_t *p, uint32_t len, char *why, size_t why_len)
{
	struct ide_saved s[2];
	if (len < sizeof(s))
		goto bad;
	memcpy(s, p, sizeof(s));
	if (s[0].buf_len > IDE_BUF_SIZE || s[1].buf_len > IDE_BUF_SIZE ||
	    len != sizeof(s) + s[0].buf_len + s[1].buf_len || s[0].active > 1 || s[1].active > 1)
		goto bad;
	for (int c = 0; c < 2; c++)
		if (!ide_positions_valid(&s[c]) || !ide_bools_valid(&s[c])) {
			snprintf(why, why_len, "section 'ide': channel %d: its phase, data port "
				 "position or a flag is out of range", c);
			return -EINVAL;
		}
	uint32_t at = sizeof(s);
	for (int c = 0; c < 2; c++) {
		struct ide_channel *ch = &pc->ide.channel[c];
		if (s[c].buf_len && !ch->buf)
			goto bad;
		for (int u = 0; u < 2; u++) {
			ch->unit[u] = s[c].unit[u];
			load_drive(&ch->drive[u], &s[c].drive[u]);
		}
		ch->device = s[c].device;
		ch->control = s[c].control;
		ch->bm_command = s[c].bm_command;
		ch->bm_status = s[c].bm_status;
		ch->phase = s[c].phase;
		ch->active = s[c].active;
		ch->done = s[c].done;
		ch->buf_len = s[c].buf_len;
		ch->buf_pos = s[c].buf_pos;
		ch->piece_end = s[c].piece_end;
		ch->byte_limit = s[c].byte_limit;
		ch->bm_prd_table = s[c].bm_prd_table;
		ch->tf = s[c].tf;
		ch->info = s[c].info;
		memcpy(ch->cdb, s[c].cdb, sizeof(ch->cdb));
		memcpy(ch->buf, p + at, s[c].buf_len);
		at += s[c].buf_len;
		redrive(&ch->irq, s[c].irq);
	}
	return 0;
bad:
	snprintf(why, why_len, "section 'ide': %u bytes do not hold two channels", len);
	return -EINVAL;
}

struct ahci_saved {
	uint32_t ghc, is, irq, pad;
	struct { struct ahci_port_regs r; struct drive_saved drive; uint32_t srst, pad; }
		port[AHCI_MAX_PORTS];
};

static void save_ahci(struct pc *pc, struct ahci_saved *s)
{
	struct ahci_controller *a = &pc->ahci;
	memset(s, 0, sizeof(*s));
	s->ghc = a->ghc;
	s->is = a->is;
	s->irq = a->pci.irq.level;
	for (int i = 0; i < AHCI_MAX_PORTS; i++) {
		s->port[i].r = a->ports[i].r;
		s->port[i].srst = a->ports[i].srst;
		save_drive(&a->ports[i].drive, &s->port[i].drive);
	}
}

static void load_ahci(struct pc *pc, const struct ahci_saved *s)
{
	struct ahci_controller *a = &pc->ahci;
	a->ghc = s->ghc;
	a->is = s->is;
	for (int i = 0; i < AHCI_MAX_PORTS; i++) {
		a->ports[i].r = s->port[i].r;
		a->ports[i].srst = s->port[i].srst;
		load_drive(&a->ports[i].drive, &s->port[i].drive);
	}
	/* (the PCI function's line is redriven with the chipset section) */
}

/* The standard VGA: registers, then VRAM (the picture the guest drew). */
static uint8_t *save_vga(struct pc *pc, uint32_t *len)
{
	struct vga *v = &pc->vga.vga;
	*len = sizeof(v->s) + 4 + v->vram_size;
	uint8_t *out = malloc(*len);
	if (!out)
		return NULL;
	memcpy(out, &v->s, sizeof(v->s));
	memcpy(out + sizeof(v->s), &v->vram_size, 4);
	memcpy(out + sizeof(v->s) + 4, v->vram, v->vram_size);
	return out;
}

static int load_vga(struct pc *pc, const uint8_t *p, uint32_t len, char *why, size_t why_len)
{
	struct vga *v = &pc->vga.vga;
	uint32_t size;
	if (len < sizeof(v->s) + 4 || (memcpy(&size, p + sizeof(v->s), 4), size != v->vram_size) ||
	    len != sizeof(v->s) + 4 + size) {
		snprintf(why, why_len, "section 'std-vga': %u bytes: another VRAM size", len);
		return -EINVAL;
	}
	if (!vga_state_valid((const struct vga_state *)p)) {
		snprintf(why, why_len, "section 'std-vga': the DAC's registers or a flag out of "
			 "range");
		return -EINVAL;
	}
	memcpy(&v->s, p, sizeof(v->s));
	memcpy(v->vram, p + sizeof(v->s) + 4, size);
	memset(v->dirty, 0xff, sizeof(v->dirty));   /* the whole picture is new */
	v->regs_changed = true;
	return 0;
}

/* ---- network cards, their back ends, the flash, USB (devstate.h) ------------------------ */

/* One more device, its section named "<kind>.<n>"; slirp has no ops (its state is libslirp's). */
struct dev_entry {
	char name[STREAM_NAME_LEN + 1];
	const struct devstate_ops *ops;   /* NULL: a user-mode back end, netdev */
	void *dev;
	struct netdev *netdev;
	struct pflash *flash;             /* its slot follows its mode after a load */
};

#define MAX_DEV_ENTRIES (NET_MAX_NICS + NET_MAX_NETDEVS + 2 + 1 + USB_MAX_DEVICES)

static void add_entry(struct dev_entry *e, unsigned *n, const char *kind, unsigned index,
		      const struct devstate_ops *ops, void *dev)
{
	e[*n] = (struct dev_entry){ "", ops, dev, NULL, NULL };
	snprintf(e[*n].name, sizeof(e[*n].name), "%s.%u", kind, (uint8_t)index);   /* < 16 */
	(*n)++;
}

/* This machine's list, the same on both ends for the same command line. */
static unsigned dev_entries(struct pc *pc, struct dev_entry *e)
{
	unsigned n = 0;
	for (unsigned i = 0; i < pc->net.nnics; i++) {
		if (pc->net.e1000[i])
			add_entry(e, &n, "e1000", i, &devstate_e1000, pc->net.e1000[i]);
		else if (pc->net.virtio[i])
			add_entry(e, &n, "virtio-net", i, &devstate_virtio_net,
				  &pc->net.virtio[i]->net);
	}
	for (unsigned i = 0; i < pc->net.ndevs; i++)   /* a tap has nothing to save: reopened */
		if (pc->net.devs[i].user) {
			add_entry(e, &n, "slirp", i, NULL, NULL);
			e[n - 1].netdev = &pc->net.devs[i];
		}
	for (unsigned i = 0; i < pc->nflash; i++) {
		add_entry(e, &n, "pflash", i, &devstate_pflash, &pc->flash[i]);
		e[n - 1].flash = &pc->flash[i];
	}
	struct pc_usb *u = &pc->usb;
	if (u->has_controller)
		add_entry(e, &n, u->uhci_boot ? "uhci" : "xhci", 0,
			  u->uhci_boot ? &devstate_uhci : &devstate_xhci,
			  u->uhci_boot ? (void *)&u->uhci : (void *)&u->xhci);
	for (unsigned i = 0; u->has_controller && i < USB_MAX_DEVICES; i++) {
		if (u->devices[i] == &u->storage[i].dev)
			add_entry(e, &n, "usb-storage", i, &devstate_usb_storage, &u->storage[i]);
		else if (u->devices[i] == &u->hid[i].dev)
			add_entry(e, &n, "usb-hid", i, &devstate_usb_hid, &u->hid[i]);
	}
	return n;
}

static int save_entry(struct stream *s, const struct dev_entry *e, char *why, size_t why_len)
{
	uint8_t *p = NULL;
	uint32_t len = 0;
	if (e->ops) {
		p = e->ops->save(e->dev, &len);
		if (!p)
			return machine_fail(-ENOMEM, why, why_len, "%s: no memory", e->name);
	} else {
		int err = user_state_save(e->netdev, &p, &len, why, why_len);
		if (err)
			return err;
	}
	stream_write_section(s, e->name, e->ops ? e->ops->version : SEC_VERSION, p, len);
	free(p);
	return 0;
}

/*
 * The flash's array is its file, mapped shared: what the guest programmed is already there.
 * Written out before the other side maps the same file (shared storage, as the disks).
 */
static void sync_flash(struct pc *pc)
{
	for (unsigned i = 0; i < pc->nflash; i++)
		if (!pc->flash[i].readonly && pc->flash[i].data)
			msync(pc->flash[i].data, pc->flash[i].size, MS_SYNC);
}

/*
 * On the fast path a kick is an eventfd that the net thread serves: one the source's thread
 * had not served yet when it stopped stays behind in the source. Kick every queue once here
 * (the thread finds nothing to do where nothing waits), as QEMU notifies a loaded device.
 */
static void kick_queues(struct virtio_pci *vp)
{
	uint64_t one = 1;
	for (unsigned q = 0; q < VIRTIO_MAX_QUEUES; q++)
		if (vp->kick_fd[q] >= 0 && write(vp->kick_fd[q], &one, sizeof(one)) < 0)
			perror("minivisor: virtio-net: kick after the load");
}

static int load_entry(const struct dev_entry *e, const struct section *sec, char *why,
		      size_t why_len)
{
	char inner[200];
	int err = e->ops ? e->ops->load(e->dev, sec->payload, sec->len, inner, sizeof(inner))
			 : user_state_load(e->netdev, sec->payload, sec->len, inner, sizeof(inner));
	if (err)
		return machine_fail(err, why, why_len, "section '%s': %s", e->name, inner);
	if (e->ops == &devstate_virtio_net) {
		/* the fast path's MSI-X routes follow the loaded table; kicks left behind */
		virtio_pci_msix_restore(&((struct virtio_net *)e->dev)->vp);
		kick_queues(&((struct virtio_net *)e->dev)->vp);
	}
	if (e->flash && (err = pflash_sync_slot(e->flash)) != 0)
		return machine_fail(err, why, why_len, "section '%s': KVM_SET_USER_MEMORY_REGION: "
				    "%s", e->name, strerror(-err));
	return 0;
}

/* ---- saving ------------------------------------------------------------------------------ */

int vmstate_save_early(struct pc *pc, struct stream *s, char *why, size_t why_len)
{
	static struct chipset_saved chip;
	pthread_mutex_lock(&pc->m.bus.lock);   /* the vCPUs run: a consistent copy */
	save_chipset(pc, &chip);
	pthread_mutex_unlock(&pc->m.bus.lock);
	if (stream_write_section(s, "chipset-early", SEC_VERSION, &chip, sizeof(chip)))
		return machine_fail(-EIO, why, why_len, "%s", s->why);
	return 0;
}

int vmstate_save(struct pc *pc, struct stream *s, char *why, size_t why_len)
{
	static struct cpu_state cpu;
	struct kvm_devices kvm;
	const char *what = "";
	char name[16];
	int err;

	for (unsigned i = 0; i < pc->m.ncpus; i++) {
		err = save_cpu(pc, &pc->m.vcpus[i], &cpu, &what);
		if (err)
			return machine_fail(err, why, why_len, "vCPU %u: %s: %s", i, what,
					    strerror(-err));
		snprintf(name, sizeof(name), "cpu%u", i);
		stream_write_section(s, name, SEC_VERSION, &cpu, sizeof(cpu));
	}
	err = save_kvm(pc->m.vm.vm_fd, &kvm, &what);
	if (err)
		return machine_fail(err, why, why_len, "%s: %s", what, strerror(-err));
	stream_write_section(s, "kvm", SEC_VERSION, &kvm, sizeof(kvm));
	return vmstate_save_devices(pc, s, why, why_len);
}

int vmstate_save_devices(struct pc *pc, struct stream *s, char *why, size_t why_len)
{
	static struct chipset_saved chip;
	struct legacy_state legacy;
	struct hpet_saved hpet;
	struct ahci_saved ahci;
	int err;

	save_legacy(pc, &legacy);
	stream_write_section(s, "legacy", SEC_VERSION, &legacy, sizeof(legacy));
	save_hpet(pc, &hpet);
	stream_write_section(s, "hpet", SEC_VERSION, &hpet, sizeof(hpet));
	save_chipset(pc, &chip);
	stream_write_section(s, "chipset", SEC_VERSION, &chip, sizeof(chip));
	if (is_q35(pc)) {
		save_ahci(pc, &ahci);
		stream_write_section(s, "ahci", SEC_VERSION, &ahci, sizeof(ahci));
	} else {
		uint32_t len;
		uint8_t *p = save_ide(pc, &len);
		if (!p)
			return machine_fail(-ENOMEM, why, why_len, "ide: no memory");
		stream_write_section(s, "ide", SEC_VERSION, p, len);
		free(p);
	}
	if (pc->has_vga) {
		uint32_t len;
		uint8_t *p = save_vga(pc, &len);
		if (!p)
			return machine_fail(-ENOMEM, why, why_len, "std-vga: no memory");
		stream_write_section(s, "std-vga", SEC_VERSION, p, len);
		free(p);
	}
	struct dev_entry entries[MAX_DEV_ENTRIES];
	unsigned n = dev_entries(pc, entries);
	for (unsigned i = 0; i < n; i++)
		if ((err = save_entry(s, &entries[i], why, why_len)) != 0)
			return err;
	sync_flash(pc);
	if (s->failed)
		return machine_fail(-EIO, why, why_len, "%s", s->why);
	return 0;
}

/* ---- loading ----------------------------------------------------------------------------- */

/* The non-RAM sections, kept until the end marker: each name at most once. */
enum { K_KVM, K_LEGACY, K_HPET, K_CHIPSET, K_DISKS, K_VGA, K_DEV0,
       K_CPU0 = K_DEV0 + MAX_DEV_ENTRIES, K_COUNT = K_CPU0 + MAX_VCPUS };

struct pending {
	struct section sec[K_COUNT];
};

static void pending_free(struct pending *p)
{
	for (int i = 0; i < K_COUNT; i++)
		free(p->sec[i].payload);
}

static void ram_put(void *opaque, uint64_t page, const uint8_t *data)
{
	uint8_t *dst = vmstate_page(opaque, page);
	if (data)
		memcpy(dst, data, STREAM_PAGE_SIZE);
	else
		memset(dst, 0, STREAM_PAGE_SIZE);
}

/* Which slot a section goes to, with its size checked (variable ones: by their loader). */
static int classify(struct pc *pc, const struct section *sec, char *why, size_t why_len)
{
	unsigned cpu;
	char tail;
	if (sscanf(sec->name, "cpu%u%c", &cpu, &tail) == 1) {
		if (cpu >= pc->m.ncpus)
			return machine_fail(-EINVAL, why, why_len, "section '%s': this machine has "
					    "%u vCPUs", sec->name, pc->m.ncpus);
		int err = stream_expect(sec, SEC_VERSION, sizeof(struct cpu_state), why, why_len);
		return err ? err : K_CPU0 + (int)cpu;
	}
	static const struct { const char *name; int slot; uint32_t size; } fixed[] = {
		{ "kvm", K_KVM, sizeof(struct kvm_devices) },
		{ "legacy", K_LEGACY, sizeof(struct legacy_state) },
		{ "hpet", K_HPET, sizeof(struct hpet_saved) },
		{ "chipset", K_CHIPSET, sizeof(struct chipset_saved) },
		{ "ahci", K_DISKS, sizeof(struct ahci_saved) },
		{ "ide", K_DISKS, 0 },
		{ "std-vga", K_VGA, 0 },
	};
	for (unsigned i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++) {
		if (strcmp(sec->name, fixed[i].name))
			continue;
		bool mine = strcmp(sec->name, "ahci") && strcmp(sec->name, "ide") ? true :
			    !strcmp(sec->name, is_q35(pc) ? "ahci" : "ide");
		if (!mine || (fixed[i].slot == K_VGA && !pc->has_vga))
			return machine_fail(-EINVAL, why, why_len, "section '%s': no such device "
					    "here", sec->name);
		int err = fixed[i].size ? stream_expect(sec, SEC_VERSION, fixed[i].size, why,
							why_len) :
			  sec->version != SEC_VERSION ?
			  machine_fail(-EINVAL, why, why_len, "section '%s': version %u, this "
				       "minivisor reads %u", sec->name, sec->version, SEC_VERSION) :
			  0;
		return err ? err : fixed[i].slot;
	}
	struct dev_entry entries[MAX_DEV_ENTRIES];
	unsigned n = dev_entries(pc, entries);
	for (unsigned i = 0; i < n; i++) {
		if (strcmp(sec->name, entries[i].name))
			continue;
		uint32_t version = entries[i].ops ? entries[i].ops->version : SEC_VERSION;
		if (sec->version != version)
			return machine_fail(-EINVAL, why, why_len, "section '%s': version %u, this "
					    "minivisor reads %u", sec->name, sec->version, version);
		return K_DEV0 + (int)i;
	}
	return machine_fail(-EINVAL, why, why_len, "unknown section '%s'", sec->name);
}

static int apply(struct pc *pc, struct pending *p, char *why, size_t why_len)
{
	const char *what = "";
	int err;
	struct dev_entry entries[MAX_DEV_ENTRIES];
	unsigned n = dev_entries(pc, entries);
	for (unsigned i = 0; i < n; i++)
		if (!p->sec[K_DEV0 + i].payload)
			return machine_fail(-EINVAL, why, why_len, "the stream ended without the "
					    "state of %s", entries[i].name);
	for (unsigned i = 0; i < pc->m.ncpus; i++)
		if (!p->sec[K_CPU0 + i].payload)
			return machine_fail(-EINVAL, why, why_len, "the stream ended without the "
					    "state of vCPU %u", i);
	for (int i = 0; i < K_DEV0; i++)
		if (!p->sec[i].payload && (i != K_VGA || pc->has_vga))
			return machine_fail(-EINVAL, why, why_len, "the stream ended without the "
					    "state of %s", (const char *[]){ "KVM's devices", "the legacy devices",
							      "the HPET", "the chipset",
							      "the disk controller",
							      "the VGA" }[i]);
	/* Device models first (their interrupt lines), then KVM's chips over them, then CPUs. */
	err = check_legacy((void *)p->sec[K_LEGACY].payload, why, why_len);
	if (!err)
		err = load_chipset(pc, (void *)p->sec[K_CHIPSET].payload, why, why_len);
	if (!err && is_q35(pc))
		load_ahci(pc, (void *)p->sec[K_DISKS].payload);
	else if (!err)
		err = load_ide(pc, p->sec[K_DISKS].payload, p->sec[K_DISKS].len, why, why_len);
	if (!err && pc->has_vga)
		err = load_vga(pc, p->sec[K_VGA].payload, p->sec[K_VGA].len, why, why_len);
	for (unsigned i = 0; !err && i < n; i++)   /* after the replay: the saved bytes win */
		err = load_entry(&entries[i], &p->sec[K_DEV0 + i], why, why_len);
	if (err)
		return err;
	load_legacy(pc, (void *)p->sec[K_LEGACY].payload);
	load_hpet(pc, (void *)p->sec[K_HPET].payload);
	err = load_kvm(pc->m.vm.vm_fd, (void *)p->sec[K_KVM].payload, &what);
	if (err)
		return machine_fail(err, why, why_len, "%s: %s", what, strerror(-err));
	for (unsigned i = 0; i < pc->m.ncpus; i++) {
		err = load_cpu(&pc->m.vcpus[i], (void *)p->sec[K_CPU0 + i].payload, &what);
		if (err)
			return machine_fail(err, why, why_len, "vCPU %u: %s: %s", i, what,
					    strerror(-err));
	}
	return 0;
}

int vmstate_load(struct pc *pc, struct stream *s, char *why, size_t why_len)
{
	struct pending p;
	struct section sec;
	int err;
	memset(&p, 0, sizeof(p));
	for (;;) {
		err = stream_read_section(s, &sec);
		if (err == 1)
			break;
		if (err) {
			snprintf(why, why_len, "%s", s->why);
			goto out;
		}
		if (!strcmp(sec.name, "ram") || !strcmp(sec.name, RAM_IMAGE_SECTION)) {
			err = !strcmp(sec.name, "ram") ?
			      stream_ram_section(&sec, vmstate_ram_pages(pc), ram_put, pc, why,
						 why_len) :
			      ram_image_read(s->fd, &sec, pc->m.vm.mem.host, pc->m.vm.mem.size,
					     why, why_len);
			free(sec.payload);
			if (err)
				goto out;
			continue;
		}
		if (!strcmp(sec.name, "chipset-early")) {   /* applied now: the pause is later */
			err = stream_expect(&sec, SEC_VERSION, sizeof(struct chipset_saved), why,
					    why_len);
			if (!err)
				err = load_chipset(pc, (void *)sec.payload, why, why_len);
			free(sec.payload);
			if (err)
				goto out;
			continue;
		}
		int slot = classify(pc, &sec, why, why_len);
		if (slot < 0) {
			free(sec.payload);
			err = slot;
			goto out;
		}
		free(p.sec[slot].payload);   /* a later copy replaces an earlier one */
		p.sec[slot] = sec;
	}
	err = apply(pc, &p, why, why_len);
out:
	pending_free(&p);
	return err;
}
