/*
 * virtio_net.c - frames between virtqueues and a tap device. See virtio_net.h.
 */
#include "virtio_net.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/uio.h>
#include <unistd.h>

#define VIRTIO_NET_F_MAC (1ull << 5)
#define RX_QUEUE 0
#define TX_QUEUE 1
#define VNET_HDR_LEN 12   /* struct virtio_net_hdr_v1: flags, gso_type, ..., num_buffers */

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

/*
 * Stage 5: the frame without its header, in one piece. No offload feature is offered, so the
 * header carries nothing the back end needs. A frame longer than the buffer is dropped.
 */
static void send_bare(struct virtio_net *net, const struct iovec *iov, unsigned n)
{
	static uint8_t frame[65536 + VNET_HDR_LEN];   /* under the bus lock only */
	size_t len = 0;
	for (unsigned i = 0; i < n; i++) {
		if (len + iov[i].iov_len > sizeof(frame)) {
			fprintf(stderr, "virtio-net: frame longer than %zu bytes: dropped\n",
				sizeof(frame));
			return;
		}
		memcpy(frame + len, iov[i].iov_base, iov[i].iov_len);
		len += iov[i].iov_len;
	}
	if (len <= VNET_HDR_LEN) {
		fprintf(stderr, "virtio-net: empty frame: dropped\n");
		return;
	}
	net->send(net->send_opaque, frame + VNET_HDR_LEN, len - VNET_HDR_LEN);
}

/* Transmit: each chain is one frame (header + data), all device-readable. */
static uint32_t transmit_frame(struct virtio_pci *vp, struct virtq_chain *chain)
{
	struct virtio_net *net = vp->device;
	struct iovec iov[VIRTQ_MAX_SIZE];
	unsigned n = 0;
	for (unsigned i = 0; i < chain->count; i++)
		if (!chain->seg[i].writable)
			iov[n++] = (struct iovec){ chain->seg[i].hva, chain->seg[i].len };
	if (net->send) {
		send_bare(net, iov, n);
		return 0;
	}
	/* A full host queue drops the frame, as a real wire would. */
	if (writev(net->tap_fd, iov, n) < 0 && errno != EAGAIN)
		fprintf(stderr, "virtio-net: write to tap %s: %s\n", net->ifname, strerror(errno));
	return 0;
}

bool virtio_net_receive(struct virtio_net *net)
{
	static struct virtq_chain chain;   /* used under the bus lock only */
	struct iovec iov[VIRTQ_MAX_SIZE];
	bool used = false, more = true;

	for (;;) {
		int got = virtio_pci_pop(&net->vp, RX_QUEUE, &chain);
		if (got <= 0) {
			more = false;   /* no buffers: wait until the guest posts some */
			break;
		}
		unsigned n = 0;
		for (unsigned i = 0; i < chain.count; i++)
			if (chain.seg[i].writable)
				iov[n++] = (struct iovec){ chain.seg[i].hva, chain.seg[i].len };
		ssize_t len = n && chain.writable_bytes >= VNET_HDR_LEN ? readv(net->tap_fd, iov, n)
									: -2;
		if (len == -2) {
			virtio_pci_queue_error(&net->vp, RX_QUEUE, "receive buffer too small");
			more = false;
			break;
		}
		if (len < 0) {
			virtq_unpop(&net->vp.state.vq[RX_QUEUE]);   /* nothing to read now */
			break;
		}
		/* num_buffers (the header's last field) is 1: no mergeable buffers here. */
		if (iov[0].iov_len >= VNET_HDR_LEN)
			u64_to_bytes(1, (uint8_t *)iov[0].iov_base + 10, 2);
		virtq_push(net->vp.mem, &net->vp.state.vq[RX_QUEUE], chain.head, len);
		used = true;
	}
	if (used)
		virtio_pci_notify_used(&net->vp, RX_QUEUE);
	return more;
}

bool virtio_net_deliver(struct virtio_net *net, const uint8_t *frame, size_t len)
{
	static struct virtq_chain chain;   /* used under the bus lock only */
	if (virtio_pci_pop(&net->vp, RX_QUEUE, &chain) <= 0)
		return false;
	uint8_t hdr[VNET_HDR_LEN] = { 0 };
	hdr[10] = 1;   /* num_buffers: one */
	size_t done = 0, total = VNET_HDR_LEN + len;
	for (unsigned i = 0; i < chain.count && done < total; i++) {
		if (!chain.seg[i].writable)
			continue;
		for (size_t at = 0; at < chain.seg[i].len && done < total;) {
			const uint8_t *from = done < VNET_HDR_LEN ? hdr + done
							  : frame + done - VNET_HDR_LEN;
			size_t piece = done < VNET_HDR_LEN ? VNET_HDR_LEN - done : total - done;
			if (piece > chain.seg[i].len - at)
				piece = chain.seg[i].len - at;
			memcpy((uint8_t *)chain.seg[i].hva + at, from, piece);
			at += piece;
			done += piece;
		}
	}
	if (done < total)   /* the guest's buffer is too small: the frame is cut, as a NIC would */
		fprintf(stderr, "virtio-net: receive buffer of %zu bytes for a %zu-byte frame\n",
			done, total);
	virtq_push(net->vp.mem, &net->vp.state.vq[RX_QUEUE], chain.head, done);
	virtio_pci_notify_used(&net->vp, RX_QUEUE);
	return true;
}

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
	int err = virtio_pci_attach(&net->vp, &net_ops, net, host, mem);
	if (err)
		return err;
	/* A locally administered unicast MAC (bit 1 of the first byte set, bit 0 clear). */
	static const uint8_t mac[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };
	memcpy(net->vp.state.config, mac, sizeof(mac));
	net->vp.state.config_len = 8;   /* mac[6], status (le16, unused: no STATUS feature) */
	return 0;
}
