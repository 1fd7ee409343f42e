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
 */
#ifndef VIRTIO_NET_H
#define VIRTIO_NET_H

#include "virtio_pci.h"

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
};

/* Open (or create, as root) tap device ifname. 0 or a negative errno. */
int virtio_net_open(struct virtio_net *net, const char *ifname);
int virtio_net_attach(struct virtio_net *net, struct pci_host *host,
		      const struct guest_memory *mem);

/* Open tap device ifname (/dev/net/tun; extra_flags: IFF_VNET_HDR or 0), non-blocking.
 * The fd, or a negative errno. */
int tap_open(const char *ifname, short extra_flags);

/* Create a persistent tap device that outlives this process (--create-tap). */
int tap_create_persistent(const char *ifname);

/* Called by the I/O thread with the bus lock held when the tap is readable: move frames
 * into the receive queue while it has buffers. Returns true if it should keep polling the
 * tap, false when the guest has no buffers left (then wait for wake_fd). */
bool virtio_net_receive(struct virtio_net *net);

/* A bare frame from a stage 5 back end (bus lock held): into the next receive buffer with a
 * header of zeros. False when the guest has posted no buffer (the frame is dropped). */
bool virtio_net_deliver(struct virtio_net *net, const uint8_t *frame, size_t len);

#endif
