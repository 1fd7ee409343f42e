/*
 * migrate.c - the control socket, snapshots, live migration (pre-copy over TCP) and the
 * incoming side. See migrate.h for the commands; stream.h for the bytes; vmstate.h for what
 * is in them; docs/stage5-migration.md for the lesson.
 *
 * Threads: the control thread does the whole of a request. While the guest runs it only
 * reads RAM (pre-copy); for the part that needs the vCPUs stopped it asks machine_run() to
 * end with END_PAUSE, and pc_run() waits in migration_paused() until the thread says
 * "resume" or "handed over".
 */
#define _GNU_SOURCE   /* accept4 */
#include "migrate.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include "board/pc.h"
#include "ramfile.h"
#include "stream.h"
#include "vmstate.h"

#define DEFAULT_DOWNTIME_MS 50
#define DEFAULT_ROUNDS 30
#define PAGE STREAM_PAGE_SIZE

enum phase { GUEST_RUNS, WANT_PAUSE, PAUSED, RESUME, HANDED_OVER };

struct migration {
	struct pc *pc;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	enum phase phase;
	bool machine_gone;       /* the machine ended or was rebuilt: its RAM is not ours */
	pthread_mutex_t ram;     /* held while the thread reads RAM with the guest running */
	int listen_fd, stop_fd, client_fd, data_fd;
	pthread_t thread;
	char path[108];
};

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* A line to the VMM's stderr and, when a client waits, to it too. */
__attribute__((format(printf, 2, 3)))
static void say(struct migration *mig, const char *fmt, ...)
{
	char line[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	fprintf(stderr, "minivisor: %s\n", line);
	if (mig && mig->client_fd >= 0) {
		size_t n = strlen(line);
		line[n++] = '\n';
		if (write(mig->client_fd, line, n) < 0) {
			/* the client went away: the request goes on */
		}
	}
}

/* ---- pausing ------------------------------------------------------------------------------ */

static bool pause_guest(struct migration *mig)
{
	pthread_mutex_lock(&mig->lock);
	bool gone = mig->machine_gone;
	if (!gone)
		mig->phase = WANT_PAUSE;
	pthread_mutex_unlock(&mig->lock);
	if (gone)
		return false;
	machine_request_stop(&mig->pc->m, END_PAUSE);
	pthread_mutex_lock(&mig->lock);
	while (mig->phase == WANT_PAUSE && !mig->machine_gone)
		pthread_cond_wait(&mig->cond, &mig->lock);
	bool paused = mig->phase == PAUSED;
	if (!paused)
		mig->phase = GUEST_RUNS;
	pthread_mutex_unlock(&mig->lock);
	return paused;
}

static void end_pause(struct migration *mig, bool handed_over)
{
	pthread_mutex_lock(&mig->lock);
	mig->phase = handed_over ? HANDED_OVER : RESUME;
	pthread_cond_broadcast(&mig->cond);
	pthread_mutex_unlock(&mig->lock);
}

bool migration_paused(struct migration *mig)
{
	if (!mig)
		return false;
	pthread_mutex_lock(&mig->lock);
	mig->phase = PAUSED;
	pthread_cond_broadcast(&mig->cond);
	while (mig->phase == PAUSED)
		pthread_cond_wait(&mig->cond, &mig->lock);
	bool handed_over = mig->phase == HANDED_OVER;
	mig->phase = GUEST_RUNS;
	pthread_mutex_unlock(&mig->lock);
	return handed_over;
}

void migration_machine_gone(struct migration *mig)
{
	if (!mig)
		return;
	pthread_mutex_lock(&mig->ram);   /* a pre-copy round ends first */
	pthread_mutex_lock(&mig->lock);
	mig->machine_gone = true;
	pthread_cond_broadcast(&mig->cond);
	pthread_mutex_unlock(&mig->lock);
	pthread_mutex_unlock(&mig->ram);
}

static bool machine_gone(struct migration *mig)
{
	pthread_mutex_lock(&mig->lock);
	bool gone = mig->machine_gone;
	pthread_mutex_unlock(&mig->lock);
	return gone;
}

/* ---- disks: shared storage, one owner at a time --------------------------------------- */

static struct ata_drive *drive_at(struct pc *pc, unsigned i)
{
	if (pc->chipset.state.kind == CHIPSET_Q35)
		return &pc->ahci.ports[i].drive;
	return &pc->ide.channel[i / 2].drive[i % 2];
}

/* Every image the machine writes to: the disk controllers' positions, then the USB sticks. */
#define PC_DISKS (PC_DRIVE_POSITIONS + USB_MAX_DEVICES)

static struct block_dev *disk_get(struct pc *pc, unsigned i)
{
	return i < PC_DRIVE_POSITIONS ? pc->drives.at[i] : pc->usb.disks[i - PC_DRIVE_POSITIONS];
}

/* The image under disk i, and under the device model that reads it. */
static void disk_set(struct pc *pc, unsigned i, struct block_dev *b)
{
	if (i < PC_DRIVE_POSITIONS) {
		pc->drives.at[i] = b;
		drive_at(pc, i)->blk = b;
	} else {
		pc->usb.disks[i - PC_DRIVE_POSITIONS] = b;
		pc->usb.storage[i - PC_DRIVE_POSITIONS].disk = b;
	}
}

struct held_disks {
	char path[PC_DISKS][4096];
	unsigned flags[PC_DISKS];
	bool held[PC_DISKS];
};

static unsigned reopen_flags(const struct block_dev *b)
{
	unsigned f = b->read_only ? BLOCK_RDONLY : 0;
	return f | (!strcmp(b->ops->name, "qcow2") ? BLOCK_FORMAT_QCOW2 : BLOCK_FORMAT_RAW);
}

/* Flush and close every image (its lock goes with it): the other side may take them now. */
static int release_disks(struct pc *pc, struct held_disks *h, char *why, size_t why_len)
{
	memset(h, 0, sizeof(*h));
	for (unsigned i = 0; i < PC_DISKS; i++) {
		struct block_dev *b = disk_get(pc, i);
		if (!b)
			continue;
		if (!b->read_only && block_flush(b))
			return machine_fail(-EIO, why, why_len, "%s: flush failed: %s", b->path,
					    b->why);
	}
	for (unsigned i = 0; i < PC_DISKS; i++) {
		struct block_dev *b = disk_get(pc, i);
		if (!b)
			continue;
		snprintf(h->path[i], sizeof(h->path[i]), "%s", b->path);
		h->flags[i] = reopen_flags(b);
		h->held[i] = true;
		block_close(b);
		disk_set(pc, i, NULL);
	}
	return 0;
}

/* Open the images again, locked; each replaces the one there (if any) under its drive. */
static int take_disks(struct pc *pc, const struct held_disks *h, char *why, size_t why_len)
{
	for (unsigned i = 0; i < PC_DISKS; i++) {
		if (!h->held[i])
			continue;
		struct block_dev *b;
		int err = block_open(h->path[i], h->flags[i], &b, why, why_len);
		if (err)
			return err;
		if (disk_get(pc, i))
			block_close(disk_get(pc, i));
		disk_set(pc, i, b);
	}
	return 0;
}

/*
 * Flush the images while the guest still runs, so that the flush in the pause (release_disks)
 * has only the last writes to do: an fsync is milliseconds of downtime on a busy host. Under
 * the bus lock, as the device models call the block layer; errors are the last flush's to say.
 */
static void flush_disks_early(struct migration *mig)
{
	struct pc *pc = mig->pc;
	pthread_mutex_lock(&mig->ram);
	pthread_mutex_lock(&pc->m.bus.lock);
	for (unsigned i = 0; i < PC_DRIVE_POSITIONS && !mig->machine_gone; i++)
		if (pc->drives.at[i] && !pc->drives.at[i]->read_only)
			block_flush(pc->drives.at[i]);
	pthread_mutex_unlock(&pc->m.bus.lock);
	pthread_mutex_unlock(&mig->ram);
}

/* The destination's images, opened unlocked (BLOCK_NO_LOCK): their paths and flags. */
static void unlocked_disks(struct pc *pc, struct held_disks *h)
{
	memset(h, 0, sizeof(*h));
	for (unsigned i = 0; i < PC_DISKS; i++) {
		struct block_dev *b = disk_get(pc, i);
		if (!b)
			continue;
		snprintf(h->path[i], sizeof(h->path[i]), "%s", b->path);
		h->flags[i] = reopen_flags(b);
		h->held[i] = true;
	}
}

/* ---- RAM: dirty logging ----------------------------------------------------------------- */

/* The RAM slots of board/pc_memory.c, and where each starts in the allocation. */
struct ram_slot {
	unsigned slot;
	uint64_t gpa, host_off, size;
	uint64_t *bitmap;
};

struct dirty_log {
	struct ram_slot slot[3];
	unsigned nslots;
	uint64_t *dirty;         /* pages to send, by allocation offset */
	uint64_t *host_dirty;    /* the VMM's own writes (guest_memory.h) */
	uint64_t words;
};

static int set_logging(struct pc *pc, const struct ram_slot *s, bool on)
{
	struct kvm_userspace_memory_region r = {
		.slot = s->slot, .flags = on ? KVM_MEM_LOG_DIRTY_PAGES : 0,
		.guest_phys_addr = s->gpa, .memory_size = s->size,
		.userspace_addr = (uintptr_t)(pc->m.vm.mem.host + s->host_off),
	};
	return ioctl(pc->m.vm.vm_fd, KVM_SET_USER_MEMORY_REGION, &r) < 0 ? -errno : 0;
}

static void log_stop(struct pc *pc, struct dirty_log *d, bool machine_alive)
{
	if (machine_alive) {
		pc->m.vm.mem.host_dirty = NULL;
		for (unsigned i = 0; i < d->nslots; i++)
			set_logging(pc, &d->slot[i], false);
	}
	for (unsigned i = 0; i < d->nslots; i++)
		free(d->slot[i].bitmap);
	free(d->dirty);
	free(d->host_dirty);
	memset(d, 0, sizeof(*d));
}

static int log_start(struct pc *pc, struct dirty_log *d, char *why, size_t why_len)
{
	const struct pc_ram_split *sp = &pc->memory.split;
	memset(d, 0, sizeof(*d));
	d->slot[d->nslots++] = (struct ram_slot){ 0, 0, 0, PC_LOW_RAM_END, NULL };
	d->slot[d->nslots++] = (struct ram_slot){ 1, PC_HIGH_RAM_BASE, PC_HIGH_RAM_BASE,
						  sp->below_4g - PC_HIGH_RAM_BASE, NULL };
	if (sp->above_4g)
		d->slot[d->nslots++] = (struct ram_slot){ PC_ABOVE_4G_SLOT, 1ull << 32,
							  sp->below_4g, sp->above_4g, NULL };
	d->words = (vmstate_ram_pages(pc) + 63) / 64;
	d->dirty = calloc(d->words, 8);
	d->host_dirty = calloc(d->words, 8);
	bool ok = d->dirty && d->host_dirty;
	for (unsigned i = 0; i < d->nslots && ok; i++)
		ok = (d->slot[i].bitmap = calloc((d->slot[i].size / PAGE + 63) / 64, 8)) != NULL;
	if (!ok) {
		log_stop(pc, d, false);
		return machine_fail(-ENOMEM, why, why_len, "no memory for the dirty bitmaps");
	}
	for (unsigned i = 0; i < d->nslots; i++) {
		int err = set_logging(pc, &d->slot[i], true);
		if (err) {
			log_stop(pc, d, true);
			return machine_fail(err, why, why_len, "KVM_MEM_LOG_DIRTY_PAGES on slot %u: "
					    "%s", d->slot[i].slot, strerror(-err));
		}
	}
	pc->m.vm.mem.host_dirty = d->host_dirty;
	return 0;
}

/* Collect what was written since the last call (KVM clears its log as it hands it out). */
static int log_harvest(struct pc *pc, struct dirty_log *d, char *why, size_t why_len)
{
	for (unsigned i = 0; i < d->nslots; i++) {
		struct ram_slot *s = &d->slot[i];
		struct kvm_dirty_log log = { .slot = s->slot, .dirty_bitmap = s->bitmap };
		if (ioctl(pc->m.vm.vm_fd, KVM_GET_DIRTY_LOG, &log) < 0)
			return machine_fail(-errno, why, why_len, "KVM_GET_DIRTY_LOG slot %u: %s",
					    s->slot, strerror(errno));
		uint64_t first = s->host_off / PAGE, n = s->size / PAGE;
		for (uint64_t w = 0; w < (n + 63) / 64; w++)
			for (uint64_t bits = s->bitmap[w]; bits; bits &= bits - 1) {
				uint64_t p = first + w * 64 + __builtin_ctzll(bits);
				d->dirty[p / 64] |= 1ull << (p % 64);
			}
	}
	/* Device DMA happens under the bus lock: no write is half recorded while we take it. */
	pthread_mutex_lock(&pc->m.bus.lock);
	for (uint64_t w = 0; w < d->words; w++)
		d->dirty[w] |= __atomic_exchange_n(&d->host_dirty[w], 0, __ATOMIC_RELAXED);
	pthread_mutex_unlock(&pc->m.bus.lock);
	return 0;
}

static uint64_t count_dirty(const struct dirty_log *d)
{
	uint64_t n = 0;
	for (uint64_t w = 0; w < d->words; w++)
		n += __builtin_popcountll(d->dirty[w]);
	return n;
}

/*
 * 0xa0000-0xfffff: the VGA window and the PAM shadow RAM. Their slots are not logged, so KVM
 * cannot say which of these 96 pages changed. Sending all of them in the last phase cost
 * 384 KiB of downtime (several ms on a slow link); instead each round sends the pages that
 * differ from a copy of what was sent last, and the last phase sends only those that changed
 * since the last round: a memcmp is much cheaper than the network.
 */
#define LEGACY_FIRST (PC_LOW_RAM_END / PAGE)
#define LEGACY_PAGES ((PC_HIGH_RAM_BASE - PC_LOW_RAM_END) / PAGE)

struct legacy_copy {
	uint8_t (*page)[PAGE];   /* what the destination has, for each page sent */
	bool sent[LEGACY_PAGES];
};

static int legacy_init(struct legacy_copy *lc)
{
	memset(lc, 0, sizeof(*lc));
	lc->page = malloc(LEGACY_PAGES * PAGE);
	return lc->page ? 0 : -ENOMEM;
}

static void legacy_free(struct legacy_copy *lc)
{
	free(lc->page);
	lc->page = NULL;
}

/* Send each legacy page that changed since it was last sent (or never was); count them. */
static int legacy_sync(struct pc *pc, struct legacy_copy *lc, struct stream *s,
		       struct ram_batch *b, uint64_t *count)
{
	for (uint64_t i = 0; i < LEGACY_PAGES; i++) {
		const uint8_t *live = vmstate_page(pc, LEGACY_FIRST + i);
		if (lc->sent[i] && !memcmp(live, lc->page[i], PAGE))
			continue;
		/* The copy is what goes: the guest may write the live page meanwhile. */
		memcpy(lc->page[i], live, PAGE);
		lc->sent[i] = true;
		(*count)++;
		bool zero = vmstate_page_is_zero(lc->page[i]);
		if (ram_batch_add(s, b, LEGACY_FIRST + i, zero ? NULL : lc->page[i]))
			return -EIO;
	}
	return ram_batch_flush(s, b);
}

static bool is_legacy(uint64_t page)
{
	return page >= LEGACY_FIRST && page < LEGACY_FIRST + LEGACY_PAGES;
}

/*
 * Send (and clear) the dirty pages; a page that became zero goes as a zero record. The legacy
 * area is legacy_sync()'s (a VMM write there may mark one: its copy decides).
 */
static int send_dirty(struct pc *pc, struct dirty_log *d, struct stream *s, struct ram_batch *b)
{
	for (uint64_t w = 0; w < d->words; w++) {
		for (uint64_t bits = d->dirty[w]; bits; bits &= bits - 1) {
			uint64_t p = w * 64 + __builtin_ctzll(bits);
			if (is_legacy(p))
				continue;
			const uint8_t *page = vmstate_page(pc, p);
			if (ram_batch_add(s, b, p, vmstate_page_is_zero(page) ? NULL : page))
				return -EIO;
		}
		d->dirty[w] = 0;
	}
	return ram_batch_flush(s, b);
}

/* Pages the guest never touched are zero: ram_find_untouched() says which without a read. */
#define PAGEMAP_CHUNK 4096

/* The first pass: every page that is not zero (the legacy area is legacy_sync()'s). */
static int send_all(struct pc *pc, struct stream *s, struct ram_batch *b, uint64_t *sent)
{
	uint64_t pages = vmstate_ram_pages(pc);
	static bool untouched[PAGEMAP_CHUNK];
	int pagemap = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	*sent = 0;
	for (uint64_t p = 0; p < pages; p++) {
		if (p % PAGEMAP_CHUNK == 0)
			ram_find_untouched(pagemap, vmstate_page(pc, p),
					   pages - p < PAGEMAP_CHUNK ? pages - p : PAGEMAP_CHUNK,
					   untouched);
		const uint8_t *page = vmstate_page(pc, p);
		if (untouched[p % PAGEMAP_CHUNK] || is_legacy(p) || vmstate_page_is_zero(page))
			continue;
		(*sent)++;
		if (ram_batch_add(s, b, p, page)) {
			if (pagemap >= 0)
				close(pagemap);
			return -EIO;
		}
	}
	if (pagemap >= 0)
		close(pagemap);
	return ram_batch_flush(s, b);
}


/* ---- snapshot -------------------------------------------------------------------------- */

/* A snapshot: the device state, then RAM as a sparse image at its offset (ramfile.h). */
static int write_machine(struct pc *pc, struct stream *s, char *why, size_t why_len)
{
	int err = vmstate_save(pc, s, why, why_len);
	if (err)
		return err;
	err = ram_image_write(s, pc->m.vm.mem.host, pc->m.vm.mem.size);
	return err ? machine_fail(err, why, why_len, "%s", s->why) : 0;
}

static int do_snapshot(struct migration *mig, const char *file, char *why, size_t why_len)
{
	struct pc *pc = mig->pc;
	char config[STREAM_MAX_CONFIG];
	int err = vmstate_check(pc, why, why_len);
	if (err)
		return err;
	int fd = open(file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return machine_fail(-errno, why, why_len, "%s: %s", file, strerror(errno));
	if (!pause_guest(mig)) {
		close(fd);
		unlink(file);
		return machine_fail(-ECANCELED, why, why_len, "the machine stopped first");
	}
	double t0 = now_ms();
	struct stream s;
	stream_init(&s, fd);
	vmstate_config(pc, config, sizeof(config));
	err = stream_write_header(&s, config) ? -EIO : 0;
	if (err)
		machine_fail(err, why, why_len, "%s: %s", file, s.why);
	/* The disks as the snapshot sees them: everything written so far is on them. */
	for (unsigned i = 0; !err && i < PC_DISKS; i++)
		if (disk_get(pc, i) && !disk_get(pc, i)->read_only)
			block_flush(disk_get(pc, i));
	if (!err)
		err = write_machine(pc, &s, why, why_len);
	if (!err && fsync(fd) < 0)
		err = machine_fail(-errno, why, why_len, "%s: fsync: %s", file, strerror(errno));
	double paused = now_ms() - t0;
	end_pause(mig, false);
	close(fd);
	if (err) {
		unlink(file);
		return err;
	}
	say(mig, "snapshot %s: %llu KiB written, guest paused %.1f ms", file,
	    (unsigned long long)(s.bytes >> 10), paused);
	return 0;
}

/* ---- live migration: the source ---------------------------------------------------------- */

/*
 * "tcp:HOST:PORT" -> a connected or listening socket. HOST is an IPv4 address (or
 * "localhost"): no name service, which the static build for the nested host could not load.
 */
static int tcp_socket(const char *uri, bool listen_on, char *why, size_t why_len)
{
	char host[64], *end;
	const char *hp = uri + 4, *colon = strrchr(hp, ':');
	struct sockaddr_in a = { .sin_family = AF_INET };
	if (strncmp(uri, "tcp:", 4) || !colon || colon == hp || (size_t)(colon - hp) >= sizeof(host))
		return machine_fail(-EINVAL, why, why_len, "%s: want tcp:HOST:PORT", uri);
	memcpy(host, hp, colon - hp);
	host[colon - hp] = '\0';
	unsigned long port = strtoul(colon + 1, &end, 10);
	if (!strcmp(host, "localhost"))
		strcpy(host, "127.0.0.1");
	if (*end || !colon[1] || port == 0 || port > 65535 || inet_pton(AF_INET, host, &a.sin_addr) != 1)
		return machine_fail(-EINVAL, why, why_len, "%s: want tcp:IPV4-ADDRESS:PORT", uri);
	a.sin_port = htons(port);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1, err = 0;
	if (fd < 0)
		err = -errno;
	else if (listen_on) {
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(fd, 1) < 0)
			err = -errno;
	} else if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		err = -errno;
	}
	if (err) {
		if (fd >= 0)
			close(fd);
		return machine_fail(err, why, why_len, "%s: %s", uri, strerror(-err));
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return fd;
}

/* One line from the other side ("OK ..." or "ERR ..."), without its newline. */
static int read_line(int fd, char *line, size_t cap)
{
	size_t n = 0;
	while (n + 1 < cap) {
		char c;
		ssize_t r = read(fd, &c, 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -EPIPE;
		if (c == '\n')
			break;
		line[n++] = c;
	}
	line[n] = '\0';
	return 0;
}

/* The other side's verdict; an OK's words go to ok_words (when not NULL). */
static int verdict(int fd, const char *when, char *ok_words, size_t ok_len, char *why,
		   size_t why_len)
{
	char line[400];
	if (read_line(fd, line, sizeof(line)))
		return machine_fail(-EPIPE, why, why_len, "the destination closed the connection "
				    "%s", when);
	if (strncmp(line, "OK", 2))
		return machine_fail(-EPROTO, why, why_len, "the destination refused: %s",
				    strncmp(line, "ERR ", 4) ? line : line + 4);
	if (ok_words) {   /* what follows "OK ", cut to fit */
		const char *w = line[2] == ' ' ? line + 3 : "";
		size_t n = strnlen(w, ok_len - 1);
		memcpy(ok_words, w, n);
		ok_words[n] = '\0';
	}
	return 0;
}

/*
 * One migration's figures. The downtime is cut where it goes, from the request to stop to the
 * destination's OK: stopping the vCPUs, the last dirty pages, the device state, handing the
 * disks over, and the destination (reading the rest, loading, taking the disks, answering).
 */
struct precopy {
	unsigned downtime_ms, max_rounds;
	unsigned rounds;
	uint64_t bytes, last_pages;
	double downtime, total;
	double stop_ms, pages_ms, devices_ms, disks_ms, dest_ms;
	char dest_said[96];      /* the destination's own figures, from its OK */
};

/*
 * The rounds with the guest running. They end when what is left fits the budget and another
 * round would not make it much smaller (fewer than SETTLED_PAGES, or it shrank by less than a
 * fifth): the pages left are the downtime's biggest part, so while rounds still shrink them
 * they are worth it, even under the budget. At the round limit the guest stops anyway.
 */
#define SETTLED_PAGES 32

/* One round with the guest running: round 0 every page, later ones the dirty pages; then the
 * log harvested for the next. The pages sent go to *pages; 0 or a negative errno with why. */
static int send_round(struct migration *mig, struct dirty_log *d, struct legacy_copy *lc,
		      struct stream *s, struct ram_batch *b, bool first, uint64_t *pages,
		      char *why, size_t why_len)
{
	struct pc *pc = mig->pc;
	pthread_mutex_lock(&mig->ram);
	if (mig->machine_gone) {
		pthread_mutex_unlock(&mig->ram);
		return machine_fail(-ECANCELED, why, why_len, "the guest stopped or reset");
	}
	int err = 0;
	*pages = first ? 0 : count_dirty(d);
	err = first ? send_all(pc, s, b, pages) : send_dirty(pc, d, s, b);
	if (!err)
		err = legacy_sync(pc, lc, s, b, pages);
	if (!err)
		err = log_harvest(pc, d, why, why_len);
	else
		machine_fail(err, why, why_len, "sending to the destination: %s", s->why);
	pthread_mutex_unlock(&mig->ram);
	return err;
}

static int precopy_rounds(struct migration *mig, struct dirty_log *d, struct legacy_copy *lc,
			  struct stream *s, struct ram_batch *b, struct precopy *pr, char *why,
			  size_t why_len)
{
	double bandwidth = 0;   /* bytes per ms, measured on the last round big enough to tell */
	uint64_t previous = UINT64_MAX;
	for (pr->rounds = 0;; pr->rounds++) {
		double t0 = now_ms();
		uint64_t before = s->bytes, pages = 0;
		int err = send_round(mig, d, lc, s, b, pr->rounds == 0, &pages, why, why_len);
		if (err)
			return err;
		double took = now_ms() - t0;
		uint64_t sent = s->bytes - before, dirty = count_dirty(d);
		/* A small round's time is its fixed costs, not the link: keep the last figure. */
		if (sent >= (256u << 10) || bandwidth == 0)
			bandwidth = sent / (took > 0.1 ? took : 0.1);
		double expected = dirty * (PAGE + 8) / bandwidth;
		say(mig, "migrate: round %u: %llu pages, %llu KiB sent (%llu KiB in all) in %.1f ms, "
		    "%.1f MiB/s, dirty rate %.1f MiB/s, %llu pages left, expected downtime %.1f ms",
		    pr->rounds, (unsigned long long)pages, (unsigned long long)(sent >> 10),
		    (unsigned long long)(s->bytes >> 10), took, bandwidth * 1e3 / 1048576.0,
		    dirty * PAGE / 1048576.0 / ((took > 0.1 ? took : 0.1) / 1e3),
		    (unsigned long long)dirty, expected);
		bool settled = dirty <= SETTLED_PAGES || dirty * 5 > previous * 4;
		if (expected <= pr->downtime_ms && settled)
			return 0;
		previous = dirty;
		if (pr->rounds + 1 >= pr->max_rounds) {
			say(mig, "migrate: %u rounds: the guest dirties memory faster than it "
			    "goes; stopping it anyway", pr->max_rounds);
			return 0;
		}
	}
}

/*
 * Just before the pause. A write() on a socket returns once the bytes are in the kernel's
 * buffers (megabytes on loopback): the destination may still be taking in round 0's last
 * pages. A "sync" makes the source wait for it with the guest running, not in the pause. The
 * guest dirties pages meanwhile; while that leaves more than SETTLED_PAGES, send them too
 * and sync again (three times at most).
 */
#define CATCH_UPS 3
static int catch_up(struct migration *mig, struct dirty_log *d, struct legacy_copy *lc,
		    struct stream *s, struct ram_batch *b, char *why, size_t why_len)
{
	for (int i = 1;; i++) {
		double t = now_ms();
		int err = stream_write_sync(s) ? machine_fail(-EIO, why, why_len, "sending to the "
							      "destination: %s", s->why) :
			  verdict(s->fd, "while it caught up", NULL, 0, why, why_len);
		if (err)
			return err;
		pthread_mutex_lock(&mig->ram);
		err = mig->machine_gone ? machine_fail(-ECANCELED, why, why_len, "the guest "
						       "stopped or reset") :
		      log_harvest(mig->pc, d, why, why_len);
		pthread_mutex_unlock(&mig->ram);
		if (err)
			return err;
		uint64_t dirty = count_dirty(d), pages;
		say(mig, "migrate: the destination caught up in %.1f ms; %llu pages dirtied "
		    "meanwhile", now_ms() - t, (unsigned long long)dirty);
		if (dirty <= SETTLED_PAGES || i == CATCH_UPS)
			return 0;
		err = send_round(mig, d, lc, s, b, false, &pages, why, why_len);
		if (err)
			return err;
	}
}

/* With the vCPUs stopped: the last pages, the devices, the disks handed over; each timed. */
static int final_phase(struct migration *mig, struct dirty_log *d, struct legacy_copy *lc,
		       struct stream *s, struct ram_batch *b, struct held_disks *disks,
		       struct precopy *pr, char *why, size_t why_len)
{
	struct pc *pc = mig->pc;
	double t = now_ms();
	int err = log_harvest(pc, d, why, why_len);
	if (err)
		return err;
	pr->last_pages = count_dirty(d);
	if (send_dirty(pc, d, s, b) || legacy_sync(pc, lc, s, b, &pr->last_pages))
		return machine_fail(-EIO, why, why_len, "sending to the destination: %s", s->why);
	pr->pages_ms = now_ms() - t;
	t = now_ms();
	err = vmstate_save(pc, s, why, why_len);
	pr->devices_ms = now_ms() - t;
	t = now_ms();
	if (!err)
		err = release_disks(pc, disks, why, why_len);
	pr->disks_ms = now_ms() - t;
	t = now_ms();
	if (!err && stream_write_end(s))
		err = machine_fail(-EIO, why, why_len, "sending to the destination: %s", s->why);
	if (!err && s->failed)   /* a section write failed on the way */
		err = machine_fail(-EIO, why, why_len, "sending to the destination: %s", s->why);
	if (!err)
		err = verdict(s->fd, "before it started the guest", pr->dest_said,
			      sizeof(pr->dest_said), why, why_len);
	pr->dest_ms = now_ms() - t;
	return err;
}

static int do_migrate(struct migration *mig, const char *uri, struct precopy *pr, char *why,
		      size_t why_len)
{
	struct pc *pc = mig->pc;
	char config[STREAM_MAX_CONFIG];
	int err = vmstate_check(pc, why, why_len);
	if (err)
		return err;
	double t0 = now_ms();
	int fd = tcp_socket(uri, false, why, why_len);
	if (fd < 0)
		return fd;
	pthread_mutex_lock(&mig->lock);
	mig->data_fd = fd;
	pthread_mutex_unlock(&mig->lock);
	struct stream s;
	stream_init(&s, fd);
	vmstate_config(pc, config, sizeof(config));
	err = stream_write_header(&s, config) ? machine_fail(-EIO, why, why_len, "%s", s.why) :
	      verdict(fd, "after the configuration", NULL, 0, why, why_len);
	struct dirty_log d = { 0 };
	struct ram_batch b = { 0 };
	struct legacy_copy lc = { 0 };
	if (!err)
		err = ram_batch_init(&b) || legacy_init(&lc) ?
		      machine_fail(-ENOMEM, why, why_len, "no memory") : 0;
	if (!err)
		err = log_start(pc, &d, why, why_len);
	bool logging = !err;
	if (!err) {   /* the destination sets its memory slots now, not in the pause */
		pthread_mutex_lock(&mig->ram);
		err = mig->machine_gone ? machine_fail(-ECANCELED, why, why_len, "the guest "
						       "stopped or reset") :
		      vmstate_save_early(pc, &s, why, why_len);
		pthread_mutex_unlock(&mig->ram);
	}
	if (!err)
		err = precopy_rounds(mig, &d, &lc, &s, &b, pr, why, why_len);
	if (!err)
		flush_disks_early(mig);
	if (!err)
		err = catch_up(mig, &d, &lc, &s, &b, why, why_len);
	double tp = now_ms();   /* the downtime starts with the request to stop */
	if (!err && !pause_guest(mig))
		err = machine_fail(-ECANCELED, why, why_len, "the guest stopped or reset");
	bool paused = !err;
	pr->stop_ms = now_ms() - tp;
	struct held_disks disks = { 0 };
	if (!err)
		err = final_phase(mig, &d, &lc, &s, &b, &disks, pr, why, why_len);
	pr->downtime = now_ms() - tp;
	pr->total = now_ms() - t0;
	pr->bytes = s.bytes;
	if (logging)
		log_stop(pc, &d, !machine_gone(mig));
	ram_batch_free(&b);
	legacy_free(&lc);
	pthread_mutex_lock(&mig->lock);
	mig->data_fd = -1;
	pthread_mutex_unlock(&mig->lock);
	close(fd);
	if (err && paused) {   /* the guest goes on here, with its disks */
		char again[256];
		if (take_disks(pc, &disks, again, sizeof(again)))
			say(mig, "migrate: the disks cannot be opened again: %s", again);
	}
	if (paused)
		end_pause(mig, !err);
	return err;
}

/* ---- the control socket --------------------------------------------------------------------- */

static void handle(struct migration *mig, char *line)
{
	char why[512], arg[4096];
	line[strcspn(line, "\r\n")] = '\0';
	if (sscanf(line, "snapshot %4095s", arg) == 1) {
		if (do_snapshot(mig, arg, why, sizeof(why)))
			say(mig, "error: snapshot failed: %s", why);
		else
			say(mig, "ok snapshot %s", arg);
		return;
	}
	if (sscanf(line, "migrate %4095s", arg) == 1) {
		struct precopy pr = { .downtime_ms = DEFAULT_DOWNTIME_MS,
				      .max_rounds = DEFAULT_ROUNDS };
		const char *opt = strstr(line, "downtime=");
		if (opt)
			pr.downtime_ms = strtoul(opt + 9, NULL, 10);
		if ((opt = strstr(line, "rounds=")) != NULL)
			pr.max_rounds = strtoul(opt + 7, NULL, 10) ? strtoul(opt + 7, NULL, 10) : 1;
		say(mig, "migrate: to %s, downtime budget %u ms, at most %u rounds", arg,
		    pr.downtime_ms, pr.max_rounds);
		if (do_migrate(mig, arg, &pr, why, sizeof(why))) {
			say(mig, "error: migration failed, the guest runs on here: %s", why);
			return;
		}
		say(mig, "ok migrated to %s: %llu KiB in %u rounds, downtime %.1f ms (stop %.1f, "
		    "last pages %.1f for %llu pages, devices %.1f, disks %.1f, destination %.1f: "
		    "%s), total %.1f ms", arg, (unsigned long long)(pr.bytes >> 10), pr.rounds + 1,
		    pr.downtime, pr.stop_ms, pr.pages_ms, (unsigned long long)pr.last_pages,
		    pr.devices_ms, pr.disks_ms, pr.dest_ms, pr.dest_said, pr.total);
		return;
	}
	say(mig, "error: unknown request '%.60s' (snapshot FILE | migrate tcp:HOST:PORT "
	    "[downtime=MS] [rounds=N])", line);
}

static void serve_client(struct migration *mig, int fd)
{
	char line[4200];
	size_t n = 0;
	while (n + 1 < sizeof(line)) {
		ssize_t r = read(fd, line + n, 1);
		if (r <= 0 || line[n] == '\n')
			break;
		n++;
	}
	line[n] = '\0';
	mig->client_fd = fd;
	handle(mig, line);
	mig->client_fd = -1;
}

static void *control_thread(void *p)
{
	struct migration *mig = p;
	for (;;) {
		struct pollfd fds[2] = { { mig->listen_fd, POLLIN, 0 }, { mig->stop_fd, POLLIN, 0 } };
		if (poll(fds, 2, -1) < 0 && errno != EINTR)
			break;
		if (fds[1].revents)
			break;
		if (!fds[0].revents)
			continue;
		int fd = accept4(mig->listen_fd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0)
			continue;
		serve_client(mig, fd);
		close(fd);
		if (machine_gone(mig))
			break;   /* handed over (or ended): nothing left to serve */
	}
	return NULL;
}

int migration_control_open(struct pc *pc, const char *path, char *why, size_t why_len)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	if (strlen(path) >= sizeof(a.sun_path))
		return machine_fail(-ENAMETOOLONG, why, why_len, "-control %s: path too long for "
				    "a unix socket", path);
	/* A destination that goes away is an error to report, not a signal that kills us. */
	signal(SIGPIPE, SIG_IGN);
	struct migration *mig = calloc(1, sizeof(*mig));
	if (!mig)
		return machine_fail(-ENOMEM, why, why_len, "-control: no memory");
	mig->pc = pc;
	mig->client_fd = mig->data_fd = -1;
	pthread_mutex_init(&mig->lock, NULL);
	pthread_mutex_init(&mig->ram, NULL);
	pthread_cond_init(&mig->cond, NULL);
	snprintf(mig->path, sizeof(mig->path), "%s", path);
	strcpy(a.sun_path, path);
	unlink(path);
	mig->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	mig->stop_fd = eventfd(0, EFD_CLOEXEC);
	if (mig->listen_fd < 0 || mig->stop_fd < 0 ||
	    bind(mig->listen_fd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
	    listen(mig->listen_fd, 4) < 0 ||
	    pthread_create(&mig->thread, NULL, control_thread, mig)) {
		int err = -errno;
		machine_fail(err, why, why_len, "-control %s: %s", path, strerror(errno));
		if (mig->listen_fd >= 0)
			close(mig->listen_fd);
		if (mig->stop_fd >= 0)
			close(mig->stop_fd);
		free(mig);
		return err;
	}
	pc->migration = mig;
	return 0;
}

void migration_control_close(struct migration *mig)
{
	if (!mig)
		return;
	uint64_t one = 1;
	migration_machine_gone(mig);
	pthread_mutex_lock(&mig->lock);
	if (mig->data_fd >= 0)
		shutdown(mig->data_fd, SHUT_RDWR);   /* a migration blocked on the network ends */
	pthread_mutex_unlock(&mig->lock);
	if (write(mig->stop_fd, &one, sizeof(one)) < 0)
		perror("minivisor: -control");
	pthread_join(mig->thread, NULL);
	close(mig->listen_fd);
	close(mig->stop_fd);
	unlink(mig->path);
	free(mig);
}

/* ---- the destination -------------------------------------------------------------------- */

static void tell(int fd, const char *what, const char *why)
{
	char line[600];
	int n = snprintf(line, sizeof(line), "%s%s%s\n", what, why ? " " : "", why ? why : "");
	if (fd >= 0 && write(fd, line, n) < 0) {
		/* the source is gone: it learns nothing, and resumes on its own */
	}
}

/* Header, configuration check, sections; the source hears OK or ERR at each verdict. */
static int load_from(struct pc *pc, int fd, int answer_fd, char *why, size_t why_len)
{
	static char config[STREAM_MAX_CONFIG + 1];
	char mine[STREAM_MAX_CONFIG];
	struct stream s;
	stream_init(&s, fd);
	s.answer_fd = answer_fd;
	int err = stream_read_header(&s, config, sizeof(config));
	if (err) {
		machine_fail(err, why, why_len, "%s", s.why);
	} else {
		vmstate_config(pc, mine, sizeof(mine));
		err = stream_config_diff(mine, config, why, why_len);
	}
	if (err) {
		tell(answer_fd, "ERR", why);
		return err;
	}
	tell(answer_fd, "OK", "configuration");
	double t0 = now_ms();
	err = vmstate_load(pc, &s, why, why_len);
	/* From the end marker on the guest is stopped on both sides: time what we do then. */
	double loaded = now_ms();
	struct held_disks disks;
	unlocked_disks(pc, &disks);
	if (!err)
		err = take_disks(pc, &disks, why, why_len);   /* the source has let go of them */
	char said[96];
	snprintf(said, sizeof(said), "running (load %.1f ms, disks %.1f ms)", loaded - s.end_ms,
		 now_ms() - loaded);
	tell(answer_fd, err ? "ERR" : "OK", err ? why : said);
	if (!err)
		fprintf(stderr, "minivisor: incoming: %llu KiB loaded in %.1f ms; after the end "
			"marker: load %.1f ms, disks %.1f ms\n", (unsigned long long)(s.bytes >> 10),
			now_ms() - t0, loaded - s.end_ms, now_ms() - loaded);
	return err;
}

int migration_incoming(struct pc *pc, const char *uri, char *why, size_t why_len)
{
	signal(SIGPIPE, SIG_IGN);   /* a source that goes away: one line, exit 2 */
	int err = vmstate_check(pc, why, why_len);
	if (err)
		return err;
	if (!strncmp(uri, "file:", 5)) {
		int fd = open(uri + 5, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return machine_fail(-errno, why, why_len, "-incoming %s: %s", uri,
					    strerror(errno));
		char inner[480];
		err = load_from(pc, fd, -1, inner, sizeof(inner));
		close(fd);
		return err ? machine_fail(err, why, why_len, "-incoming %s: %s", uri, inner) : 0;
	}
	if (strncmp(uri, "tcp:", 4))
		return machine_fail(-EINVAL, why, why_len, "-incoming %s: want file:PATH or "
				    "tcp:HOST:PORT", uri);
	int lfd = tcp_socket(uri, true, why, why_len);
	if (lfd < 0)
		return lfd;
	fprintf(stderr, "minivisor: waiting for a migration on %s\n", uri);
	int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	close(lfd);
	if (fd < 0)
		return machine_fail(-errno, why, why_len, "-incoming %s: accept: %s", uri,
				    strerror(errno));
	char inner[480];
	err = load_from(pc, fd, fd, inner, sizeof(inner));
	close(fd);
	return err ? machine_fail(err, why, why_len, "-incoming %s: %s", uri, inner) : 0;
}
