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
};

/* Open (or create, as root) tap device ifname. 0 or a negative errno. */
int virtio_net_open(struct virtio_net *net, const char *ifname);
int virtio_net_attach(struct virtio_net *net, struct pci_host *host,
		      const struct guest_memory *mem);

/* Create a persistent tap device that outlives this process (--create-tap). */
int tap_create_persistent(const char *ifname);

/* Called by the I/O thread with the bus lock held when the tap is readable: move frames
 * into the receive queue while it has buffers. Returns true if it should keep polling the
 * tap, false when the guest has no buffers left (then wait for wake_fd). */
bool virtio_net_receive(struct virtio_net *net);

#endif
