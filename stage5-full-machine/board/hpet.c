/*
 * hpet.c - the HPET: registers computed from the host clock, comparators matched by a
 * timerfd thread. See hpet.h for the register map. Learned from the IA-PC HPET
 * specification 1.0a (2.3 registers, 2.3.9 comparator semantics) and QEMU's hw/timer/hpet.c.
 */
#include "hpet.h"

#include <errno.h>
#include <linux/kvm.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#define HPET_VENDOR       0x8086
#define HPET_REVISION     0x01
#define HPET_CAP_COUNT64  (1u << 13)
#define HPET_CAP_LEGACY   (1u << 15)
#define TN_WRITABLE       (HPET_TN_LEVEL | HPET_TN_INT_ENB | HPET_TN_PERIODIC | \
			   HPET_TN_VAL_SET | HPET_TN_32MODE | HPET_TN_ROUTE)
/*
 * The shortest period the delivery thread keeps up with (100 us): a guest that asks for a
 * periodic timer of a few ticks gets one interrupt per 100 us, missed ones coalesced, instead
 * of a host thread that spins on the bus lock. (A one-shot match cannot spin: each one costs
 * the guest a register write.)
 */
#define HPET_MIN_PERIOD_NS 100000ull
/* Matches further than this (about 3 hours) are not armed: a 64-bit comparator far ahead. */
#define HPET_MAX_WAIT_TICKS (1ull << 40)

static uint64_t merge(uint64_t old, uint64_t value, uint64_t mask)
{
	return (old & ~mask) | (value & mask);
}

static uint64_t timer_mask(const struct hpet_timer *t)
{
	return t->config & HPET_TN_32MODE ? 0xffffffffull : ~0ull;
}

uint64_t hpet_counter(const struct hpet *h, uint64_t now_ns)
{
	if (!(h->config & HPET_CFG_ENABLE))
		return h->counter;
	return h->counter + (now_ns - h->start_ns) / HPET_NS_PER_TICK;
}

unsigned hpet_timer_gsi(const struct hpet *h, unsigned n)
{
	if ((h->config & HPET_CFG_LEGACY) && n < 2)
		return n == 0 ? 0 : 8;   /* IRQ 0 and IRQ 8: GSI 0 and 8 here (hpet.h) */
	return (h->t[n].config & HPET_TN_ROUTE) >> HPET_TN_ROUTE_SHIFT;
}

/* ---- interrupt lines ------------------------------------------------------------------- */

static void set_out(struct hpet_timer *t, bool level)
{
	if (level && !t->out)
		t->fired++;
	t->out = level;
	irq_line_set(&t->line, level);
}

/* A timer may drive only a route the capability allows (legacy routing always can). */
static bool route_allowed(const struct hpet *h, unsigned n)
{
	return ((h->config & HPET_CFG_LEGACY) && n < 2) ||
	       (HPET_ROUTE_CAP >> hpet_timer_gsi(h, n) & 1);
}

/* Move timer n's wire to the GSI its routing says now, the old one released. */
static void rewire(struct hpet *h, unsigned n)
{
	struct hpet_timer *t = &h->t[n];
	set_out(t, false);
	h->isr &= ~(1ull << n);
	irq_line_init(&t->line, h->vm_fd, hpet_timer_gsi(h, n));
}

static void fire(struct hpet *h, unsigned n)
{
	struct hpet_timer *t = &h->t[n];
	if (!route_allowed(h, n))
		return;
	if (t->config & HPET_TN_LEVEL) {   /* held until the guest clears its ISR bit */
		h->isr |= 1ull << n;
		set_out(t, true);
	} else {                           /* an edge: up and down again */
		set_out(t, true);
		set_out(t, false);
	}
}

/* The PIT's interrupt is cut off while legacy routing gives IRQ 0 to timer 0. */
static void pit_legacy(struct hpet *h, bool on)
{
	struct kvm_pit_state2 pit;
	if (h->vm_fd < 0 || ioctl(h->vm_fd, KVM_GET_PIT2, &pit) < 0)
		return;
	pit.flags = on ? pit.flags | KVM_PIT_FLAGS_HPET_LEGACY
		       : pit.flags & ~KVM_PIT_FLAGS_HPET_LEGACY;
	if (ioctl(h->vm_fd, KVM_SET_PIT2, &pit) < 0)
		fprintf(stderr, "hpet: KVM_SET_PIT2: %s\n", strerror(errno));
}

/* ---- comparator matches --------------------------------------------------------------- */

/* Did the counter pass cmp going from `from` (handled already) to `to`, in mask's width? */
static bool passed(uint64_t from, uint64_t to, uint64_t cmp, uint64_t mask)
{
	uint64_t elapsed = to - from;
	if (elapsed == 0)
		return false;
	if (elapsed > mask)
		return true;   /* a 32-bit comparator: the low half wrapped all the way round */
	uint64_t ahead = (cmp - from) & mask;
	return ahead != 0 && ahead <= elapsed;
}

/* A periodic timer's next comparator: past `now` by whole periods (missed ones coalesced). */
static void advance(struct hpet_timer *t, uint64_t now)
{
	uint64_t mask = timer_mask(t), period = t->period & mask;
	if (!period)
		return;
	uint64_t behind = (now - t->cmp) & mask;
	t->cmp = (t->cmp + (behind / period + 1) * period) & mask;
}

uint64_t hpet_update(struct hpet *h, uint64_t now_ns)
{
	if (!(h->config & HPET_CFG_ENABLE))
		return 0;
	uint64_t now = hpet_counter(h, now_ns), next = 0;
	for (unsigned n = 0; n < HPET_TIMERS; n++) {
		struct hpet_timer *t = &h->t[n];
		if (!(t->config & HPET_TN_INT_ENB))
			continue;
		uint64_t mask = timer_mask(t);
		if (passed(h->checked, now, t->cmp, mask)) {
			fire(h, n);
			if (t->config & HPET_TN_PERIODIC)
				advance(t, now);
		}
		uint64_t ahead = (t->cmp - now) & mask;
		if (ahead == 0)
			ahead = mask;   /* just matched, not periodic: the next wrap */
		if (ahead > HPET_MAX_WAIT_TICKS)
			continue;
		uint64_t at = now_ns + ahead * HPET_NS_PER_TICK;
		if ((t->config & HPET_TN_PERIODIC) &&
		    (t->period & mask) * HPET_NS_PER_TICK < HPET_MIN_PERIOD_NS &&
		    at < now_ns + HPET_MIN_PERIOD_NS)
			at = now_ns + HPET_MIN_PERIOD_NS;
		if (!next || at < next)
			next = at;
	}
	h->checked = now;
	return next;
}

/* ---- registers --------------------------------------------------------------------------- */

/* The capabilities' low half: unsigned, or 0x8086 << 16 would sign-extend into the period. */
static uint32_t hpet_id(void)
{
	return (uint32_t)HPET_VENDOR << 16 | HPET_CAP_LEGACY | HPET_CAP_COUNT64 |
	       (HPET_TIMERS - 1) << 8 | HPET_REVISION;
}

uint64_t hpet_read_reg(struct hpet *h, uint64_t offset, uint64_t now_ns)
{
	if (offset == HPET_CAP)
		return HPET_PERIOD_FS << 32 | hpet_id();
	if (offset == HPET_CONFIG)
		return h->config;
	if (offset == HPET_ISR)
		return h->isr;
	if (offset == HPET_COUNTER)
		return hpet_counter(h, now_ns);
	if (offset < HPET_TIMER(0) || offset >= HPET_TIMER(HPET_TIMERS))
		return 0;
	const struct hpet_timer *t = &h->t[(offset - HPET_TIMER(0)) / 0x20];
	switch ((offset - HPET_TIMER(0)) % 0x20) {
	case HPET_TN_CONFIG:
		return t->config | HPET_TN_PER_CAP | HPET_TN_64_CAP | HPET_ROUTE_CAP << 32;
	case HPET_TN_CMP:
		return t->cmp;
	case HPET_TN_FSB:
		return t->fsb;
	}
	return 0;
}

static void write_config(struct hpet *h, uint64_t value, uint64_t mask, uint64_t now_ns)
{
	uint64_t old = h->config;
	h->config = merge(old, value, mask) & (HPET_CFG_ENABLE | HPET_CFG_LEGACY);
	uint64_t changed = old ^ h->config;
	if (changed & HPET_CFG_ENABLE) {
		if (h->config & HPET_CFG_ENABLE) {   /* starts counting from where it stood */
			h->start_ns = now_ns;
			h->checked = h->counter;
		} else {                             /* stops: freeze the value */
			h->counter += (now_ns - h->start_ns) / HPET_NS_PER_TICK;
		}
	}
	if (changed & HPET_CFG_LEGACY) {
		rewire(h, 0);
		rewire(h, 1);
		pit_legacy(h, h->config & HPET_CFG_LEGACY);
	}
}

static void write_counter(struct hpet *h, uint64_t value, uint64_t mask, uint64_t now_ns)
{
	/* The spec wants the counter stopped first; a running one simply restarts from value. */
	h->counter = merge(hpet_counter(h, now_ns), value, mask);
	h->start_ns = now_ns;
	h->checked = h->counter;
}

static void write_isr(struct hpet *h, uint64_t value, uint64_t mask)
{
	uint64_t clear = value & mask & h->isr;   /* write 1 to clear */
	for (unsigned n = 0; n < HPET_TIMERS; n++)
		if (clear >> n & 1)
			set_out(&h->t[n], false);
	h->isr &= ~clear;
}

static void write_timer_config(struct hpet *h, unsigned n, uint64_t value, uint64_t mask)
{
	struct hpet_timer *t = &h->t[n];
	uint64_t old = t->config;
	t->config = merge(old, value, mask & TN_WRITABLE);
	if (t->config & HPET_TN_32MODE) {
		t->cmp &= 0xffffffffull;
		t->period &= 0xffffffffull;
	}
	uint64_t off = (old & ~t->config) & (HPET_TN_LEVEL | HPET_TN_INT_ENB);
	if (off || ((old ^ t->config) & HPET_TN_ROUTE))
		rewire(h, n);   /* a level line is released when it is no longer level or enabled */
}

static void write_timer_cmp(struct hpet *h, unsigned n, uint64_t value, uint64_t mask)
{
	struct hpet_timer *t = &h->t[n];
	uint64_t width = timer_mask(t);
	bool periodic = t->config & HPET_TN_PERIODIC;
	/* Periodic: with VAL_SET the write sets the comparator too, else only the period. */
	if (!periodic || (t->config & HPET_TN_VAL_SET))
		t->cmp = merge(t->cmp, value, mask) & width;
	if (periodic)
		t->period = merge(t->period, value, mask) & width;
	t->config &= ~HPET_TN_VAL_SET;
}

void hpet_write_reg(struct hpet *h, uint64_t offset, uint64_t value, uint64_t mask,
		    uint64_t now_ns)
{
	hpet_update(h, now_ns);   /* matches before the write are delivered by the old rules */
	if (offset == HPET_CONFIG)
		write_config(h, value, mask, now_ns);
	else if (offset == HPET_ISR)
		write_isr(h, value, mask);
	else if (offset == HPET_COUNTER)
		write_counter(h, value, mask, now_ns);
	else if (offset >= HPET_TIMER(0) && offset < HPET_TIMER(HPET_TIMERS)) {
		unsigned n = (offset - HPET_TIMER(0)) / 0x20;
		switch ((offset - HPET_TIMER(0)) % 0x20) {
		case HPET_TN_CONFIG:
			write_timer_config(h, n, value, mask);
			break;
		case HPET_TN_CMP:
			write_timer_cmp(h, n, value, mask);
			break;
		case HPET_TN_FSB:
			h->t[n].fsb = merge(h->t[n].fsb, value, mask);
			break;
		}
	}
	/* (capabilities and the reserved space are read-only) */
}

/* ---- the bus and the delivery thread ---------------------------------------------------- */

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + ts.tv_nsec;
}

static void arm(struct hpet *h, uint64_t at_ns)
{
	struct itimerspec its = { { 0, 0 }, { at_ns / 1000000000u, at_ns % 1000000000u } };
	if (h->timer_fd >= 0 && timerfd_settime(h->timer_fd, TFD_TIMER_ABSTIME, &its, NULL) < 0)
		fprintf(stderr, "hpet: timerfd_settime: %s\n", strerror(errno));
}

/* An access inside one 64-bit register; anything else is ignored, with one line at first. */
static bool odd_access(struct hpet *h, uint64_t offset, unsigned len)
{
	if ((offset & 7) + len <= 8)
		return false;
	if (h->odd_accesses++ == 0)
		fprintf(stderr, "hpet: %u-byte access at +0x%llx crosses a register: ignored "
			"(and any more like it)\n", len, (unsigned long long)offset);
	return true;
}

static int hpet_mmio_read(void *dev, uint64_t offset, uint8_t *data, unsigned len)
{
	struct hpet *h = dev;
	memset(data, 0, len);
	if (odd_access(h, offset, len))
		return 0;
	uint64_t reg = hpet_read_reg(h, offset & ~7ull, now_ns());
	u64_to_bytes(reg >> 8 * (offset & 7), data, len);
	return 0;
}

static int hpet_mmio_write(void *dev, uint64_t offset, const uint8_t *data, unsigned len)
{
	struct hpet *h = dev;
	if (odd_access(h, offset, len))
		return 0;
	unsigned shift = 8 * (offset & 7);
	uint64_t mask = (len >= 8 ? ~0ull : (1ull << 8 * len) - 1) << shift;
	uint64_t now = now_ns();
	hpet_write_reg(h, offset & ~7ull, bytes_to_u64(data, len) << shift, mask, now);
	arm(h, hpet_update(h, now));
	return 0;
}

static const struct bus_ops hpet_ops = { hpet_mmio_read, hpet_mmio_write };

static void *hpet_thread(void *p)
{
	struct hpet *h = p;
	struct pollfd fds[2] = { { h->stop_fd, POLLIN, 0 }, { h->timer_fd, POLLIN, 0 } };
	for (;;) {
		if (poll(fds, 2, -1) < 0 && errno != EINTR)
			break;
		if (fds[0].revents)
			break;
		uint64_t expirations;
		if (!fds[1].revents || read(h->timer_fd, &expirations, sizeof(expirations)) < 0)
			continue;
		pthread_mutex_lock(h->lock);
		arm(h, hpet_update(h, now_ns()));
		pthread_mutex_unlock(h->lock);
	}
	return NULL;
}

void hpet_init(struct hpet *h, int vm_fd)
{
	memset(h, 0, sizeof(*h));
	h->vm_fd = vm_fd;
	h->timer_fd = h->stop_fd = -1;
	for (unsigned n = 0; n < HPET_TIMERS; n++)
		irq_line_init(&h->t[n].line, vm_fd, 0);
}

int hpet_attach(struct hpet *h, struct io_bus *bus, int vm_fd, pthread_mutex_t *lock)
{
	hpet_init(h, vm_fd);
	h->lock = lock;
	h->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
	h->stop_fd = eventfd(0, EFD_CLOEXEC);
	h->attached = true;
	if (h->timer_fd < 0 || h->stop_fd < 0)
		return -errno;
	return bus_register(bus, BUS_MMIO, HPET_BASE, HPET_SIZE, &hpet_ops, h, "hpet") ? 0
										   : -EBUSY;
}

int hpet_start(struct hpet *h)
{
	if (!h->attached || h->running)
		return 0;
	int err = pthread_create(&h->thread, NULL, hpet_thread, h);
	h->running = err == 0;
	return -err;
}

void hpet_stop(struct hpet *h)
{
	uint64_t one = 1;
	if (!h->running)
		return;
	if (write(h->stop_fd, &one, sizeof(one)) < 0)
		perror("hpet: eventfd");
	pthread_join(h->thread, NULL);
	h->running = false;
	if (read(h->stop_fd, &one, sizeof(one)) < 0)
		perror("hpet: eventfd");
}

void hpet_detach(struct hpet *h)
{
	if (!h->attached)
		return;   /* never attached (a machine that failed to build): no fds of its own */
	hpet_stop(h);
	if (h->timer_fd >= 0)
		close(h->timer_fd);
	if (h->stop_fd >= 0)
		close(h->stop_fd);
	h->timer_fd = h->stop_fd = -1;
	h->attached = false;
}

void hpet_acpi_body(uint8_t body[HPET_ACPI_BODY_LEN])
{
	uint32_t id = hpet_id();   /* event timer block ID: the low half of the capabilities */
	uint64_t base = HPET_BASE;
	memset(body, 0, HPET_ACPI_BODY_LEN);
	memcpy(body, &id, 4);
	body[4] = 0;                   /* generic address: system memory, */
	body[5] = 64;                  /* 64-bit registers */
	memcpy(body + 8, &base, 8);
	body[16] = 0;                  /* HPET number 0 */
	uint16_t min_tick = 128;       /* the least periodic tick (counter ticks) */
	memcpy(body + 17, &min_tick, 2);
	body[19] = 0;                  /* no page protection */
}
