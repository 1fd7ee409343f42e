/*
 * net_config.c - parsing -netdev, -device and -nic (QEMU's syntax). See net_config.h.
 *
 * What it teaches: a front end and a back end joined by a name, and options that are checked
 * completely before anything is opened, so that a typo costs one clear line and no sockets.
 */
#include "net_config.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_NET  "10.0.2.0"
#define DEFAULT_MASK 24

static const char *const model_names[] = { [NIC_E1000] = "e1000",
					   [NIC_VIRTIO_NET] = "virtio-net-pci" };

bool net_model_known(const char *name, enum nic_model *model)
{
	for (unsigned i = 0; i < sizeof(model_names) / sizeof(model_names[0]); i++) {
		if (!strcmp(name, model_names[i])) {
			if (model)
				*model = i;
			return true;
		}
	}
	if (!strcmp(name, "virtio-net")) {   /* -nic model=virtio-net, QEMU's short name */
		if (model)
			*model = NIC_VIRTIO_NET;
		return true;
	}
	return false;
}

const char *net_model_name(enum nic_model model)
{
	return model_names[model];
}

__attribute__((format(printf, 3, 4)))
static int fail(char *why, size_t why_len, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, why_len, fmt, ap);
	va_end(ap);
	return -1;
}

bool net_parse_mac(const char *text, uint8_t mac[6])
{
	unsigned b[6];
	char end;
	if (strlen(text) != 17 ||
	    sscanf(text, "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5],
		   &end) != 6)
		return false;
	for (int i = 0; i < 6; i++) {
		if (text[3 * i + 2] != (i == 5 ? '\0' : ':'))
			return false;
		mac[i] = b[i];
	}
	return !(mac[0] & 1);   /* a card's own address is unicast */
}

static bool parse_port(const char *s, size_t n, uint16_t *port)
{
	char buf[8], *end;
	if (n == 0 || n >= sizeof(buf))
		return false;
	memcpy(buf, s, n);
	buf[n] = '\0';
	long v = strtol(buf, &end, 10);
	if (*end || v < 1 || v > 65535)
		return false;
	*port = v;
	return true;
}

static bool parse_addr(const char *s, size_t n, uint32_t *addr)
{
	char buf[INET_ADDRSTRLEN];
	if (n == 0) {
		*addr = 0;
		return true;
	}
	if (n >= sizeof(buf))
		return false;
	memcpy(buf, s, n);
	buf[n] = '\0';
	struct in_addr a;
	if (inet_pton(AF_INET, buf, &a) != 1)
		return false;
	*addr = a.s_addr;
	return true;
}

/* "ADDR:PORT" within [s, s + n). */
static bool parse_endpoint(const char *s, size_t n, uint32_t *addr, uint16_t *port)
{
	const char *colon = memchr(s, ':', n);
	if (!colon)
		return false;
	return parse_addr(s, colon - s, addr) && parse_port(colon + 1, s + n - colon - 1, port);
}

bool net_parse_hostfwd(const char *text, struct net_hostfwd *fwd)
{
	memset(fwd, 0, sizeof(*fwd));
	snprintf(fwd->text, sizeof(fwd->text), "%s", text);
	const char *rest;
	if (!strncmp(text, "tcp:", 4))
		rest = text + 4;
	else if (!strncmp(text, "udp:", 4)) {
		rest = text + 4;
		fwd->udp = true;
	} else if (text[0] == ':')
		rest = text + 1;   /* QEMU: the protocol may be left out (tcp) */
	else
		return false;
	const char *dash = strchr(rest, '-');
	if (!dash)
		return false;
	return parse_endpoint(rest, dash - rest, &fwd->host_addr, &fwd->host_port) &&
	       parse_endpoint(dash + 1, strlen(dash + 1), &fwd->guest_addr, &fwd->guest_port);
}

/* "10.0.2.0/24" or "10.0.2.0" (24 bits). */
static bool parse_net(const char *v, uint32_t *net, uint32_t *mask)
{
	const char *slash = strchr(v, '/');
	unsigned bits = DEFAULT_MASK;
	if (slash) {
		char *end;
		long b = strtol(slash + 1, &end, 10);
		if (*end || b < 8 || b > 30)
			return false;
		bits = b;
	}
	uint32_t a;
	if (!parse_addr(v, slash ? (size_t)(slash - v) : strlen(v), &a) || !a)
		return false;
	*mask = htonl(~0u << (32 - bits));
	*net = a & *mask;
	return true;
}

/* Split "first,k=v,k=v" in place; calls item() for each key=value. */
typedef int (*item_fn)(void *target, const char *key, const char *value, char *why,
		       size_t why_len);

static int each_item(char *rest, item_fn fn, void *target, char *why, size_t why_len)
{
	char *save = NULL;
	for (char *item = strtok_r(rest, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(item, '=');
		if (!eq)
			return fail(why, why_len, "'%s' is not key=value", item);
		*eq = '\0';
		if (fn(target, item, eq + 1, why, why_len))
			return -1;
	}
	return 0;
}

static int set_id(char out[NET_ID_LEN], const char *v, char *why, size_t why_len)
{
	if (!v[0] || strlen(v) >= NET_ID_LEN || strspn(v, "abcdefghijklmnopqrstuvwxyz"
		     "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.") != strlen(v))
		return fail(why, why_len, "bad id '%s'", v);
	strcpy(out, v);
	return 0;
}

static int netdev_item(void *target, const char *key, const char *v, char *why, size_t why_len)
{
	struct netdev_config *d = target;
	bool user = d->kind == NETDEV_USER;
	if (!strcmp(key, "id"))
		return set_id(d->id, v, why, why_len);
	if (!strcmp(key, "ifname") && !user) {
		if (!v[0] || strlen(v) >= sizeof(d->ifname))
			return fail(why, why_len, "bad interface name '%s'", v);
		strcpy(d->ifname, v);
		return 0;
	}
	if (!strcmp(key, "hostfwd") && user) {
		if (d->nhostfwd == NET_MAX_HOSTFWD)
			return fail(why, why_len, "at most %d hostfwd", NET_MAX_HOSTFWD);
		if (!net_parse_hostfwd(v, &d->hostfwd[d->nhostfwd]))
			return fail(why, why_len, "bad hostfwd '%s' (expected "
				    "tcp|udp:[HOSTADDR]:HOSTPORT-[GUESTADDR]:GUESTPORT)", v);
		d->nhostfwd++;
		return 0;
	}
	if (!strcmp(key, "net") && user)
		return parse_net(v, &d->net, &d->mask) ? 0 :
		       fail(why, why_len, "bad net '%s' (expected ADDR/BITS)", v);
	if (!strcmp(key, "dns") && user && (!strcmp(v, "on") || !strcmp(v, "off"))) {
		d->dns_forward = !strcmp(v, "on");   /* an explicit yes: see user.c */
		return 0;
	}
	if ((!strcmp(key, "host") || !strcmp(key, "dns")) && user)
		return parse_addr(v, strlen(v), !strcmp(key, "host") ? &d->host : &d->dns) &&
		       v[0] ? 0 : fail(why, why_len, "bad %s address '%s'", key, v);
	return fail(why, why_len, "unknown key '%s' for a %s back end", key,
		    user ? "user" : "tap");
}

static struct netdev_config *new_netdev(struct net_config *c, const char *kind, char *why,
					size_t why_len)
{
	if (c->nnetdevs == NET_MAX_NETDEVS) {
		fail(why, why_len, "at most %d network back ends", NET_MAX_NETDEVS);
		return NULL;
	}
	struct netdev_config *d = &c->netdevs[c->nnetdevs];
	memset(d, 0, sizeof(*d));
	if (!strcmp(kind, "user"))
		d->kind = NETDEV_USER;
	else if (!strcmp(kind, "tap"))
		d->kind = NETDEV_TAP;
	else {
		fail(why, why_len, "unknown back end '%s' (known: user, tap)", kind);
		return NULL;
	}
	parse_net(DEFAULT_NET, &d->net, &d->mask);
	return d;
}

static const struct netdev_config *find_netdev(const struct net_config *c, const char *id)
{
	for (unsigned i = 0; i < c->nnetdevs; i++)
		if (!strcmp(c->netdevs[i].id, id))
			return &c->netdevs[i];
	return NULL;
}

/* The back end's checks that need the whole description of it. */
static int netdev_done(struct net_config *c, struct netdev_config *d, char *why, size_t why_len)
{
	if (!d->id[0])
		return fail(why, why_len, "no id=");
	if (find_netdev(c, d->id))
		return fail(why, why_len, "id '%s' is used twice", d->id);
	if (d->kind == NETDEV_TAP && !d->ifname[0])
		return fail(why, why_len, "a tap back end needs ifname=");
	c->nnetdevs++;
	return 0;
}

int net_config_netdev(struct net_config *c, const char *text, char *why, size_t why_len)
{
	char *copy = strdup(text);
	if (!copy)
		return fail(why, why_len, "out of memory");
	char *rest = copy + strcspn(copy, ",");
	if (*rest)
		*rest++ = '\0';
	struct netdev_config *d = new_netdev(c, copy, why, why_len);
	int rc = !d || each_item(rest, netdev_item, d, why, why_len) ||
		 netdev_done(c, d, why, why_len) ? -1 : 0;
	free(copy);
	return rc;
}

static int nic_item(void *target, const char *key, const char *v, char *why, size_t why_len)
{
	struct nic_config *n = target;
	if (!strcmp(key, "netdev"))
		return set_id(n->netdev, v, why, why_len);
	if (!strcmp(key, "mac")) {
		if (!net_parse_mac(v, n->mac))
			return fail(why, why_len, "bad MAC address '%s' (expected six hex bytes "
				    "aa:bb:cc:dd:ee:ff, unicast)", v);
		n->has_mac = true;
		return 0;
	}
	if (!strcmp(key, "id") || !strcmp(key, "bus") || !strcmp(key, "addr"))
		return 0;   /* QEMU's placement keys: accepted, the card goes where it goes */
	return fail(why, why_len, "unknown key '%s' for a network card", key);
}

static struct nic_config *new_nic(struct net_config *c, char *why, size_t why_len)
{
	if (c->nnics == NET_MAX_NICS) {
		fail(why, why_len, "at most %d network cards", NET_MAX_NICS);
		return NULL;
	}
	struct nic_config *n = &c->nics[c->nnics];
	memset(n, 0, sizeof(*n));
	return n;
}

int net_config_device(struct net_config *c, const char *text, char *why, size_t why_len)
{
	char *copy = strdup(text);
	if (!copy)
		return fail(why, why_len, "out of memory");
	char *rest = copy + strcspn(copy, ",");
	if (*rest)
		*rest++ = '\0';
	struct nic_config *n = new_nic(c, why, why_len);
	int rc = -1;
	if (n && !net_model_known(copy, &n->model))
		fail(why, why_len, "'%s' is not a network card", copy);
	else if (n && !each_item(rest, nic_item, n, why, why_len)) {
		c->nnics++;
		rc = 0;
	}
	free(copy);
	return rc;
}

/* -nic: the keys of both; model= picks the card (e1000 by default, as QEMU's pc). */
struct nic_split {
	struct netdev_config *d;
	struct nic_config *n;
};

static int nic_split_item(void *target, const char *key, const char *v, char *why,
			  size_t why_len)
{
	struct nic_split *s = target;
	if (!strcmp(key, "model")) {
		if (!net_model_known(v, &s->n->model))
			return fail(why, why_len, "unknown model '%s' (known: e1000, "
				    "virtio-net-pci)", v);
		return 0;
	}
	if (!strcmp(key, "mac"))
		return nic_item(s->n, key, v, why, why_len);
	return netdev_item(s->d, key, v, why, why_len);
}

int net_config_nic(struct net_config *c, const char *text, char *why, size_t why_len)
{
	if (!strcmp(text, "none"))
		return 0;   /* QEMU's "-nic none": no card (this VMM adds none by default anyway) */
	char *copy = strdup(text);
	if (!copy)
		return fail(why, why_len, "out of memory");
	char *rest = copy + strcspn(copy, ",");
	if (*rest)
		*rest++ = '\0';
	struct nic_split s = { new_netdev(c, copy, why, why_len), new_nic(c, why, why_len) };
	int rc = -1;
	if (s.d && s.n) {
		snprintf(s.d->id, sizeof(s.d->id), "nic%u", c->nnics);
		if (!each_item(rest, nic_split_item, &s, why, why_len) &&
		    !netdev_done(c, s.d, why, why_len)) {
			strcpy(s.n->netdev, s.d->id);
			c->nnics++;
			rc = 0;
		}
	}
	free(copy);
	return rc;
}

int net_config_finish(struct net_config *c, char *why, size_t why_len)
{
	for (unsigned i = 0; i < c->nnetdevs; i++)
		c->netdevs[i].used = false;   /* (a second call checks again) */
	for (unsigned i = 0; i < c->nnics; i++) {
		struct nic_config *n = &c->nics[i];
		if (!n->netdev[0]) {   /* a bare card: a user-mode back end of its own */
			char text[NET_ID_LEN + 16];
			snprintf(text, sizeof(text), "user,id=%s.%u", net_model_name(n->model), i);
			if (net_config_netdev(c, text, why, why_len))
				return -1;
			strcpy(n->netdev, c->netdevs[c->nnetdevs - 1].id);
		}
		struct netdev_config *d = (struct netdev_config *)find_netdev(c, n->netdev);
		if (!d)
			return fail(why, why_len, "%s: netdev=%s: no -netdev with that id",
				    net_model_name(n->model), n->netdev);
		if (d->used)
			return fail(why, why_len, "%s: netdev=%s already serves another card",
				    net_model_name(n->model), n->netdev);
		d->used = true;
	}
	for (unsigned i = 0; i < c->nnetdevs; i++)
		if (!c->netdevs[i].used)
			fprintf(stderr, "minivisor: warning: -netdev %s: no card uses it\n",
				c->netdevs[i].id);
	return 0;
}
