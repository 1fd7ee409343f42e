/*
 * vfio.c - VFIO PCI passthrough: container, group and device; DMA mapping; BARs as KVM slots
 * or traps; a virtual config space header; INTx, MSI and MSI-X through irqfd. See vfio.h.
 *
 * Learnt from (not copied): Linux's Documentation/driver-api/vfio.rst and include/uapi/
 * linux/vfio.h, kvmtool's vfio/pci.c, QEMU's hw/vfio/pci.c.
 */
#include "vfio.h"
#include "board/chipset.h"
#include "board/fw_cfg.h"
#include "machine.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <linux/kvm.h>
#include <linux/vfio.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#define SYSFS_PCI "/sys/bus/pci/devices/"
#define PAGE 4096ull
#define CAP_ID_MSI  0x05
#define CAP_ID_MSIX 0x11
#define PCI_ROM_ADDRESS 0x30
#define BAR_PARK_MMIO 0xf00000000000ull   /* where a BAR's trap waits before firmware places it */
#define BAR_PARK_PIO  0x10000u            /* above every port: never decoded */

/* ---- host side: finding and opening the device ---- */

/* The last path component of a sysfs link ("iommu_group" -> "7"), or "" when absent. */
static void link_name(const char *bdf, const char *what, char *out, size_t len)
{
	char path[128], target[256];
	snprintf(path, sizeof(path), SYSFS_PCI "%s/%s", bdf, what);
	ssize_t n = readlink(path, target, sizeof(target) - 1);
	out[0] = 0;
	if (n > 0) {
		target[n] = 0;
		snprintf(out, len, "%s", basename(target));
	}
}

/* Name the group's members bound to a driver other than vfio-pci (why a group is not viable). */
static void group_culprits(int group, char *out, size_t len)
{
	char path[64], drv[64];
	snprintf(path, sizeof(path), "/sys/kernel/iommu_groups/%d/devices", group);
	out[0] = 0;
	DIR *d = opendir(path);
	if (!d)
		return;
	for (struct dirent *e; (e = readdir(d));) {
		if (e->d_name[0] == '.')
			continue;
		link_name(e->d_name, "driver", drv, sizeof(drv));
		if (drv[0] && strcmp(drv, "vfio-pci")) {
			size_t n = strlen(out);
			snprintf(out + n, len - n, "%s%.16s (driver %.24s)", n ? ", " : "",
				 e->d_name, drv);
		}
	}
	closedir(d);
}

/* The checks a person makes before passing a device through, in order, one line each. */
static int check_host_device(const char *bdf, int *group, char *why, size_t why_len)
{
	char path[128], name[64];
	snprintf(path, sizeof(path), SYSFS_PCI "%s", bdf);
	if (access(path, F_OK))
		return machine_fail(-ENODEV, why, why_len, "vfio-pci host=%s: no such PCI device "
				    "(see %s)", bdf, SYSFS_PCI);
	link_name(bdf, "iommu_group", name, sizeof(name));
	if (!name[0])
		return machine_fail(-ENODEV, why, why_len, "vfio-pci host=%s: the device has no "
				    "IOMMU group: this host has no IOMMU, or it is off (boot with "
				    "intel_iommu=on)", bdf);
	*group = atoi(name);
	if (access("/dev/vfio/vfio", F_OK))
		return machine_fail(-ENOENT, why, why_len, "vfio-pci host=%s: no /dev/vfio/vfio "
				    "(load the vfio-pci module)", bdf);
	link_name(bdf, "driver", name, sizeof(name));
	if (strcmp(name, "vfio-pci"))
		return machine_fail(-EBUSY, why, why_len, "vfio-pci host=%s: %s%s, not to vfio-pci "
				    "(bind it: echo vfio-pci > %s%s/driver_override; echo %s > "
				    "/sys/bus/pci/drivers_probe)", bdf,
				    name[0] ? "bound to driver " : "bound to no driver", name,
				    SYSFS_PCI, bdf, bdf);
	return 0;
}

static int open_container(struct vfio_set *s, char *why, size_t why_len)
{
	s->container_fd = open("/dev/vfio/vfio", O_RDWR | O_CLOEXEC);
	if (s->container_fd < 0)
		return machine_fail(-errno, why, why_len, "/dev/vfio/vfio: %s", strerror(errno));
	if (ioctl(s->container_fd, VFIO_GET_API_VERSION) != VFIO_API_VERSION ||
	    !ioctl(s->container_fd, VFIO_CHECK_EXTENSION, VFIO_TYPE1_IOMMU))
		return machine_fail(-ENOTSUP, why, why_len, "/dev/vfio/vfio: no type 1 IOMMU "
				    "support (an old or unusual kernel)");
	return 0;
}

/* The group's fd: opened once, checked viable, joined to the container. */
static int open_group(struct vfio_set *s, const char *bdf, int group, char *why, size_t why_len)
{
	for (unsigned i = 0; i < s->ngroups; i++)
		if (s->group_ids[i] == group)
			return s->group_fd[i];
	char path[32], culprits[256];
	snprintf(path, sizeof(path), "/dev/vfio/%d", group);
	int fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return machine_fail(-errno, why, why_len, "vfio-pci host=%s: %s: %s", bdf, path,
				    strerror(errno));
	s->group_fd[s->ngroups] = fd;
	s->group_ids[s->ngroups++] = group;
	struct vfio_group_status st = { .argsz = sizeof(st) };
	if (ioctl(fd, VFIO_GROUP_GET_STATUS, &st) < 0 || !(st.flags & VFIO_GROUP_FLAGS_VIABLE)) {
		group_culprits(group, culprits, sizeof(culprits));
		return machine_fail(-EBUSY, why, why_len, "vfio-pci host=%s: IOMMU group %d is "
				    "not viable: %s%s (every device of /sys/kernel/iommu_groups/"
				    "%d must be bound to vfio-pci or to no driver)", bdf, group,
				    culprits[0] ? "bound to host drivers: " :
				    "another device is in use", culprits, group);
	}
	if (ioctl(fd, VFIO_GROUP_SET_CONTAINER, &s->container_fd) < 0)
		return machine_fail(-errno, why, why_len, "vfio-pci host=%s: group %d: cannot join "
				    "the container: %s", bdf, group, strerror(errno));
	if (s->ngroups == 1) {   /* the IOMMU model is chosen once the container has a group */
		int type = ioctl(s->container_fd, VFIO_CHECK_EXTENSION, VFIO_TYPE1v2_IOMMU) ?
			   VFIO_TYPE1v2_IOMMU : VFIO_TYPE1_IOMMU;
		if (ioctl(s->container_fd, VFIO_SET_IOMMU, type) < 0)
			return machine_fail(-errno, why, why_len, "vfio-pci host=%s: "
					    "VFIO_SET_IOMMU: %s%s", bdf, strerror(errno),
					    errno == EPERM ?
					    " (no interrupt remapping: intremap=on?)" : "");
	}
	return fd;
}

/* Read the region table: BARs, ROM, config space. */
static int read_regions(struct vfio_pci *d, char *why, size_t why_len)
{
	for (unsigned i = 0; i <= VFIO_PCI_CONFIG_REGION_INDEX; i++) {
		struct vfio_region_info r = { .argsz = sizeof(r), .index = i };
		if (ioctl(d->device_fd, VFIO_DEVICE_GET_REGION_INFO, &r) < 0)
			return machine_fail(-errno, why, why_len, "%s: region %u: %s", d->name, i,
					    strerror(errno));
		if (i == VFIO_PCI_CONFIG_REGION_INDEX)
			d->config_offset = r.offset;
		else if (i == VFIO_PCI_ROM_REGION_INDEX) {
			d->rom_offset = r.offset;
			d->rom_size = r.size;
		} else if (i < PCI_NUM_BARS) {
			d->bar[i].size = r.size;
			d->bar[i].offset = r.offset;
			bool mmap_ok = (r.flags & VFIO_REGION_INFO_FLAG_MMAP) && !d->cfg->no_mmap &&
				       r.size >= PAGE;
			d->bar[i].map = NULL;
			if (mmap_ok) {
				void *p = mmap(NULL, r.size, PROT_READ | PROT_WRITE, MAP_SHARED,
					       d->device_fd, r.offset);
				d->bar[i].map = p == MAP_FAILED ? NULL : p;   /* else: trapped */
			}
		}
	}
	return 0;
}

static int open_device(struct vfio_set *s, struct vfio_pci *d, char *why, size_t why_len)
{
	const char *bdf = d->cfg->host;
	int group = 0;
	snprintf(d->name, sizeof(d->name), "vfio-%s", bdf);
	d->device_fd = -1;
	int err = check_host_device(bdf, &group, why, why_len);
	if (err)
		return err;
	if (s->container_fd < 0 && (err = open_container(s, why, why_len)))
		return err;
	int gfd = open_group(s, bdf, group, why, why_len);
	if (gfd < 0)
		return gfd;
	d->group_id = group;
	d->device_fd = ioctl(gfd, VFIO_GROUP_GET_DEVICE_FD, bdf);
	if (d->device_fd < 0)
		return machine_fail(-errno, why, why_len, "vfio-pci host=%s: cannot get the "
				    "device: %s", bdf, strerror(errno));
	struct vfio_device_info info = { .argsz = sizeof(info) };
	if (ioctl(d->device_fd, VFIO_DEVICE_GET_INFO, &info) < 0 ||
	    !(info.flags & VFIO_DEVICE_FLAGS_PCI))
		return machine_fail(-ENODEV, why, why_len, "vfio-pci host=%s: not a PCI device",
				    bdf);
	d->can_reset = info.flags & VFIO_DEVICE_FLAGS_RESET;
	return read_regions(d, why, why_len);
}

int vfio_open(struct vfio_set *s, const struct vfio_config *cfg, char *why, size_t why_len)
{
	memset(s, 0, sizeof(*s));
	s->container_fd = -1;
	for (unsigned i = 0; i < cfg->n; i++) {
		struct vfio_pci *d = &s->dev[s->n++];
		d->set = s;
		d->index = i;
		d->cfg = &cfg->dev[i];
		int err = open_device(s, d, why, why_len);
		if (err)
			return err;
	}
	return 0;
}

void vfio_close(struct vfio_set *s)
{
	for (unsigned i = 0; i < s->n; i++) {
		struct vfio_pci *d = &s->dev[i];
		for (unsigned b = 0; b < PCI_NUM_BARS; b++)
			if (d->bar[b].map)
				munmap(d->bar[b].map, d->bar[b].size);
		if (d->device_fd > 0)
			close(d->device_fd);
	}
	for (unsigned i = 0; i < s->ngroups; i++)
		close(s->group_fd[i]);
	if (s->container_fd > 0)   /* 0: a zeroed set that was never opened (stdin is fd 0) */
		close(s->container_fd);
	s->n = s->ngroups = 0;
	s->container_fd = -1;
}

/* ---- config space and BARs through the device fd ---- */

static uint32_t dev_config_read(struct vfio_pci *d, unsigned off, unsigned len)
{
	uint8_t b[4] = { 0xff, 0xff, 0xff, 0xff };
	if (pread(d->device_fd, b, len, d->config_offset + off) != (ssize_t)len)
		return 0xffffffff;
	return bytes_to_u64(b, len);
}

static void dev_config_write(struct vfio_pci *d, unsigned off, uint32_t value, unsigned len)
{
	uint8_t b[4];
	u64_to_bytes(value, b, len);
	if (pwrite(d->device_fd, b, len, d->config_offset + off) != (ssize_t)len)
		fprintf(stderr, "%s: config write at %#x failed: %s\n", d->name, off,
			strerror(errno));
}

/* ---- interrupts: GSI routes, irqfds, VFIO's eventfds ---- */

/* GSI routes: the VM's table, shared with the machine's other MSI users (stage 4's msi.h). */
static int commit_routes(struct vfio_set *s)
{
	return msi_routes_commit(s->msi);
}

/* Route gsi to what the guest programmed (on: enabled and unmasked), or to nothing. */
static void set_route(struct vfio_set *s, unsigned gsi, uint32_t lo, uint32_t hi, uint32_t data,
		      bool on)
{
	struct msi_msg m = { lo, hi, data };
	msi_route_set(s->msi, gsi, &m, on);
}

/* The host's side: VFIO_DEVICE_SET_IRQS with count eventfds (count 0: that index off). */
static int set_irqs(struct vfio_pci *d, unsigned index, unsigned action, const int *fds,
		    unsigned count)
{
	size_t size = sizeof(struct vfio_irq_set) + count * sizeof(int);
	struct vfio_irq_set *set = calloc(1, size);
	if (!set)
		return -ENOMEM;
	set->argsz = size;
	set->flags = (count ? VFIO_IRQ_SET_DATA_EVENTFD : VFIO_IRQ_SET_DATA_NONE) | action;
	set->index = index;
	set->count = count;
	if (count)   /* fds is NULL when an index is turned off: memcpy must not see it */
		memcpy(set->data, fds, count * sizeof(int));
	int err = ioctl(d->device_fd, VFIO_DEVICE_SET_IRQS, set) < 0 ? -errno : 0;
	free(set);
	if (err)
		fprintf(stderr, "%s: VFIO_DEVICE_SET_IRQS (index %u): %s\n", d->name, index,
			strerror(-err));
	return err;
}

static int irqfd(struct vfio_pci *d, int fd, unsigned gsi, int resample_fd, bool on)
{
	int err = kvm_irqfd(d->set->vm_fd, fd, gsi, resample_fd, on);
	if (err)
		fprintf(stderr, "%s: KVM_IRQFD (GSI %u): %s\n", d->name, gsi, strerror(-err));
	return err;
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/*
 * INTx: the host masks the line when it fires (it is level-triggered and the host cannot
 * know when the guest has served it); KVM signals the resample eventfd when the guest EOIs
 * that GSI, and VFIO unmasks on it. Neither side wakes the VMM. The pair of eventfds and
 * the KVM side are stage 4's irqfd_line (the virtio fast path's INTx uses the same); here
 * the host kernel writes and reads them instead of a thread of ours.
 */
static void intx_on(struct vfio_pci *d)
{
	if (d->intx_on || !d->pci.config.bytes[PCI_INTERRUPT_PIN])
		return;
	int err = irqfd_line_on(&d->intx, d->set->vm_fd, d->intx_gsi);
	if (err)
		fprintf(stderr, "%s: KVM_IRQFD (GSI %u): %s\n", d->name, d->intx_gsi,
			strerror(-err));
	if (err ||
	    set_irqs(d, VFIO_PCI_INTX_IRQ_INDEX, VFIO_IRQ_SET_ACTION_TRIGGER, &d->intx.fd, 1) ||
	    set_irqs(d, VFIO_PCI_INTX_IRQ_INDEX, VFIO_IRQ_SET_ACTION_UNMASK,
		     &d->intx.resample_fd, 1)) {
		fprintf(stderr, "%s: INTx not wired: the guest gets no legacy interrupt\n",
			d->name);
		irqfd_line_off(&d->intx);
		return;
	}
	d->intx_on = true;
}

static void intx_off(struct vfio_pci *d)
{
	if (!d->intx_on)
		return;
	irqfd_line_off(&d->intx);
	set_irqs(d, VFIO_PCI_INTX_IRQ_INDEX, VFIO_IRQ_SET_ACTION_TRIGGER, NULL, 0);
	d->intx_on = false;
}

/* The guest's MSI capability registers: address (low, high) and data, where they are. */
static void msi_message(struct vfio_pci *d, uint32_t *lo, uint32_t *hi, uint32_t *data)
{
	const uint8_t *c = d->pci.config.bytes + d->msi_cap;
	*lo = bytes_to_u64(c + 4, 4);
	*hi = d->msi_64 ? bytes_to_u64(c + 8, 4) : 0;
	*data = bytes_to_u64(c + (d->msi_64 ? 12 : 8), 2);
}

static void msi_update(struct vfio_pci *d)
{
	bool enable = d->pci.config.bytes[d->msi_cap + 2] & 1;
	uint32_t lo, hi, data;
	msi_message(d, &lo, &hi, &data);
	set_route(d->set, d->msi_gsi, lo, hi, data, enable);
	commit_routes(d->set);   /* KVM re-reads the routes of live irqfds */
	if (enable == d->msi_on)
		return;
	if (enable) {   /* VFIO refuses MSI while INTx is on */
		intx_off(d);
		d->msi_fd = eventfd(0, EFD_CLOEXEC);
		if (d->msi_fd < 0 || set_irqs(d, VFIO_PCI_MSI_IRQ_INDEX,
					      VFIO_IRQ_SET_ACTION_TRIGGER, &d->msi_fd, 1) ||
		    irqfd(d, d->msi_fd, d->msi_gsi, -1, true)) {
			fprintf(stderr, "%s: MSI not wired: the guest gets no interrupt\n",
				d->name);
			close_fd(&d->msi_fd);
			return;
		}
	} else {
		irqfd(d, d->msi_fd, d->msi_gsi, -1, false);
		set_irqs(d, VFIO_PCI_MSI_IRQ_INDEX, VFIO_IRQ_SET_ACTION_TRIGGER, NULL, 0);
		close_fd(&d->msi_fd);
		intx_on(d);
	}
	d->msi_on = enable;
}

/* MSI-X vector v: routed while the function is on, the vector unmasked and its address set. */
static void msix_vector_update(struct vfio_pci *d, unsigned v)
{
	const uint8_t *e = d->msix_table + MSIX_ENTRY_SIZE * v;
	uint16_t ctrl = bytes_to_u64(d->pci.config.bytes + d->msix_cap + 2, 2);
	struct msi_msg m;
	msix_entry_msg(e, &m);
	msi_route_set(d->set->msi, d->msix_gsi + v, &m,
		      d->msix_on && !(ctrl & MSIX_CTRL_MASKALL) && !msix_entry_masked(e));
}

static void msix_update(struct vfio_pci *d)
{
	uint16_t ctrl = bytes_to_u64(d->pci.config.bytes + d->msix_cap + 2, 2);
	bool enable = ctrl & 0x8000;
	if (enable != d->msix_on) {
		if (enable) {
			intx_off(d);
			for (unsigned v = 0; v < d->msix_n; v++)
				d->msix_fd[v] = eventfd(0, EFD_CLOEXEC);
			if (set_irqs(d, VFIO_PCI_MSIX_IRQ_INDEX, VFIO_IRQ_SET_ACTION_TRIGGER,
				     d->msix_fd, d->msix_n))
				fprintf(stderr, "%s: MSI-X not wired\n", d->name);
			for (unsigned v = 0; v < d->msix_n; v++)
				irqfd(d, d->msix_fd[v], d->msix_gsi + v, -1, true);
		} else {
			for (unsigned v = 0; v < d->msix_n; v++) {
				irqfd(d, d->msix_fd[v], d->msix_gsi + v, -1, false);
				close_fd(&d->msix_fd[v]);
			}
			set_irqs(d, VFIO_PCI_MSIX_IRQ_INDEX, VFIO_IRQ_SET_ACTION_TRIGGER, NULL, 0);
			intx_on(d);
		}
		d->msix_on = enable;
	}
	for (unsigned v = 0; v < d->msix_n; v++)
		msix_vector_update(d, v);
	commit_routes(d->set);
}

/* ---- BARs: KVM slots where the host lets us mmap, traps elsewhere ---- */

static int set_slot(struct vfio_pci *d, unsigned n, uint64_t gpa, uint64_t size, void *host)
{
	struct kvm_userspace_memory_region r = {
		.slot = VFIO_KVM_SLOT_BASE + 8 * d->index + n, .guest_phys_addr = gpa,
		.memory_size = size, .userspace_addr = (uint64_t)(uintptr_t)host };
	if (ioctl(d->set->vm_fd, KVM_SET_USER_MEMORY_REGION, &r) < 0) {
		/* A guest that puts a BAR over RAM gets here on every config write: say it once. */
		if (!d->slot_warned)
			fprintf(stderr, "%s: KVM slot %u at %#llx: %s (trapped instead; "
				"said once)\n", d->name, r.slot, (unsigned long long)gpa,
				strerror(errno));
		d->slot_warned = true;
		return -1;
	}
	return 0;
}

/* Which pieces of a mapped BAR become slots: all of it, or all but the MSI-X table's pages. */
static unsigned bar_pieces(struct vfio_pci *d, unsigned b, uint64_t off[2], uint64_t size[2])
{
	uint64_t total = d->bar[b].size;
	if (!d->msix_cap || d->msix_bar != b) {
		off[0] = 0, size[0] = total;
		return 1;
	}
	/* (the device's table offset may lie past the BAR's end: no slot is made past it) */
	uint64_t start = d->msix_table_off & ~(PAGE - 1);
	uint64_t end = (d->msix_table_off + 16 * d->msix_n + PAGE - 1) & ~(PAGE - 1);
	start = start < total ? start : total;
	unsigned n = 0;
	if (start > 0)
		off[n] = 0, size[n++] = start;
	if (end < total)
		off[n] = end, size[n++] = total - end;
	return n;
}

/* Make the slots of mapped BARs follow the BAR addresses and the memory enable bit. */
static void update_slots(struct vfio_pci *d, bool remove_only)
{
	uint16_t cmd = bytes_to_u64(d->pci.config.bytes + PCI_COMMAND, 2);
	for (unsigned b = 0; b < PCI_NUM_BARS; b++) {
		struct vfio_bar *bar = &d->bar[b];
		if (!bar->map || bar->io)
			continue;
		uint64_t addr = pci_bar_address(&d->pci.config, b);
		bool sizing = addr == (uint32_t)~(d->pci.config.bar_size[b] - 1);
		if (bar->mem64 && b + 1 < PCI_NUM_BARS) {
			const uint8_t *hi = d->pci.config.bytes + PCI_BAR0 + 4 * (b + 1);
			uint32_t high = bytes_to_u64(hi, 4);
			sizing |= high == 0xffffffffu;
			addr |= (uint64_t)high << 32;
		}
		bool want = !remove_only && (cmd & PCI_COMMAND_MEMORY) && addr && !sizing;
		uint64_t off[2], size[2];
		unsigned n = bar_pieces(d, b, off, size);
		for (unsigned p = 0; p < 2; p++) {
			uint64_t gpa = want && p < n ? addr + off[p] : 0;
			uint64_t sz = want && p < n ? size[p] : 0;
			if (bar->slot_size[p] == sz && bar->slot_gpa[p] == gpa)
				continue;
			if (bar->slot_size[p])   /* a slot cannot move: delete, then add */
				set_slot(d, 2 * b + p, bar->slot_gpa[p], 0,
					 bar->map + bar->slot_off[p]);
			bar->slot_size[p] = 0;
			if (sz && !set_slot(d, 2 * b + p, gpa, sz, bar->map + off[p])) {
				bar->slot_gpa[p] = gpa;
				bar->slot_size[p] = sz;
				bar->slot_off[p] = off[p];
			}
		}
	}
}

/*
 * After a config write below 0x40 (stage 4's pci.c moved the trap ranges already): the
 * command register goes to the device too (memory and I/O decoding, bus mastering: DMA, INTx
 * disable). With decoding off VFIO forbids the mapping, so slots go before and come after.
 */
static void bars_changed(struct pci_device *pci)
{
	struct vfio_pci *d = pci->owner;
	uint16_t cmd = bytes_to_u64(d->pci.config.bytes + PCI_COMMAND, 2);
	update_slots(d, true);
	uint16_t host = dev_config_read(d, PCI_COMMAND, 2);
	uint16_t mask = PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER |
			PCI_COMMAND_INTX_DISABLE;
	if ((host & mask) != (cmd & mask))
		dev_config_write(d, PCI_COMMAND, (host & ~mask) | (cmd & mask), 2);
	update_slots(d, false);
}

static bool in_msix_table(struct vfio_pci *d, unsigned b, uint64_t off, unsigned len)
{
	return d->msix_cap && d->msix_bar == b && off >= d->msix_table_off &&
	       off + len <= d->msix_table_off + 16 * d->msix_n;
}

/* A trapped access: the MSI-X table is ours; the rest goes to the device fd. */
static int bar_access(struct vfio_pci *d, unsigned b, uint64_t off, uint8_t *data, unsigned len,
		      bool write)
{
	if (in_msix_table(d, b, off, len)) {
		uint8_t *t = d->msix_table + (off - d->msix_table_off);
		if (!write) {
			memcpy(data, t, len);
			return 0;
		}
		memcpy(t, data, len);
		msix_vector_update(d, (off - d->msix_table_off) / 16);
		commit_routes(d->set);
		return 0;
	}
	ssize_t n = write ? pwrite(d->device_fd, data, len, d->bar[b].offset + off)
			  : pread(d->device_fd, data, len, d->bar[b].offset + off);
	if (n != (ssize_t)len && !write)
		memset(data, 0xff, len);   /* as a bus master abort reads */
	return 0;
}

/* The bus gives the range's dev pointer: a small record naming device and BAR. */
struct bar_ref {
	struct vfio_pci *d;
	unsigned b;
};
static struct bar_ref bar_refs[VFIO_MAX_DEVICES][PCI_NUM_BARS];

static int bar_read(void *ref, uint64_t off, uint8_t *data, unsigned len)
{
	struct bar_ref *r = ref;
	return bar_access(r->d, r->b, off, data, len, false);
}

static int bar_write(void *ref, uint64_t off, const uint8_t *data, unsigned len)
{
	struct bar_ref *r = ref;
	uint8_t copy[8];
	memcpy(copy, data, len > 8 ? 8 : len);
	return bar_access(r->d, r->b, off, copy, len > 8 ? 8 : len, true);
}

static const struct bus_ops bar_ops = { bar_read, bar_write };

/* ---- the virtual config space ---- */

static bool overlaps(unsigned off, unsigned len, unsigned start, unsigned size)
{
	return start && off < start + size && start < off + len;
}

/*
 * A write into our MSI capability, byte by byte (a dword write at its start covers the ID and
 * next pointer too): the enable bit of the control byte, the address and data registers.
 */
static void msi_cap_write(struct vfio_pci *d, unsigned off, const uint8_t *b, unsigned len)
{
	uint8_t *c = d->pci.config.bytes;
	unsigned end = d->msi_cap + (d->msi_64 ? 16 : 12);
	for (unsigned i = 0; i < len; i++) {
		unsigned o = off + i;
		if (o == d->msi_cap + 2u)
			c[o] = (c[o] & ~0x71) | (b[i] & 0x01);   /* enable; one vector */
		else if (o >= d->msi_cap + 4u && o < end)
			c[o] = b[i];
	}
	msi_update(d);
}

/* MSI-X: only the control register's top bits (enable 15, function mask 14) are writable. */
static void msix_cap_write(struct vfio_pci *d, unsigned off, const uint8_t *b, unsigned len)
{
	uint8_t *c = d->pci.config.bytes;
	for (unsigned i = 0; i < len; i++)
		if (off + i == d->msix_cap + 3u)
			c[off + i] = (c[off + i] & 0x07) | (b[i] & 0xc0);
	msix_update(d);
}

/*
 * Registers from 0x40 on: MSI and MSI-X are ours (the host programs the real ones through
 * VFIO_DEVICE_SET_IRQS); every other capability register goes to the device, and what it
 * then reads is what the guest sees.
 */
static void specific_write(struct pci_device *pci, unsigned off, uint32_t value, unsigned len)
{
	struct vfio_pci *d = pci->owner;
	uint8_t *c = d->pci.config.bytes, b[4];
	u64_to_bytes(value, b, len);
	if (d->msi_cap && overlaps(off, len, d->msi_cap, d->msi_64 ? 16 : 12)) {
		msi_cap_write(d, off, b, len);
		return;
	}
	if (d->msix_cap && overlaps(off, len, d->msix_cap, 12)) {
		msix_cap_write(d, off, b, len);
		return;
	}
	dev_config_write(d, off, value, len);
	unsigned dword = off & ~3u;
	u64_to_bytes(dev_config_read(d, dword, 4), c + dword, 4);
}

/* Walk the device's capability list: note MSI and MSI-X, and make them ours. */
static void find_caps(struct vfio_pci *d)
{
	uint8_t *c = d->pci.config.bytes;
	if (!(c[PCI_STATUS] & PCI_STATUS_CAP_LIST))
		return;
	unsigned seen = 0;
	for (unsigned p = c[PCI_CAPABILITY_LIST] & ~3u; p >= 0x40 && seen++ < 48;
	     p = c[p + 1] & ~3u) {
		/* Registers we would keep past the 256 bytes (a capability at 0xf8 or 0xfc): not a
		 * capability we can be; it stays the device's (VFIO's own virtualization). */
		unsigned regs = c[p] == CAP_ID_MSI ? ((c[p + 2] & 0x80) ? 14 : 10) : 12;
		if ((c[p] == CAP_ID_MSI || c[p] == CAP_ID_MSIX) && p + regs > 256)
			continue;
		if (c[p] == CAP_ID_MSI && !d->msi_cap) {
			d->msi_cap = p;
			d->msi_64 = c[p + 2] & 0x80;
			c[p + 2] &= ~0x7f;   /* off; one vector capable (we route one) */
		} else if (c[p] == CAP_ID_MSIX && !d->msix_cap) {
			uint16_t ctrl = bytes_to_u64(c + p + 2, 2);
			uint32_t table = bytes_to_u64(c + p + 4, 4);
			uint32_t pba = bytes_to_u64(c + p + 8, 4);
			d->msix_cap = p;
			d->msix_n = (ctrl & 0x7ff) + 1;
			d->msix_bar = table & 7;
			d->msix_table_off = table & ~7u;
			d->msix_pba_off = pba & ~7u;
			if (d->msix_n > VFIO_MAX_MSIX)   /* say fewer: drivers use what they see */
				d->msix_n = VFIO_MAX_MSIX;
			u64_to_bytes(d->msix_n - 1, c + p + 2, 2);   /* off, unmasked */
		}
	}
}

/* The guest's view: the device's header with virtual BARs, no ROM BAR, our interrupt line. */
static int build_config(struct vfio_pci *d, unsigned gsi, char *why, size_t why_len)
{
	struct pci_config *pc = &d->pci.config;
	memset(pc, 0, sizeof(*pc));
	if (pread(d->device_fd, pc->bytes, 256, d->config_offset) != 256)
		return machine_fail(-EIO, why, why_len, "%s: cannot read config space", d->name);
	for (unsigned b = 0; b < PCI_NUM_BARS; b++) {
		uint32_t raw = bytes_to_u64(pc->bytes + PCI_BAR0 + 4 * b, 4);
		struct vfio_bar *bar = &d->bar[b];
		u64_to_bytes(0, pc->bytes + PCI_BAR0 + 4 * b, 4);
		if (!bar->size)
			continue;
		if (bar->size > 0x80000000ull || (bar->size & (bar->size - 1)))
			return machine_fail(-ENOTSUP, why, why_len, "%s: BAR %u of %llu bytes: "
					    "this VMM places BARs of up to 2 GiB", d->name, b,
					    (unsigned long long)bar->size);
		bar->io = raw & PCI_BAR_IO;
		bar->mem64 = !bar->io && (raw & 0x6) == 0x4;
		bar->prefetch = !bar->io && (raw & 0x8);
		pc->bar_size[b] = bar->size < 16 ? 16 : bar->size;
		u64_to_bytes(bar->io ? PCI_BAR_IO : (raw & 0xe), pc->bytes + PCI_BAR0 + 4 * b, 4);
		/* A 64-bit BAR's high half: every bit writable, so sizing reads all ones there (a
		 * BAR under 4 GiB), which stage 4's rules give a "BAR" of size 1. Stage 4 moves
		 * the trap by the low half only: the slots (update_slots) follow both. */
		if (bar->mem64 && b + 1 < PCI_NUM_BARS) {
			u64_to_bytes(0, pc->bytes + PCI_BAR0 + 4 * (b + 1), 4);
			pc->bar_size[b + 1] = 1;
			b++;
		}
	}
	u64_to_bytes(0, pc->bytes + PCI_ROM_ADDRESS, 4);   /* the ROM: SeaBIOS gets it by fw_cfg */
	u64_to_bytes(0, pc->bytes + PCI_COMMAND, 2);        /* firmware turns decoding on */
	pc->bytes[PCI_HEADER_TYPE] &= ~PCI_HEADER_MULTIFUNCTION;
	pc->bytes[PCI_INTERRUPT_LINE] = gsi;
	find_caps(d);
	return 0;
}

/* Register a trap range per BAR, parked (off) until firmware places the BAR. */
static int add_traps(struct vfio_pci *d, struct io_bus *bus, char *why, size_t why_len)
{
	for (unsigned b = 0; b < PCI_NUM_BARS; b++) {
		struct vfio_bar *bar = &d->bar[b];
		if (!bar->size || !d->pci.config.bar_size[b])
			continue;
		bar_refs[d->index][b] = (struct bar_ref){ d, b };
		uint64_t park = bar->io ? BAR_PARK_PIO + (d->index * 8 + b) * 0x10000ull
					: BAR_PARK_MMIO + ((uint64_t)(d->index * 8 + b) << 32);
		struct bar_ref *ref = &bar_refs[d->index][b];
		bar->range = bus_register(bus, bar->io ? BUS_PIO : BUS_MMIO, park,
					  d->pci.config.bar_size[b], &bar_ops, ref, d->name);
		if (!bar->range)
			return machine_fail(-ENOSPC, why, why_len, "%s: BAR %u: no room on the bus",
					    d->name, b);
		bus_move(bar->range, park, false);
		d->pci.bar_range[b] = bar->range;
	}
	return 0;
}

/* The expansion ROM, as QEMU gives one to SeaBIOS: a fw_cfg file named by vendor and device. */
static void add_rom(struct vfio_pci *d, struct fw_cfg *fw_cfg)
{
	d->rom_given = false;
	if (!d->rom_size || d->rom_size > (16u << 20) || !fw_cfg)
		return;
	uint8_t *rom = malloc(d->rom_size);
	if (rom && pread(d->device_fd, rom, d->rom_size, d->rom_offset) == (ssize_t)d->rom_size &&
	    rom[0] == 0x55 && rom[1] == 0xaa) {
		char name[32];
		snprintf(name, sizeof(name), "pci%04x,%04x.rom",
			 (unsigned)bytes_to_u64(d->pci.config.bytes + PCI_VENDOR_ID, 2),
			 (unsigned)bytes_to_u64(d->pci.config.bytes + PCI_DEVICE_ID, 2));
		if (fw_cfg_add_file(fw_cfg, name, rom, d->rom_size))
			fprintf(stderr, "%s: its ROM was not given to the firmware\n", d->name);
		else
			d->rom_given = true;
	}
	free(rom);
}

/* ---- machine side ---- */

static int map_dma(struct vfio_set *s, unsigned i, uint8_t *host, uint64_t iova, uint64_t size,
		   char *why, size_t why_len)
{
	struct vfio_iommu_type1_dma_map m = { .argsz = sizeof(m),
		.flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE,
		.vaddr = (uint64_t)(uintptr_t)host, .iova = iova, .size = size };
	if (!size)
		return 0;
	if (ioctl(s->container_fd, VFIO_IOMMU_MAP_DMA, &m) < 0)
		return machine_fail(-errno, why, why_len, "vfio: VFIO_IOMMU_MAP_DMA of %llu MiB "
				    "at %#llx: %s", (unsigned long long)(size >> 20),
				    (unsigned long long)iova, strerror(errno));
	s->dma_iova[i] = iova;
	s->dma_size[i] = size;
	return 0;
}

/* One line on what the guest got: where, which BARs mapped or trapped, which interrupts. */
static void describe(struct vfio_pci *d)
{
	char line[256];
	const uint8_t *c = d->pci.config.bytes;
	int n = snprintf(line, sizeof(line), "%s: %04x:%04x at 00:%02x.0", d->name,
			 (unsigned)bytes_to_u64(c + PCI_VENDOR_ID, 2),
			 (unsigned)bytes_to_u64(c + PCI_DEVICE_ID, 2), d->slot);
	for (unsigned b = 0; b < PCI_NUM_BARS && n < (int)sizeof(line); b++)
		if (d->bar[b].size)
			n += snprintf(line + n, sizeof(line) - n, ", BAR%u %llu KiB %s%s", b,
				      (unsigned long long)(d->bar[b].size >> 10),
				      d->bar[b].io ? "I/O " : d->bar[b].mem64 ? "64-bit " : "",
				      d->bar[b].map ? "mapped" : "trapped");
	if (n < (int)sizeof(line))
		n += snprintf(line + n, sizeof(line) - n, "%s%s%s", d->intx_on ? ", INTx" : "",
			      d->msi_cap ? ", MSI" : "", d->msix_cap ? ", MSI-X" : "");
	if (d->rom_given && n < (int)sizeof(line))
		snprintf(line + n, sizeof(line) - n, ", ROM %llu KiB",
			 (unsigned long long)(d->rom_size >> 10));
	fprintf(stderr, "minivisor: %s\n", line);
}

static int attach_one(struct vfio_set *s, struct vfio_pci *d, struct io_bus *bus,
		      struct pci_host *pci, struct fw_cfg *fw_cfg, unsigned slot, char *why,
		      size_t why_len)
{
	if (d->can_reset && ioctl(d->device_fd, VFIO_DEVICE_RESET) < 0)
		fprintf(stderr, "%s: reset failed: %s\n", d->name, strerror(errno));
	uint8_t pin = dev_config_read(d, PCI_INTERRUPT_PIN, 1);
	unsigned gsi = pin >= 1 && pin <= 4 ? chipset_intx_gsi(slot, pin - 1) : 0;
	memset(&d->pci, 0, sizeof(d->pci));
	for (unsigned b = 0; b < PCI_NUM_BARS; b++)
		d->bar[b].slot_size[0] = d->bar[b].slot_size[1] = 0;
	irqfd_line_init(&d->intx);
	d->msi_fd = -1;
	for (unsigned v = 0; v < VFIO_MAX_MSIX; v++)
		d->msix_fd[v] = -1;
	d->msi_cap = d->msix_cap = 0;
	d->msi_on = d->msix_on = d->intx_on = false;
	memset(d->msix_table, 0, sizeof(d->msix_table));
	int err = build_config(d, gsi, why, why_len);
	if (err)
		return err;
	for (unsigned v = 0; v < d->msix_n; v++)
		d->msix_table[16 * v + 12] = 1;   /* vectors start masked */
	d->slot = slot;
	d->intx_gsi = gsi;
	d->pci.name = d->name;
	d->pci.owner = d;
	d->pci.specific_write = specific_write;
	d->pci.bars_changed = bars_changed;
	/* GSIs of its own: one for MSI, a run of them for MSI-X (msix_gsi + vector) */
	int gsi0 = d->msi_cap ? msi_route_new(s->msi) : 0;
	d->msi_gsi = gsi0;
	if (d->msix_cap)
		d->msix_gsi = s->msi->n + MSI_FIRST_GSI;
	for (unsigned v = 0; d->msix_cap && v < d->msix_n && gsi0 >= 0; v++)
		gsi0 = msi_route_new(s->msi);
	if (gsi0 < 0)
		return machine_fail(gsi0, why, why_len, "%s: no GSI left for its MSI vectors",
				    d->name);
	if ((err = add_traps(d, bus, why, why_len)))
		return err;
	add_rom(d, fw_cfg);
	if (pci_host_place(pci, &d->pci, slot, 0))
		return machine_fail(-EBUSY, why, why_len, "%s: PCI slot %u is taken", d->name,
				    slot);
	intx_on(d);
	describe(d);
	return 0;
}

int vfio_attach(struct vfio_set *s, struct io_bus *bus, struct pci_host *pci, int vm_fd,
		struct fw_cfg *fw_cfg, uint8_t *ram, uint64_t below_4g, uint64_t above_4g,
		unsigned first_slot, char *why, size_t why_len)
{
	if (!s->n)
		return 0;
	s->vm_fd = vm_fd;
	s->bus = bus;
	s->msi = &pci->msi;
	/* All of guest RAM, at IOVA = guest-physical address: the driver's DMA addresses. */
	int err = map_dma(s, 0, ram, 0, below_4g, why, why_len);
	if (!err)
		err = map_dma(s, 1, ram + below_4g, 1ull << 32, above_4g, why, why_len);
	if (!err && above_4g)
		fprintf(stderr, "minivisor: vfio: guest RAM mapped for DMA: 0x%llx-0x%llx and "
			"0x%llx-0x%llx (IOVA = guest-physical)\n", 0ull,
			(unsigned long long)below_4g - 1, 1ull << 32,
			(unsigned long long)((1ull << 32) + above_4g - 1));
	else if (!err)
		fprintf(stderr, "minivisor: vfio: guest RAM mapped for DMA: 0x%llx-0x%llx "
			"(IOVA = guest-physical)\n", 0ull, (unsigned long long)below_4g - 1);
	unsigned slot = first_slot;
	for (unsigned i = 0; i < s->n && !err; i++) {
		while (slot < PCI_MAX_SLOTS && pci->functions[slot][0])
			slot++;
		if (slot == PCI_MAX_SLOTS)
			return machine_fail(-ENOSPC, why, why_len, "%s: no free PCI slot",
					    s->dev[i].name);
		err = attach_one(s, &s->dev[i], bus, pci, fw_cfg, slot, why, why_len);
	}
	if (!err && commit_routes(s))
		err = machine_fail(-EIO, why, why_len, "vfio: KVM_SET_GSI_ROUTING failed");
	return err;
}

void vfio_detach(struct vfio_set *s)
{
	for (unsigned i = 0; i < s->n; i++) {
		struct vfio_pci *d = &s->dev[i];
		if (!d->pci.owner)
			continue;
		if (d->msix_on) {
			u64_to_bytes(0, d->pci.config.bytes + d->msix_cap + 2, 2);
			msix_update(d);
		}
		if (d->msi_on) {
			d->pci.config.bytes[d->msi_cap + 2] = 0;
			msi_update(d);
		}
		intx_off(d);
		update_slots(d, true);
		if (d->can_reset && ioctl(d->device_fd, VFIO_DEVICE_RESET) < 0)
			fprintf(stderr, "%s: reset failed: %s\n", d->name, strerror(errno));
		d->pci.owner = NULL;
	}
	for (unsigned i = 0; i < 2; i++) {
		struct vfio_iommu_type1_dma_unmap u = { .argsz = sizeof(u), .iova = s->dma_iova[i],
							.size = s->dma_size[i] };
		if (s->dma_size[i] && s->container_fd > 0)
			ioctl(s->container_fd, VFIO_IOMMU_UNMAP_DMA, &u);
		s->dma_size[i] = 0;
	}
}
