/*
 * virtio_net.h - a virtio network card (virtio 1.1, 5.1) on a Linux tap device.
 *
 * A tap device (/dev/net/tun, IFF_TAP) is a network interface in the host whose "wire" is a
 * file descriptor: each write() puts one Ethernet frame on the host side, each read() takes
 * one. With IFF_VNET_HDR every frame carries the same 12-byte virtio_net_hdr the guest
 * driver uses, so frames pass between the virtqueues and the tap unchanged.
 *
 * Queue 0 receives (the guest posts empty buffers; we fill them when the tap has a frame),
 * queue 1 transmits (the guest posts frames; we write them to the tap). The MAC address is
 * in the device configuration.
 *
 * Stage 5 adds what makes the card fast (each offered only where the back end can honour it):
 *   mergeable receive buffers (VIRTIO_NET_F_MRG_RXBUF): the guest posts page-sized buffers and
 *     one frame may fill several chains; the header's num_buffers says how many.
 *   offloads over a tap with IFF_VNET_HDR (CSUM, GUEST_CSUM, HOST_TSO4/6, GUEST_TSO4/6): the
 *     header carries "checksum still to do from csum_start" and "segment this 64 KiB packet
 *     into gso_size pieces", and the host kernel does that work instead of the guest's.
 * Every header a guest sends is checked first (virtio_net_hdr_check): a checksum position
 * past the frame or a segment size of 0 drops the frame with one line.
 */
#ifndef VIRTIO_NET_H
#define VIRTIO_NET_H

#include "virtio_pci.h"

/* Feature bits (virtio 1.1, 5.1.3). */
#define VIRTIO_NET_F_CSUM       (1ull << 0)    /* the device completes checksums we leave */
#define VIRTIO_NET_F_GUEST_CSUM (1ull << 1)    /* the driver takes frames with partial ones */
#define VIRTIO_NET_F_MAC        (1ull << 5)
#define VIRTIO_NET_F_GUEST_TSO4 (1ull << 7)    /* the driver takes 64 KiB TCP/IPv4 packets */
#define VIRTIO_NET_F_GUEST_TSO6 (1ull << 8)
#define VIRTIO_NET_F_GUEST_UFO  (1ull << 10)
#define VIRTIO_NET_F_HOST_TSO4  (1ull << 11)   /* the device segments 64 KiB TCP/IPv4 */
#define VIRTIO_NET_F_HOST_TSO6  (1ull << 12)
#define VIRTIO_NET_F_HOST_ECN   (1ull << 13)
#define VIRTIO_NET_F_HOST_UFO   (1ull << 14)
#define VIRTIO_NET_F_MRG_RXBUF  (1ull << 15)   /* a frame may span receive chains */
#define VIRTIO_NET_OFFLOADS (VIRTIO_NET_F_CSUM | VIRTIO_NET_F_GUEST_CSUM | \
			     VIRTIO_NET_F_HOST_TSO4 | VIRTIO_NET_F_HOST_TSO6 | \
			     VIRTIO_NET_F_GUEST_TSO4 | VIRTIO_NET_F_GUEST_TSO6)

/* struct virtio_net_hdr (5.1.6): 12 bytes in front of every frame, both ways. */
#define VNET_HDR_LEN 12
#define VIRTIO_NET_HDR_F_NEEDS_CSUM 1
#define VIRTIO_NET_HDR_F_DATA_VALID 2
#define VIRTIO_NET_HDR_GSO_NONE  0
#define VIRTIO_NET_HDR_GSO_TCPV4 1
#define VIRTIO_NET_HDR_GSO_UDP   3
#define VIRTIO_NET_HDR_GSO_TCPV6 4
#define VIRTIO_NET_HDR_GSO_ECN   0x80
struct virtio_net_hdr {
	uint8_t flags, gso_type;
	uint16_t hdr_len, gso_size, csum_start, csum_offset, num_buffers;
} __attribute__((packed));

/* The longest frame: a 64 KiB IP packet, an Ethernet header and a VLAN tag. */
#define VNET_FRAME_MAX (65535 + 18)

struct virtio_net {
	struct virtio_pci vp;
	int tap_fd;
	int wake_fd;      /* eventfd: "the guest posted receive buffers", for the I/O thread */
	char ifname[16];
	/*
	 * Stage 5's back ends (user-mode networking, ...) take bare Ethernet frames: with send
	 * set, a transmitted frame loses its virtio header and goes there instead of to the tap,
	 * and frames come in through virtio_net_deliver(). Stage 4 leaves it NULL.
	 */
	void (*send)(void *opaque, const uint8_t *frame, size_t len);
	void *send_opaque;
	/*
	 * Set before attach (stage 5's fast path; stage 4 leaves them 0): features offered
	 * besides the MAC (event index, indirect descriptors, MRG_RXBUF, the offloads), and
	 * whether tap_fd takes offloads (TUNSETOFFLOAD); offloads_set is what it was last told.
	 */
	uint64_t features;
	bool tap_offloads;
	unsigned offloads_set;
	struct virtio_device_ops ops;      /* the type's ops with those features */
	uint64_t tx_frames, rx_frames, tx_bytes, rx_bytes, rx_dropped;
	uint64_t negotiated;               /* the driver's features when a frame last passed */
	unsigned bad_headers;              /* guest errors reported (at most a few lines) */
};

/* Open (or create, as root) tap device ifname. 0 or a negative errno. */
int virtio_net_open(struct virtio_net *net, const char *ifname);
int virtio_net_attach(struct virtio_net *net, struct pci_host *host,
		      const struct guest_memory *mem);

/* Open tap device ifname (/dev/net/tun; extra_flags: IFF_VNET_HDR or 0), non-blocking.
 * The fd, or a negative errno. */
int tap_open(const char *ifname, short extra_flags);

/*
 * Can this tap (opened with IFF_VNET_HDR) take offloaded frames? Sets its header size to
 * VNET_HDR_LEN, tries TUNSETOFFLOAD with checksum and TSO, then turns them off again until a
 * driver asks for them. 1 yes, 0 no, or a negative errno (no header size: unusable).
 */
int tap_probe_offloads(int tap_fd);

/*
 * Is a transmitted frame's header sound, given the features the driver accepted and the
 * frame's length after the header? NULL, or why not (the frame is then dropped): checksum
 * offload or a GSO type it was not offered, csum_start + csum_offset past the frame, gso_size 0 or beyond
 * the frame, a frame shorter than an Ethernet header or longer than VNET_FRAME_MAX.
 */
const char *virtio_net_hdr_check(const struct virtio_net_hdr *h, size_t frame_len,
				 uint64_t features);

/* Serve the transmit queue (the fast path's net thread, bus lock held). */
void virtio_net_transmit(struct virtio_net *net);

/* Create a persistent tap device that outlives this process (--create-tap). */
int tap_create_persistent(const char *ifname);

/* Called by the I/O thread with the bus lock held when the tap is readable: move frames
 * (header included) into the receive queue while it has buffers, spread over several chains
 * with MRG_RXBUF. Returns true if it should keep polling the
 * tap, false when the guest has no buffers left (then wait for wake_fd). */
bool virtio_net_receive(struct virtio_net *net);

/* A bare frame from a stage 5 back end (bus lock held): into the next receive buffer (or
 * buffers, with MRG_RXBUF) with a header of zeros. False when the guest has posted too few
 * buffers (the frame is dropped). */
bool virtio_net_deliver(struct virtio_net *net, const uint8_t *frame, size_t len);

#endif
