/*
 * net.c - the cards on the bus, the tap back end, and the net thread. See net.h.
 *
 * What it teaches: one thread that waits for the outside world on behalf of every card, and
 * hands it frames under the bus lock, the same lock a vCPU holds while a card transmits; the
 * card models therefore never see two threads at once. The user back end (user.c) lends this
 * loop its descriptors and deadline each round.
 */
#define _GNU_SOURCE
#include "net.h"
#include "machine.h"   /* machine_fail: the one line in why */

#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_tun.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "board/chipset.h"

#define FRAME_MAX 65536

/* ---- opening the back ends ------------------------------------------------------------- */

void net_wake(int fd)
{
	uint64_t one = 1;
	if (write(fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		perror("minivisor: net: eventfd");
}

/* ---- the tap back end ------------------------------------------------------------------- */

/* Is this back end a fast-path virtio-net card's? Then its tap carries virtio headers. */
static bool wants_vnet_hdr(const struct net_config *cfg, const struct netdev_config *d)
{
	for (unsigned i = 0; i < cfg->nnics && !cfg->simple_virtio; i++)
		if (cfg->nics[i].model == NIC_VIRTIO_NET && !strcmp(cfg->nics[i].netdev, d->id))
			return true;
	return false;
}

static int open_tap(struct netdev *d, const struct net_config *cfg, char *why, size_t why_len)
{
	d->vnet_hdr = wants_vnet_hdr(cfg, d->cfg);
	d->tap_fd = tap_open(d->cfg->ifname, d->vnet_hdr ? IFF_VNET_HDR : 0);
	if (d->tap_fd < 0)
		return machine_fail(d->tap_fd, why, why_len, "-netdev %s: tap %s: cannot open: %s%s",
				    d->cfg->id, d->cfg->ifname, strerror(-d->tap_fd),
				    d->tap_fd == -EPERM || d->tap_fd == -EACCES ?
				    " (needs CAP_NET_ADMIN or a tap owned by this user)" : "");
	if (!d->vnet_hdr)
		return 0;
	/* The offloads the host kernel will do for the guest: offered only if it takes them. */
	int r = tap_probe_offloads(d->tap_fd);
	if (r < 0)
		return machine_fail(r, why, why_len, "-netdev %s: tap %s: no virtio header "
				    "(TUNSETVNETHDRSZ): %s", d->cfg->id, d->cfg->ifname, strerror(-r));
	d->tap_offloads = r;
	return 0;
}

int net_open(struct pc_net *net, const struct net_config *cfg, char *why, size_t why_len)
{
	net->cfg = cfg;
	net->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	net->stop_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	for (unsigned i = 0; i < NET_MAX_NETDEVS; i++)
		net->devs[i].tap_fd = -1;
	if (net->wake_fd < 0 || net->stop_fd < 0)
		return machine_fail(-errno, why, why_len, "eventfd: %s", strerror(errno));
	for (unsigned i = 0; i < cfg->nnetdevs; i++) {
		struct netdev *d = &net->devs[net->ndevs++];
		d->cfg = &cfg->netdevs[i];
		d->wake_fd = net->wake_fd;
		int err = d->cfg->kind == NETDEV_USER ? user_open(d, why, why_len)
						      : open_tap(d, cfg, why, why_len);
		if (err)
			return err;
	}
	return 0;
}

void netdev_send(void *opaque, const uint8_t *frame, size_t len)
{
	struct netdev *d = opaque;
	d->tx_frames++;
	if (d->user) {
		user_input(d, frame, len);
		net_wake(d->wake_fd);   /* the frame may have opened a socket to watch */
	} else if (d->tap_fd >= 0 && write(d->tap_fd, frame, len) < 0 && errno != EAGAIN) {
		fprintf(stderr, "minivisor: netdev %s: tap write: %s\n", d->cfg->id,
			strerror(errno));
	}
}

/* ---- the cards --------------------------------------------------------------------------- */

static struct netdev *netdev_by_id(struct pc_net *net, const char *id)
{
	for (unsigned i = 0; i < net->ndevs; i++)
		if (!strcmp(net->devs[i].cfg->id, id))
			return &net->devs[i];
	return NULL;
}

static void virtio_receive(void *opaque, const uint8_t *frame, size_t len)
{
	struct net_virtio *v = opaque;
	virtio_net_deliver(&v->net, frame, len);   /* no buffer: dropped, as on a wire */
}

static void virtio_send(void *opaque, const uint8_t *frame, size_t len)
{
	struct net_virtio *v = opaque;
	netdev_send(v->netdev, frame, len);
}

/* Register accesses of a virtio-net card (each an exit), before and after the first frame:
 * the lesson's exits per frame and per MiB. (bus lock held, as for the frame counters) */
static void virtio_count_access(struct net_virtio *v)
{
	v->accesses++;
	if (v->net.tx_frames + v->net.rx_frames == 0)
		v->accesses_setup = v->accesses;
}

static int virtio_bar_read(void *opaque, uint64_t offset, uint8_t *data, unsigned len)
{
	struct net_virtio *v = opaque;
	virtio_count_access(v);
	return v->ops->read(&v->net.vp, offset, data, len);
}

static int virtio_bar_write(void *opaque, uint64_t offset, const uint8_t *data, unsigned len)
{
	struct net_virtio *v = opaque;
	virtio_count_access(v);
	return v->ops->write(&v->net.vp, offset, data, len);
}

static const struct bus_ops virtio_counting_ops = { virtio_bar_read, virtio_bar_write };

/* Stage 4's virtio-net, in the next free slot, its INTx routed as the chipset routes it. */
static int attach_virtio(struct pc_net *net, struct netdev *d, const uint8_t mac[6],
			 struct pci_host *pci, const struct guest_memory *mem, char *why,
			 size_t why_len)
{
	struct net_virtio *v = calloc(1, sizeof(*v));
	if (!v)
		return machine_fail(-ENOMEM, why, why_len, "virtio-net: out of memory");
	net->virtio[net->nnics] = v;
	v->net.tap_fd = v->net.wake_fd = -1;
	v->netdev = d;
	v->fast = !net->cfg->simple_virtio;
	if (v->fast && d->vnet_hdr) {
		/* The card and the tap share the header format: frames pass without a copy. */
		v->net.tap_fd = d->tap_fd;
		v->net.tap_offloads = d->tap_offloads;
		v->net.offloads_set = ~0u;   /* unknown: the tap outlives a reset; set it anew */
		snprintf(v->net.ifname, sizeof(v->net.ifname), "%s", d->cfg->ifname);
		d->direct = v;
	} else {
		v->net.send = virtio_send;   /* bare frames: slirp, or the simple path's tap */
		v->net.send_opaque = v;
	}
	if (v->fast)
		v->net.features = VIRTIO_RING_F_EVENT_IDX | VIRTIO_RING_F_INDIRECT_DESC |
				  VIRTIO_NET_F_MRG_RXBUF |
				  (d->direct && d->tap_offloads ? VIRTIO_NET_OFFLOADS : 0);
	if (virtio_net_attach(&v->net, pci, mem))
		return machine_fail(-ENOSPC, why, why_len, "virtio-net: no free PCI slot");
	memcpy(v->net.vp.state.config, mac, 6);
	for (unsigned s = 0; s < PCI_MAX_SLOTS; s++) {
		if (pci->functions[s][0] == &v->net.vp.pci) {
			unsigned gsi = chipset_intx_gsi(s, 0);
			irq_line_init(&v->net.vp.pci.irq, pci->vm_fd, gsi);
			v->net.vp.pci.config.bytes[PCI_INTERRUPT_LINE] = gsi;
		}
	}
	/* Count the BAR's accesses: each is an exit (the lesson's figures). */
	struct bus_range *bar = v->net.vp.pci.bar_range[0];
	v->ops = bar->ops;
	bar->ops = &virtio_counting_ops;
	bar->dev = v;
	d->nic = (struct net_nic){ virtio_receive, v };
	/* The fast path: kicks become eventfds for the net thread (ioeventfd where KVM has it). */
	int err = v->fast ? virtio_pci_fast_path(&v->net.vp) : 0;
	if (err)
		return machine_fail(err, why, why_len, "virtio-net: queue eventfds: %s",
				    strerror(-err));
	if (v->fast)   /* INTx (pci=nomsi) by irqfd: the net thread polls the resample fd */
		virtio_pci_intx_irqfd(&v->net.vp);
	v->rx_wanted = true;
	return 0;
}

static int attach_e1000(struct pc_net *net, struct netdev *d, const uint8_t mac[6],
			struct io_bus *bus, struct pci_host *pci, const struct guest_memory *mem,
			int vm_fd, unsigned first_slot, char *why, size_t why_len)
{
	struct e1000 *e = malloc(sizeof(*e));
	if (!e)
		return machine_fail(-ENOMEM, why, why_len, "e1000: out of memory");
	net->e1000[net->nnics] = e;
	char name[16];
	snprintf(name, sizeof(name), "e1000.%u", net->nnics);
	e1000_init(e, mem, mac, netdev_send, d, name);
	unsigned slot = first_slot;
	while (slot < PCI_MAX_SLOTS - 1 && pci->functions[slot][0])
		slot++;
	int err = e1000_attach(e, bus, pci, vm_fd, slot, chipset_intx_gsi(slot, 0), why,
			       why_len);
	if (!err)
		d->nic = (struct net_nic){ e1000_receive, e };
	return err;
}

int net_attach(struct pc_net *net, struct io_bus *bus, struct pci_host *pci,
	       const struct guest_memory *mem, int vm_fd, unsigned first_slot, char *why,
	       size_t why_len)
{
	for (unsigned i = 0; i < net->cfg->nnics; i++) {
		const struct nic_config *n = &net->cfg->nics[i];
		struct netdev *d = netdev_by_id(net, n->netdev);
		/* QEMU's addresses: 52:54:00:12:34:56, then :57, ... */
		uint8_t mac[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 + i };
		if (n->has_mac)
			memcpy(mac, n->mac, 6);
		int err = n->model == NIC_E1000
			  ? attach_e1000(net, d, mac, bus, pci, mem, vm_fd, first_slot, why, why_len)
			  : attach_virtio(net, d, mac, pci, mem, why, why_len);
		net->nnics++;
		if (err)
			return err;
	}
	return 0;
}

/* ---- the net thread ------------------------------------------------------------------------ */

int net_poll_add(struct net_poll_set *set, int fd, short events)
{
	if (set->n == NET_MAX_POLL_FDS)
		return -1;   /* slirp then skips this socket for one round */
	set->fds[set->n] = (struct pollfd){ fd, events, 0 };
	return set->n++;
}

/* A fast-path card's kicks, and what each asks for. */
static void serve_kicks(struct net_virtio *v, bool rx_kick, bool tx_kick)
{
	uint64_t n;
	if (rx_kick && read(v->net.vp.kick_fd[0], &n, sizeof(n)) > 0)
		v->rx_wanted = true;   /* new receive buffers */
	if (tx_kick && read(v->net.vp.kick_fd[1], &n, sizeof(n)) > 0)
		virtio_net_transmit(&v->net);
}

static void read_tap(struct netdev *d)
{
	static uint8_t frame[FRAME_MAX];
	for (int i = 0; i < 64; i++) {   /* a batch, then the others get their turn */
		ssize_t n = read(d->tap_fd, frame, sizeof(frame));
		if (n <= 0)
			return;
		d->rx_frames++;
		if (d->nic.receive)
			d->nic.receive(d->nic.opaque, frame, n);
	}
}

static void *net_thread(void *opaque)
{
	struct pc_net *net = opaque;
	static struct net_poll_set set;
	unsigned first[NET_MAX_NETDEVS], kicks[NET_MAX_NICS];
	for (;;) {
		uint32_t timeout = 1000;
		pthread_mutex_lock(net->lock);
		set.n = 0;
		net_poll_add(&set, net->stop_fd, POLLIN);
		net_poll_add(&set, net->wake_fd, POLLIN);
		for (unsigned i = 0; i < net->nnics; i++) {   /* fast virtio-net: RX, TX kicks, */
			struct net_virtio *v = net->virtio[i];   /* INTx resample (-1: none) */
			kicks[i] = set.n;
			if (v && v->fast) {
				net_poll_add(&set, v->net.vp.kick_fd[0], POLLIN);
				net_poll_add(&set, v->net.vp.kick_fd[1], POLLIN);
				net_poll_add(&set, virtio_pci_resample_fd(&v->net.vp), POLLIN);
			}
		}
		for (unsigned i = 0; i < net->ndevs; i++) {
			struct netdev *d = &net->devs[i];
			first[i] = set.n;
			if (d->user)
				timeout = user_fill(d, &set, timeout);
			else if (d->tap_fd >= 0 && (!d->direct || d->direct->rx_wanted))
				net_poll_add(&set, d->tap_fd, POLLIN);   /* not while no buffers */
		}
		pthread_mutex_unlock(net->lock);
		int n = poll(set.fds, set.n, timeout);
		if (n < 0 && errno != EINTR) {
			perror("minivisor: net: poll");
			return NULL;
		}
		if (set.fds[0].revents)
			return NULL;   /* net_stop */
		uint64_t v;
		if (set.fds[1].revents && read(net->wake_fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
			perror("minivisor: net: eventfd");
		pthread_mutex_lock(net->lock);
		for (unsigned i = 0; i < net->nnics; i++) {
			struct net_virtio *v = net->virtio[i];
			if (v && v->fast && set.fds[kicks[i] + 2].revents)
				virtio_pci_resample(&v->net.vp);   /* the line again, if ISR is set */
			if (v && v->fast)
				serve_kicks(v, set.fds[kicks[i]].revents, set.fds[kicks[i] + 1].revents);
		}
		for (unsigned i = 0; i < net->ndevs; i++) {
			struct netdev *d = &net->devs[i];
			bool readable = first[i] < set.n && set.fds[first[i]].revents;
			if (d->user)
				user_poll(d, &set, n < 0);
			else if (d->direct && d->direct->rx_wanted && readable)
				d->direct->rx_wanted = virtio_net_receive(&d->direct->net);
			else if (d->tap_fd >= 0 && !d->direct && readable)
				read_tap(d);
		}
		pthread_mutex_unlock(net->lock);
	}
}

int net_start(struct pc_net *net, pthread_mutex_t *lock)
{
	if (net->ndevs == 0)
		return 0;
	net->lock = lock;
	int err = pthread_create(&net->thread, NULL, net_thread, net);
	net->running = !err;
	return -err;
}

void net_stop(struct pc_net *net)
{
	if (!net->running)
		return;
	net_wake(net->stop_fd);
	pthread_join(net->thread, NULL);
	net->running = false;
	uint64_t v;   /* a reset starts the thread again: it must not find the old stop */
	if (read(net->stop_fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		perror("minivisor: net: eventfd");
}

/* What the driver accepted of what the card offered, by name (the check reads this line). */
static void virtio_features_line(const struct net_virtio *v, unsigned i)
{
	static const struct { uint64_t bit; const char *name; } names[] = {
		{ VIRTIO_RING_F_EVENT_IDX, "event-idx" },
		{ VIRTIO_RING_F_INDIRECT_DESC, "indirect" },
		{ VIRTIO_NET_F_MRG_RXBUF, "mrg-rxbuf" },
		{ VIRTIO_NET_F_CSUM, "csum" },
		{ VIRTIO_NET_F_GUEST_CSUM, "guest-csum" },
		{ VIRTIO_NET_F_HOST_TSO4, "host-tso4" },
		{ VIRTIO_NET_F_HOST_TSO6, "host-tso6" },
		{ VIRTIO_NET_F_GUEST_TSO4, "guest-tso4" },
		{ VIRTIO_NET_F_GUEST_TSO6, "guest-tso6" },
	};
	char line[256] = "";
	size_t at = 0;
	for (unsigned k = 0; k < sizeof(names) / sizeof(names[0]); k++)
		if (v->net.negotiated & names[k].bit && at < sizeof(line))
			at += snprintf(line + at, sizeof(line) - at, " %s", names[k].name);
	fprintf(stderr, "minivisor: virtio-net.%u: features:%s\n", i, at ? line : " none");
}

/* The lesson's figures for a virtio-net card: frames, bytes, and exits per frame and per MiB
 * moved (both directions: a TCP stream's acknowledgements come back on the same card). */
static void virtio_stats(const struct net_virtio *v, unsigned i)
{
	const struct virtio_net *n = &v->net;
	uint64_t frames = n->tx_frames + n->rx_frames, after = v->accesses - v->accesses_setup;
	double mib = (n->tx_bytes + n->rx_bytes) / 1048576.0;
	if (!frames)
		return;
	virtio_features_line(v, i);
	fprintf(stderr, "minivisor: virtio-net.%u (%s path): %llu frames sent (%.1f MiB), %llu "
		"received (%.1f MiB), %llu dropped; register accesses (exits): %llu before the "
		"first frame, %llu after: %.2f per frame, %.0f per MiB; interrupts: %llu irqfd, "
		"%llu KVM_SIGNAL_MSI, %llu INTx (%llu by irqfd, %llu KVM_IRQ_LINE)\n", i,
		v->fast ? "fast" : "simple", (unsigned long long)n->tx_frames,
		n->tx_bytes / 1048576.0, (unsigned long long)n->rx_frames, n->rx_bytes / 1048576.0,
		(unsigned long long)n->rx_dropped, (unsigned long long)v->accesses_setup,
		(unsigned long long)after, (double)after / frames, mib > 0 ? after / mib : 0,
		n->vp.irq_count[VIRTIO_IRQ_IRQFD], n->vp.irq_count[VIRTIO_IRQ_MSI],
		n->vp.irq_count[VIRTIO_IRQ_INTX] + n->vp.irq_count[VIRTIO_IRQ_INTX_IRQFD],
		n->vp.irq_count[VIRTIO_IRQ_INTX_IRQFD], n->vp.irq_count[VIRTIO_IRQ_INTX]);
}

/* The cards go with the machine (a reset builds new ones); the back ends stay. */
void net_detach(struct pc_net *net)
{
	for (unsigned i = 0; i < net->ndevs; i++) {
		net->devs[i].nic = (struct net_nic){ NULL, NULL };   /* frames in flight: dropped */
		net->devs[i].direct = NULL;
	}
	for (unsigned i = 0; i < net->nnics; i++) {
		struct e1000 *e = net->e1000[i];
		if (e && e->tx_frames + e->rx_frames)   /* the lesson's "exits per frame" */
			fprintf(stderr, "minivisor: %s: %llu frames sent, %llu received; register "
				"accesses (exits): %llu before the first frame, %llu after: %.2f "
				"per frame\n", e->name, (unsigned long long)e->tx_frames,
				(unsigned long long)e->rx_frames,
				(unsigned long long)e->accesses_setup,
				(unsigned long long)(e->accesses - e->accesses_setup),
				(double)(e->accesses - e->accesses_setup) /
				(e->tx_frames + e->rx_frames));
		struct net_virtio *v = net->virtio[i];
		if (v)
			virtio_stats(v, i);
		if (v)
			virtio_pci_fast_path_off(&v->net.vp);   /* its eventfds */
		free(net->e1000[i]);
		free(v);
		net->e1000[i] = NULL;
		net->virtio[i] = NULL;
	}
	net->nnics = 0;
}

void net_close(struct pc_net *net)
{
	net_stop(net);
	for (unsigned i = 0; i < net->ndevs; i++) {
		struct netdev *d = &net->devs[i];
		if (d->user)
			user_close(d);
		if (d->tap_fd >= 0)
			close(d->tap_fd);
	}
	net_detach(net);
	if (net->wake_fd > 0)
		close(net->wake_fd);
	if (net->stop_fd > 0)
		close(net->stop_fd);
	memset(net, 0, sizeof(*net));
}
