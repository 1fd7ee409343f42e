/*
 * net.h - the machine's network: cards (e1000, virtio-net) joined to back ends (user, tap).
 *
 * A back end moves bare Ethernet frames between a card and the host, behind two calls:
 *
 *   card -> back end   netdev_send(): the guest transmitted a frame (vCPU thread, bus lock held)
 *   back end -> card   nic->receive(): a frame arrived for the guest (net thread, bus lock held)
 *
 *   user  libslirp: a TCP/IP stack in this process that answers the guest's DHCP and ARP and
 *         turns its TCP and UDP flows into ordinary sockets of this process (10.0.2.2 is the
 *         host's loopback); hostfwd= listens on a host port and connects into the guest. No
 *         privileges needed. DNS is not forwarded to the host's resolver: a guest may point
 *         its resolver at 10.0.2.2, which is the host's 127.0.0.1.
 *   tap   a host tap device: frames go to the host kernel's network stack (needs permission).
 *
 * The net thread waits on every back end's descriptors (slirp's sockets, the tap) and slirp's
 * timers, and delivers under the bus lock; the vCPU thread that transmits wakes it, since a
 * frame can open a socket the thread must then watch.
 *
 * virtio-net's fast path (the default; -simple-virtio turns it off): the queues' kicks are
 * eventfds that KVM signals itself (ioeventfd), and the net thread waits on them too, so the
 * vCPU never leaves the guest to transmit. On a tap the card reads and writes the tap itself,
 * with the virtio header (IFF_VNET_HDR): straight between guest buffers and the host kernel,
 * with the offloads the tap takes.
 */
#ifndef NET_H
#define NET_H

#include <poll.h>
#include <pthread.h>
#include <stdbool.h>

#include "net_config.h"
#include "bus.h"
#include "e1000.h"
#include "guest_error.h"
#include "guest_memory.h"
#include "pci.h"
#include "virtio_net.h"

struct net_user;   /* user.c's state: the Slirp instance and its timers */

/* A card as a back end sees it. */
struct net_nic {
	void (*receive)(void *nic, const uint8_t *frame, size_t len);
	void *opaque;
};

struct netdev {
	const struct netdev_config *cfg;
	struct net_nic nic;
	struct net_user *user;       /* user; NULL otherwise */
	int tap_fd;                  /* tap; -1 otherwise */
	bool vnet_hdr;               /* the tap carries virtio headers: its card is virtio-net */
	bool tap_offloads;           /* ... and it takes checksum and TSO offloads */
	struct net_virtio *direct;   /* that card, which reads the tap itself (fast path) */
	int wake_fd;                 /* the net thread's eventfd */
	uint64_t tx_frames, rx_frames;
	struct guest_errors errors;  /* slirp's complaints about the guest, up to a limit */
};

/* A virtio-net card and what the lesson counts of it (its BAR's accesses pass through here). */
struct net_virtio {
	struct virtio_net net;
	struct netdev *netdev;
	const struct bus_ops *ops;   /* the transport's own handlers */
	uint64_t accesses, accesses_setup;
	bool fast;                   /* kicks come to the net thread through eventfds */
	bool rx_wanted;              /* the guest may have receive buffers: read the tap */
};

struct pc_net {
	struct netdev devs[NET_MAX_NETDEVS];
	unsigned ndevs;
	struct e1000 *e1000[NET_MAX_NICS];
	struct net_virtio *virtio[NET_MAX_NICS];
	unsigned nnics;
	const struct net_config *cfg;
	pthread_mutex_t *lock;       /* the bus lock */
	int wake_fd, stop_fd;
	pthread_t thread;
	bool running;
};

/* Open the back ends (slirp with its host forwards, taps): before the VM exists, so a port
 * in use or a tap without permission costs one line. 0, or a negative errno with why. */
int net_open(struct pc_net *net, const struct net_config *cfg, char *why, size_t why_len);

/* The cards on the PCI bus, from slot first_slot up, INTx through the chipset's routing. */
int net_attach(struct pc_net *net, struct io_bus *bus, struct pci_host *pci,
	       const struct guest_memory *mem, int vm_fd, unsigned first_slot, char *why,
	       size_t why_len);
/* Take the cards away (their statistics line first): the machine is torn down for a reset. */
void net_detach(struct pc_net *net);

/* A frame from a card to its back end (bus lock held). */
void netdev_send(void *netdev, const uint8_t *frame, size_t len);

/* What the net thread waits on in one round. */
#define NET_MAX_POLL_FDS 256
struct net_poll_set {
	struct pollfd fds[NET_MAX_POLL_FDS];
	unsigned n;
};
/* Add fd; its index, or -1 when the set is full. */
int net_poll_add(struct net_poll_set *set, int fd, short events);
void net_wake(int eventfd);

/* The user back end (user.c; user_none.c in the static build). */
int user_open(struct netdev *d, char *why, size_t why_len);
void user_input(struct netdev *d, const uint8_t *frame, size_t len);
/* Run due timers, add its descriptors; returns the wait in ms (at most timeout). */
uint32_t user_fill(struct netdev *d, struct net_poll_set *set, uint32_t timeout);
void user_poll(struct netdev *d, struct net_poll_set *set, bool poll_failed);
void user_close(struct netdev *d);
/*
 * Migration (migration/vmstate.c): libslirp's own state - the DHCP leases it gave, its IP
 * id counter and guest-forward sockets - as bytes (a u32 slirp_state_version(), then
 * slirp_state_save()'s output), malloc'ed; and back. The host sockets of TCP connections
 * cannot move to another process: those connections end, hostfwd listeners are the
 * destination's own (its command line). 0, or a negative errno with one line in why.
 */
int user_state_save(struct netdev *d, uint8_t **out, uint32_t *len, char *why, size_t why_len);
int user_state_load(struct netdev *d, const uint8_t *p, uint32_t len, char *why, size_t why_len);

/* The net thread: start (with the bus lock it takes to touch the cards), stop. */
int net_start(struct pc_net *net, pthread_mutex_t *lock);
void net_stop(struct pc_net *net);
void net_close(struct pc_net *net);

#endif
