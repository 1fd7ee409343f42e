/*
 * net_config.h - how the network is described: QEMU's -netdev, -device and -nic options.
 *
 * QEMU separates the card the guest sees (the front end: -device e1000) from where its frames
 * go on the host (the back end: -netdev user or tap), joined by an id:
 *
 *   -netdev user,id=n0[,net=10.0.2.0/24][,host=10.0.2.2][,dns=10.0.2.3][,dns=on]
 *           [,hostfwd=tcp:127.0.0.1:2222-:22]...      user-mode networking (libslirp)
 *           dns=on: forward the guest's DNS queries (to the dns address) to the resolver in
 *           the host's /etc/resolv.conf; off by default (no query leaves unless asked)
 *   -netdev tap,id=n0,ifname=tap0                      a host tap device (needs permission)
 *   -device e1000,netdev=n0[,mac=52:54:00:12:34:56]    Intel 82540EM
 *   -device virtio-net-pci,netdev=n0[,mac=...]         stage 4's virtio-net
 *   -nic user[,model=e1000|virtio-net-pci][,mac=..][,hostfwd=..]   both at once
 *   -nic none                                          no card (as without any of these)
 *
 * A card without netdev= gets a user-mode back end of its own (what `-nic user` gives). YAML:
 *   network: - { backend: user|tap, model: e1000|virtio-net-pci, mac: .., hostfwd: .., ... }
 * each entry being one -nic.
 *
 * This file only parses and checks names; net.h opens the back ends and builds the cards.
 */
#ifndef NET_CONFIG_H
#define NET_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NET_MAX_NETDEVS 4
#define NET_MAX_NICS 4
#define NET_MAX_HOSTFWD 8
#define NET_ID_LEN 32

enum netdev_kind { NETDEV_USER, NETDEV_TAP };
enum nic_model { NIC_E1000, NIC_VIRTIO_NET };

/* hostfwd=tcp:HOSTADDR:HOSTPORT-GUESTADDR:GUESTPORT (addresses may be empty). */
struct net_hostfwd {
	bool udp;
	uint32_t host_addr;           /* network order; 0: any (QEMU's default) */
	uint16_t host_port;
	uint32_t guest_addr;          /* network order; 0: the first DHCP address */
	uint16_t guest_port;
	char text[64];                /* as written, for messages */
};

struct netdev_config {
	enum netdev_kind kind;
	char id[NET_ID_LEN];
	/* user */
	uint32_t net, mask;           /* network order: 10.0.2.0/24 by default */
	uint32_t host, dns;           /* 0: net + 2, net + 3 */
	bool dns_forward;             /* dns=on: slirp forwards DNS to the host's resolver */
	struct net_hostfwd hostfwd[NET_MAX_HOSTFWD];
	unsigned nhostfwd;
	/* tap */
	char ifname[16];
	bool used;                    /* a card names it */
};

struct nic_config {
	enum nic_model model;
	char netdev[NET_ID_LEN];
	uint8_t mac[6];
	bool has_mac;                 /* else 52:54:00:12:34:56 + the card's number */
};

struct net_config {
	struct netdev_config netdevs[NET_MAX_NETDEVS];
	unsigned nnetdevs;
	struct nic_config nics[NET_MAX_NICS];
	unsigned nnics;
	/* --simple-virtio: virtio-net as stage 4 first built it (kicks handled on the vCPU
	 * thread, bare frames, no event index, mergeable buffers or offloads). */
	bool simple_virtio;
};

/* Each 0, or -1 with one line in why (without the flag's name: the caller adds it). */
int net_config_netdev(struct net_config *c, const char *text, char *why, size_t why_len);
/* -device MODEL,... ; model is the text's first item. */
int net_config_device(struct net_config *c, const char *text, char *why, size_t why_len);
int net_config_nic(struct net_config *c, const char *text, char *why, size_t why_len);
/* After all options: every card's netdev exists (cards without one get a user back end),
 * and no back end serves two cards. */
int net_config_finish(struct net_config *c, char *why, size_t why_len);

/* Is name a network card this VMM has ("e1000", "virtio-net-pci")? */
bool net_model_known(const char *name, enum nic_model *model);
const char *net_model_name(enum nic_model model);
/* "52:54:00:12:34:56" -> bytes; false when malformed or multicast. */
bool net_parse_mac(const char *text, uint8_t mac[6]);
bool net_parse_hostfwd(const char *text, struct net_hostfwd *fwd);

#endif
