/*
 * virtio_net.c - frames between virtqueues and a tap device. See virtio_net.h.
 *
 * Two ways a frame reaches the host: with its 12-byte virtio header straight to a tap opened
 * with IFF_VNET_HDR (stage 4, and stage 5's fast path: the guest's buffers go to writev()
 * and come from readv() without a copy), or without the header to a stage 5 back end that
 * takes bare frames (the send hook: slirp, or a tap without IFF_VNET_HDR).
 */
#include "virtio_net.h"

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/uio.h>
#include <unistd.h>

#define RX_QUEUE 0
#define TX_QUEUE 1
#define RX_IOV_MAX 1024        /* readv()'s limit (IOV_MAX) */
#define BAD_HEADER_LINES 10    /* then one "more not reported" line */

int tap_open(const char *ifname, short extra_flags)
{
	struct ifreq ifr = { 0 };
	if (strlen(ifname) >= IFNAMSIZ)
		return -ENAMETOOLONG;
	int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	/* IFF_NO_PI: no extra packet-info header; IFF_VNET_HDR: the virtio header instead. */
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI | extra_flags;
	strcpy(ifr.ifr_name, ifname);
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		int err = -errno;
		close(fd);
		return err;
	}
	return fd;
}

int tap_create_persistent(const char *ifname)
{
	int fd = tap_open(ifname, IFF_VNET_HDR);
	if (fd < 0)
		return fd;
	int err = ioctl(fd, TUNSETPERSIST, 1) < 0 ? -errno : 0;
	close(fd);
	return err;
}

int tap_probe_offloads(int tap_fd)
{
	int hdr_len = VNET_HDR_LEN;
	if (ioctl(tap_fd, TUNSETVNETHDRSZ, &hdr_len) < 0)
		return -errno;
	if (ioctl(tap_fd, TUNSETOFFLOAD, TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6) < 0)
		return 0;
	/* Off until the driver says what it takes (apply_offloads): a driver without
	 * GUEST_TSO4 must never be handed a 64 KiB packet. */
	return ioctl(tap_fd, TUNSETOFFLOAD, 0) < 0 ? 0 : 1;
}

int virtio_net_open(struct virtio_net *net, const char *ifname)
{
	memset(net, 0, sizeof(*net));
	snprintf(net->ifname, sizeof(net->ifname), "%s", ifname);
	net->tap_fd = tap_open(ifname, IFF_VNET_HDR);
	if (net->tap_fd < 0)
		return net->tap_fd;
	int hdr_len = VNET_HDR_LEN;
	if (ioctl(net->tap_fd, TUNSETVNETHDRSZ, &hdr_len) < 0) {
		int err = -errno;
		close(net->tap_fd);
		return err;
	}
	net->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	return net->wake_fd < 0 ? -errno : 0;
}

/* ---- the header ------------------------------------------------------------------------ */

const char *virtio_net_hdr_check(const struct virtio_net_hdr *h, size_t frame_len,
				 uint64_t features)
{
	if (frame_len < 14)
		return "frame shorter than an Ethernet header";
	if (frame_len > VNET_FRAME_MAX)
		return "frame longer than 64 KiB";
	/* Other flag bits are ignored, as the device must (virtio 1.1, 5.1.6.2.2). */
	if (h->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) {
		if (!(features & VIRTIO_NET_F_CSUM))
			return "checksum offload requested, not negotiated";
		/* The 2-byte checksum field must lie inside the frame (csum_offset is from
		 * csum_start); both are guest values, added in 32 bits (no wrap). */
		if ((uint32_t)h->csum_start + h->csum_offset + 2 > frame_len)
			return "csum_start + csum_offset past the end of the frame";
	}
	uint8_t gso = h->gso_type & ~VIRTIO_NET_HDR_GSO_ECN;
	if (gso == VIRTIO_NET_HDR_GSO_NONE)
		return h->gso_type ? "ECN bit without a GSO type" : NULL;
	if ((h->gso_type & VIRTIO_NET_HDR_GSO_ECN) && !(features & VIRTIO_NET_F_HOST_ECN))
		return "GSO with ECN, not negotiated";
	if (!((gso == VIRTIO_NET_HDR_GSO_TCPV4 && (features & VIRTIO_NET_F_HOST_TSO4)) ||
	      (gso == VIRTIO_NET_HDR_GSO_TCPV6 && (features & VIRTIO_NET_F_HOST_TSO6)) ||
	      (gso == VIRTIO_NET_HDR_GSO_UDP && (features & VIRTIO_NET_F_HOST_UFO))))
		return "GSO type not negotiated";
	if (!(h->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM))
		return "GSO without checksum offload";
	if (h->gso_size == 0 || h->gso_size >= frame_len)
		return "gso_size 0 or not smaller than the frame";
	return NULL;
}

/* Copy len bytes at offset off of a scattered buffer out (to) or in (from). False: too short. */
static bool iov_copy(const struct iovec *iov, unsigned n, size_t off, void *to, const void *from,
		     size_t len)
{
	for (unsigned i = 0; i < n && len; i++) {
		if (off >= iov[i].iov_len) {
			off -= iov[i].iov_len;
			continue;
		}
		size_t piece = iov[i].iov_len - off < len ? iov[i].iov_len - off : len;
		if (to) {
			memcpy(to, (uint8_t *)iov[i].iov_base + off, piece);
			to = (uint8_t *)to + piece;
		} else {
			memcpy((uint8_t *)iov[i].iov_base + off, from, piece);
			from = (const uint8_t *)from + piece;
		}
		len -= piece;
		off = 0;
	}
	return len == 0;
}

/* A guest's bad frame: one line each, the first few only (a guest cannot flood the log). */
static void bad_frame(struct virtio_net *net, const char *why)
{
	if (net->bad_headers < BAD_HEADER_LINES)
		fprintf(stderr, "virtio-net: transmit: %s: frame dropped\n", why);
	else if (net->bad_headers == BAD_HEADER_LINES)
		fprintf(stderr, "virtio-net: more bad frames, not reported\n");
	net->bad_headers++;
}

/* ---- transmit -------------------------------------------------------------------------- */

/*
 * A back end that takes bare frames: the frame without its header, in one piece. No
 * offload is offered there (virtio_net_hdr_check refused any the header asked for).
 */
static void send_bare(struct virtio_net *net, const struct iovec *iov, unsigned n, size_t len)
{
	static uint8_t frame[VNET_FRAME_MAX];   /* under the bus lock only */
	if (!iov_copy(iov, n, VNET_HDR_LEN, frame, NULL, len))
		return;
	net->send(net->send_opaque, frame, len);
}

/* Transmit: each chain is one frame (header + data), all device-readable. */
static uint32_t transmit_frame(struct virtio_pci *vp, struct virtq_chain *chain)
{
	struct virtio_net *net = vp->device;
	struct iovec iov[VIRTQ_MAX_SIZE];
	struct virtio_net_hdr h;
	unsigned n = 0;
	for (unsigned i = 0; i < chain->count; i++)
		if (!chain->seg[i].writable)
			iov[n++] = (struct iovec){ chain->seg[i].hva, chain->seg[i].len };
	/* The header may be split across buffers: read it out of the guest's once, and check
	 * that copy (the guest may rewrite its buffer meanwhile; the tap reads it again, but
	 * then the kernel checks what it reads too). */
	if (!iov_copy(iov, n, 0, &h, NULL, sizeof(h))) {
		bad_frame(net, "no room for the virtio header");
		return 0;
	}
	size_t len = chain->readable_bytes - VNET_HDR_LEN;
	const char *why = virtio_net_hdr_check(&h, len, vp->state.driver_features);
	if (why) {
		bad_frame(net, why);
		return 0;
	}
	net->tx_frames++;
	net->tx_bytes += len;
	net->negotiated = vp->state.driver_features;
	if (net->send) {
		send_bare(net, iov, n, len);
		return 0;
	}
	/* A full host queue drops the frame, as a real wire would. */
	if (writev(net->tap_fd, iov, n) < 0 && errno != EAGAIN)
		fprintf(stderr, "virtio-net: write to tap %s: %s\n", net->ifname, strerror(errno));
	return 0;
}

void virtio_net_transmit(struct virtio_net *net)
{
	if (virtio_pci_queue_live(&net->vp, TX_QUEUE))
		virtio_pci_serve_queue(&net->vp, TX_QUEUE, transmit_frame);
}

/* ---- receive --------------------------------------------------------------------------- */

/*
 * The receive chains taken off the ring for the frame being received, in ring order, and
 * their writable buffers as one scatter list. Without MRG_RXBUF a frame gets exactly one
 * chain; with it, enough chains for the longest frame the driver may get, and the frame
 * uses as many of them as it fills. Chains left over go back to the ring (virtq_unpop).
 */
struct rx_window {
	unsigned nchains, niov;
	uint64_t space;                        /* writable bytes of all the chains */
	uint16_t head[VIRTQ_MAX_SIZE];
	uint32_t bytes[VIRTQ_MAX_SIZE];
	unsigned iov_end[VIRTQ_MAX_SIZE];      /* chain i's buffers end at iov[iov_end[i]] */
	struct iovec iov[RX_IOV_MAX];
};

static bool mergeable(const struct virtio_net *net)
{
	return net->vp.state.driver_features & VIRTIO_NET_F_MRG_RXBUF;
}

/* The most a frame for this driver may need: 64 KiB if it takes TSO packets. */
static size_t rx_need(const struct virtio_net *net)
{
	uint64_t f = net->vp.state.driver_features;
	bool big = f & (VIRTIO_NET_F_GUEST_TSO4 | VIRTIO_NET_F_GUEST_TSO6 | VIRTIO_NET_F_GUEST_UFO);
	return VNET_HDR_LEN + (big ? VNET_FRAME_MAX : 1518);
}

/* Take one more chain. 1, or 0 when there is none (or the queue broke: reported). */
static int rx_take(struct virtio_net *net, struct rx_window *w)
{
	static struct virtq_chain chain;   /* under the bus lock only */
	if (w->nchains == VIRTQ_MAX_SIZE || virtio_pci_pop(&net->vp, RX_QUEUE, &chain) <= 0)
		return 0;
	unsigned writable = 0;
	for (unsigned i = 0; i < chain.count; i++)
		writable += chain.seg[i].writable;
	if (chain.writable_bytes < VNET_HDR_LEN) {   /* each buffer must hold a header (5.1.6.3) */
		virtio_pci_queue_error(&net->vp, RX_QUEUE, "receive buffer too small");
		return 0;
	}
	if (w->niov + writable > RX_IOV_MAX) {
		virtq_unpop(&net->vp.state.vq[RX_QUEUE]);
		return 0;
	}
	for (unsigned i = 0; i < chain.count; i++)
		if (chain.seg[i].writable)
			w->iov[w->niov++] = (struct iovec){ chain.seg[i].hva, chain.seg[i].len };
	w->head[w->nchains] = chain.head;
	w->bytes[w->nchains] = chain.writable_bytes;
	w->iov_end[w->nchains++] = w->niov;
	w->space += chain.writable_bytes;
	return 1;
}

/* Enough chains for the next frame? (mergeable: room for the longest; otherwise one) */
static bool rx_fill(struct virtio_net *net, struct rx_window *w, size_t need)
{
	while (w->nchains == 0 || (mergeable(net) && w->space < need))
		if (!rx_take(net, w))
			break;
	return w->nchains && (!mergeable(net) || w->space >= need);
}

/* A frame of len bytes (header included) is in the window's first chains: push them, with
 * num_buffers in the header, and slide the window past them. */
static void rx_complete(struct virtio_net *net, struct rx_window *w, size_t len)
{
	struct virtq *vq = &net->vp.state.vq[RX_QUEUE];
	unsigned used = 0;
	size_t left = len;
	do {
		uint32_t piece = left < w->bytes[used] ? left : w->bytes[used];
		virtq_push(net->vp.mem, vq, w->head[used], piece);
		left -= piece;
		used++;
	} while (left && used < w->nchains);
	uint16_t num_buffers = used;   /* little-endian, as x86 */
	iov_copy(w->iov, w->niov, offsetof(struct virtio_net_hdr, num_buffers), NULL,
		 &num_buffers, sizeof(num_buffers));
	unsigned iov_used = w->iov_end[used - 1];
	w->nchains -= used;
	w->niov -= iov_used;
	w->space = 0;
	memmove(w->head, w->head + used, w->nchains * sizeof(w->head[0]));
	memmove(w->bytes, w->bytes + used, w->nchains * sizeof(w->bytes[0]));
	memmove(w->iov, w->iov + iov_used, w->niov * sizeof(w->iov[0]));
	for (unsigned i = 0; i < w->nchains; i++) {
		w->iov_end[i] = w->iov_end[i + used] - iov_used;
		w->space += w->bytes[i];
	}
	net->rx_frames++;
	net->rx_bytes += len - VNET_HDR_LEN;
	net->negotiated = net->vp.state.driver_features;
}

/* Chains taken but not filled go back, the last taken first, so the ring sees no gap. */
static void rx_return(struct virtio_net *net, struct rx_window *w, bool used)
{
	for (; w->nchains; w->nchains--)
		virtq_unpop(&net->vp.state.vq[RX_QUEUE]);
	w->niov = 0;
	w->space = 0;
	if (used && virtq_needs_interrupt(net->vp.mem, &net->vp.state.vq[RX_QUEUE]))
		virtio_pci_notify_used(&net->vp);
}

/* The tap's offloads follow the driver's GUEST_* features (checked at each receive: they
 * change only when the driver resets the device, and an ioctl per change is cheap). */
static void apply_offloads(struct virtio_net *net)
{
	uint64_t f = net->vp.state.driver_features;
	unsigned want = 0;
	if (f & VIRTIO_NET_F_GUEST_CSUM) {
		want = TUN_F_CSUM;
		want |= f & VIRTIO_NET_F_GUEST_TSO4 ? TUN_F_TSO4 : 0;
		want |= f & VIRTIO_NET_F_GUEST_TSO6 ? TUN_F_TSO6 : 0;
	}
	if (!net->tap_offloads || want == net->offloads_set)
		return;
	if (ioctl(net->tap_fd, TUNSETOFFLOAD, want) < 0)
		fprintf(stderr, "virtio-net: tap %s: TUNSETOFFLOAD: %s\n", net->ifname,
			strerror(errno));
	net->offloads_set = want;
}

bool virtio_net_receive(struct virtio_net *net)
{
	static struct rx_window w;   /* under the bus lock only */
	bool used = false, more = true;

	apply_offloads(net);
	for (;;) {
		if (!rx_fill(net, &w, rx_need(net))) {
			more = false;   /* too few buffers: wait until the guest posts more */
			break;
		}
		/* Without MRG_RXBUF only the first chain; with it, all of them. */
		ssize_t len = readv(net->tap_fd, w.iov, mergeable(net) ? w.niov : w.iov_end[0]);
		if (len < VNET_HDR_LEN)
			break;   /* nothing to read now (EAGAIN) */
		if (!mergeable(net)) {   /* num_buffers is 1 without mergeable buffers too */
			uint16_t one = 1;
			iov_copy(w.iov, w.iov_end[0], offsetof(struct virtio_net_hdr, num_buffers),
				 NULL, &one, sizeof(one));
		}
		rx_complete(net, &w, len);
		used = true;
	}
	rx_return(net, &w, used);
	return more;
}

bool virtio_net_deliver(struct virtio_net *net, const uint8_t *frame, size_t len)
{
	static struct rx_window w;   /* under the bus lock only */
	struct virtio_net_hdr h = { .num_buffers = 1 };
	size_t total = VNET_HDR_LEN + len;
	if (!rx_fill(net, &w, total)) {
		net->rx_dropped++;
		rx_return(net, &w, false);
		return false;
	}
	unsigned niov = mergeable(net) ? w.niov : w.iov_end[0];
	size_t room = mergeable(net) ? w.space : w.bytes[0];
	if (room < total) {   /* one chain too small: the frame is cut, as a NIC would */
		fprintf(stderr, "virtio-net: receive buffer of %zu bytes for a %zu-byte frame\n",
			room, total);
		total = room;
	}
	iov_copy(w.iov, niov, 0, NULL, &h, VNET_HDR_LEN);
	iov_copy(w.iov, niov, VNET_HDR_LEN, NULL, frame, total - VNET_HDR_LEN);
	rx_complete(net, &w, total);   /* (rewrites num_buffers with the chains used) */
	rx_return(net, &w, true);
	return true;
}

/* ---- the device ------------------------------------------------------------------------- */

static void net_queue_notify(struct virtio_pci *vp, unsigned q)
{
	struct virtio_net *net = vp->device;
	if (q == TX_QUEUE) {
		virtio_pci_serve_queue(vp, q, transmit_frame);
	} else if (net->wake_fd >= 0) {
		uint64_t one = 1;   /* new receive buffers: the I/O thread may read the tap again */
		if (write(net->wake_fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
			fprintf(stderr, "virtio-net: eventfd: %s\n", strerror(errno));
	}
}

static const struct virtio_device_ops net_ops = {
	.name = "virtio-net",
	.virtio_id = VIRTIO_ID_NET,
	.pci_class = 0x020000,   /* network, Ethernet */
	.features = VIRTIO_NET_F_MAC,
	.num_queues = 2,
	.queue_notify = net_queue_notify,
};

int virtio_net_attach(struct virtio_net *net, struct pci_host *host,
		      const struct guest_memory *mem)
{
	net->ops = net_ops;
	net->ops.features |= net->features;
	int err = virtio_pci_attach(&net->vp, &net->ops, net, host, mem);
	if (err)
		return err;
	/* A locally administered unicast MAC (bit 1 of the first byte set, bit 0 clear). */
	static const uint8_t mac[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };
	memcpy(net->vp.state.config, mac, sizeof(mac));
	net->vp.state.config_len = 8;   /* mac[6], status (le16, unused: no STATUS feature) */
	return 0;
}
