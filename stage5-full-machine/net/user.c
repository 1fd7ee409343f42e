/*
 * user.c - the user-mode back end: libslirp, a TCP/IP stack inside this process. See net.h.
 *
 * What it teaches: how an emulator plugs a library's event loop into its own. libslirp owns
 * sockets and timers but no thread: before each wait it lists the descriptors it wants
 * (slirp_pollfds_fill) and its nearest deadline, after the wait it is told what happened
 * (slirp_pollfds_poll), and its timers are ours to run. Everything that touches slirp happens
 * under the bus lock (the net thread's side and the vCPU's transmit alike), so slirp needs
 * no lock of its own. A frame it has for the guest comes back through send_packet.
 *
 * Debian ships libslirp as a shared library only: minivisor.static has user_none.c instead.
 */
#include "net.h"
#include "guest_error.h"
#include "machine.h"   /* machine_fail: the one line in why */

#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <slirp/libslirp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct net_user {
	Slirp *slirp;
	struct net_timer *timers;
};

static int64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

struct net_timer {
	SlirpTimerCb cb;
	void *cb_opaque;
	int64_t expire_ms;           /* -1: not armed */
	struct net_timer *next;
};

/* ---- libslirp's callbacks ------------------------------------------------------------ */

static ssize_t slirp_send_packet(const void *buf, size_t len, void *opaque)
{
	struct netdev *d = opaque;
	d->rx_frames++;
	if (d->nic.receive)
		d->nic.receive(d->nic.opaque, buf, len);
	return len;
}

/* What slirp finds wrong in the guest's frames: one line each, up to a limit (guest_error.h). */
static void slirp_guest_error(const char *msg, void *opaque)
{
	struct netdev *d = opaque;
	guest_error(&d->errors, "minivisor: netdev", d->cfg->id, "slirp: %s", msg);
}

static int64_t slirp_clock_ns(void *opaque)
{
	(void)opaque;
	return now_ns();
}

static void *slirp_timer_new(SlirpTimerCb cb, void *cb_opaque, void *opaque)
{
	struct netdev *d = opaque;
	struct net_timer *t = calloc(1, sizeof(*t));
	if (!t)
		abort();   /* slirp cannot take a failure here */
	*t = (struct net_timer){ cb, cb_opaque, -1, d->user->timers };
	d->user->timers = t;
	return t;
}

static void slirp_timer_free(void *timer, void *opaque)
{
	struct netdev *d = opaque;
	for (struct net_timer **p = &d->user->timers; *p; p = &(*p)->next) {
		if (*p == timer) {
			*p = (*p)->next;
			free(timer);
			return;
		}
	}
}

static void slirp_timer_mod(void *timer, int64_t expire_ms, void *opaque)
{
	struct netdev *d = opaque;
	((struct net_timer *)timer)->expire_ms = expire_ms;
	net_wake(d->wake_fd);   /* the thread's wait may now be too long */
}

static void slirp_register_fd(int fd, void *opaque)
{
	(void)fd;
	(void)opaque;
}

static void slirp_notify(void *opaque)
{
	struct netdev *d = opaque;
	net_wake(d->wake_fd);
}

static const SlirpCb slirp_callbacks = {
	.send_packet = slirp_send_packet,
	.guest_error = slirp_guest_error,
	.clock_get_ns = slirp_clock_ns,
	.timer_new = slirp_timer_new,
	.timer_free = slirp_timer_free,
	.timer_mod = slirp_timer_mod,
	.register_poll_fd = slirp_register_fd,
	.unregister_poll_fd = slirp_register_fd,
	.notify = slirp_notify,
};

int user_open(struct netdev *d, char *why, size_t why_len)
{
	const struct netdev_config *c = d->cfg;
	uint32_t net = ntohl(c->net);
	SlirpConfig cfg = { .version = 3 };
	cfg.in_enabled = true;
	cfg.vnetwork.s_addr = c->net;
	cfg.vnetmask.s_addr = c->mask;
	cfg.vhost.s_addr = c->host ? c->host : htonl(net + 2);
	cfg.vdhcp_start.s_addr = htonl(net + 15);      /* 10.0.2.15, as QEMU */
	cfg.vnameserver.s_addr = c->dns ? c->dns : htonl(net + 3);
	cfg.vhostname = "minivisor";
	/* Never forward a guest's query to the host's resolver unless asked (dns=on): a guest
	 * must not make this host ask its resolver about names it chose. */
	cfg.disable_dns = !c->dns_forward;
	cfg.if_mtu = cfg.if_mru = 1500;
	d->user = calloc(1, sizeof(*d->user));
	if (!d->user)
		return machine_fail(-ENOMEM, why, why_len, "-netdev %s: out of memory", c->id);
	d->user->slirp = slirp_new(&cfg, &slirp_callbacks, d);
	if (!d->user->slirp)
		return machine_fail(-ENOMEM, why, why_len, "-netdev %s: libslirp did not start", c->id);
	for (unsigned i = 0; i < c->nhostfwd; i++) {
		const struct net_hostfwd *f = &c->hostfwd[i];
		struct in_addr host = { f->host_addr }, guest = { f->guest_addr };
		if (!guest.s_addr)
			guest = cfg.vdhcp_start;
		if (slirp_add_hostfwd(d->user->slirp, f->udp, host, f->host_port, guest,
				      f->guest_port) < 0)
			return machine_fail(-EADDRINUSE, why, why_len, "-netdev %s: hostfwd %s: cannot "
					    "listen on host port %u (in use?)", c->id, f->text,
					    f->host_port);
	}
	return 0;
}

void user_input(struct netdev *d, const uint8_t *frame, size_t len)
{
	slirp_input(d->user->slirp, frame, len);
}

static int add_poll(int fd, int events, void *opaque)
{
	short ev = (events & SLIRP_POLL_IN ? POLLIN : 0) | (events & SLIRP_POLL_OUT ? POLLOUT : 0) |
		   (events & SLIRP_POLL_PRI ? POLLPRI : 0);
	return net_poll_add(opaque, fd, ev);
}

static int get_revents(int idx, void *opaque)
{
	struct net_poll_set *set = opaque;
	if (idx < 0 || (unsigned)idx >= set->n)
		return 0;
	short r = set->fds[idx].revents;
	return (r & POLLIN ? SLIRP_POLL_IN : 0) | (r & POLLOUT ? SLIRP_POLL_OUT : 0) |
	       (r & POLLPRI ? SLIRP_POLL_PRI : 0) | (r & POLLERR ? SLIRP_POLL_ERR : 0) |
	       (r & POLLHUP ? SLIRP_POLL_HUP : 0);
}

/* Run slirp's expired timers; the time to the next one in ms (or limit). */
static uint32_t run_timers(struct netdev *d, uint32_t limit)
{
	int64_t now = now_ns() / 1000000;
	for (bool again = true; again;) {
		again = false;
		for (struct net_timer *t = d->user->timers; t; t = t->next) {
			if (t->expire_ms >= 0 && t->expire_ms <= now) {
				t->expire_ms = -1;
				t->cb(t->cb_opaque);   /* may free or add timers: start over */
				again = true;
				break;
			}
		}
	}
	for (struct net_timer *t = d->user->timers; t; t = t->next)
		if (t->expire_ms >= 0 && (uint64_t)(t->expire_ms - now) < limit)
			limit = t->expire_ms - now;
	return limit;
}

uint32_t user_fill(struct netdev *d, struct net_poll_set *set, uint32_t timeout)
{
	timeout = run_timers(d, timeout);
	slirp_pollfds_fill(d->user->slirp, &timeout, add_poll, set);
	return timeout;
}

void user_poll(struct netdev *d, struct net_poll_set *set, bool poll_failed)
{
	slirp_pollfds_poll(d->user->slirp, poll_failed, get_revents, set);
}

void user_close(struct netdev *d)
{
	if (d->user->slirp)
		slirp_cleanup(d->user->slirp);   /* frees its timers through timer_free */
	free(d->user);
	d->user = NULL;
}

/* ---- migration: slirp's state as bytes ----------------------------------------------- */

struct state_buf {
	uint8_t *p;
	size_t len, cap, pos;
	bool failed;
};

static ssize_t state_write(const void *buf, size_t len, void *opaque)
{
	struct state_buf *b = opaque;
	if (b->len + len > b->cap) {
		size_t cap = (b->len + len) * 2;
		uint8_t *p = realloc(b->p, cap);
		if (!p) {
			b->failed = true;
			return -1;
		}
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, buf, len);
	b->len += len;
	return len;
}

int user_state_save(struct netdev *d, uint8_t **out, uint32_t *len, char *why, size_t why_len)
{
	struct state_buf b = { NULL, 0, 0, 0, false };
	uint32_t version = slirp_state_version();
	state_write(&version, sizeof(version), &b);   /* the loader needs it: see below */
	slirp_state_save(d->user->slirp, state_write, &b);
	if (b.failed) {
		free(b.p);
		return machine_fail(-ENOMEM, why, why_len, "-netdev %s: no memory for slirp's "
				    "state", d->cfg->id);
	}
	*out = b.p;
	*len = b.len;
	return 0;
}

/* slirp reads its state back in pieces; running past the end means a damaged section. */
static ssize_t state_read(void *buf, size_t len, void *opaque)
{
	struct state_buf *b = opaque;
	if (len > b->len - b->pos) {
		b->failed = true;
		memset(buf, 0, len);
		return -1;
	}
	memcpy(buf, b->p + b->pos, len);
	b->pos += len;
	return len;
}

int user_state_load(struct netdev *d, const uint8_t *p, uint32_t len, char *why, size_t why_len)
{
	uint32_t version;
	if (len < sizeof(version))
		return machine_fail(-EINVAL, why, why_len, "-netdev %s: slirp's state: %u bytes",
				    d->cfg->id, len);
	memcpy(&version, p, sizeof(version));
	/* libslirp reads every older version of its state, not a newer one. */
	if (version > (uint32_t)slirp_state_version())
		return machine_fail(-EINVAL, why, why_len, "-netdev %s: slirp state version %u, "
				    "this libslirp reads up to %d", d->cfg->id, version,
				    slirp_state_version());
	struct state_buf b = { (uint8_t *)p + sizeof(version), len - sizeof(version), 0, 0, false };
	int err = slirp_state_load(d->user->slirp, version, state_read, &b);
	if (err < 0 || b.failed || b.pos != b.len)
		return machine_fail(-EINVAL, why, why_len, "-netdev %s: slirp refused its state "
				    "(%u bytes)", d->cfg->id, len);
	return 0;
}
