/*
 * config.c - command-line flags and YAML machine files (libyaml's document API). See config.h.
 *
 * libyaml parses the whole file into a tree of nodes, each with the line it started on
 * (start_mark), which is what an error message needs: the file, the line, the key.
 */
#define _GNU_SOURCE   /* asprintf */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stddef.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "block/block.h"

static const char *const machines[] = { "pc", "q35" };
static const char *const devices[] = { "serial" };   /* built in; more come with stage 5 */

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

static bool in_list(const char *const *list, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(list[i], name) == 0)
			return true;
	return false;
}

bool config_machine_known(const char *name)
{
	return in_list(machines, ARRAY_LEN(machines), name);
}

bool config_device_known(const char *name)
{
	return in_list(devices, ARRAY_LEN(devices), name);
}

void config_defaults(struct vmm_config *c)
{
	memset(c, 0, sizeof(*c));
	c->machine = "pc";
	c->mem_size = (uint64_t)DEFAULT_MEM_MIB << 20;
	c->ncpus = 1;
	c->bios = DEFAULT_BIOS;
	c->linuxboot = DEFAULT_LINUXBOOT;
	c->cmdline = DEFAULT_CMDLINE;
	c->kvm_path = "/dev/kvm";
	c->vga = -1;     /* not said: config_vga() decides */
	c->vgabios = DEFAULT_VGABIOS;
}

/* "std" or "none" (QEMU's -vga takes more names; this machine has the one adapter). */
static int vga_option(struct vmm_config *c, const char *v, char *why, size_t why_len)
{
	if (strcmp(v, "std") && strcmp(v, "none")) {
		snprintf(why, why_len, "unknown VGA '%s' (known: std, none)", v);
		return -1;
	}
	c->vga = !strcmp(v, "std");
	return 0;
}

bool config_vga(const struct vmm_config *c)
{
	if (c->vga >= 0)
		return c->vga;
	return c->vnc || c->screendump;   /* not -monitor: the manager gives it to every VM */
}

/* ---- drives: the same keys for -drive and YAML ------------------------------------------ */

static bool parse_bool(const char *v, bool *out)
{
	if (!strcmp(v, "on") || !strcmp(v, "true") || !strcmp(v, "yes")) {
		*out = true;
		return true;
	}
	if (!strcmp(v, "off") || !strcmp(v, "false") || !strcmp(v, "no")) {
		*out = false;
		return true;
	}
	return false;
}

/* One "key=value" of a drive. 0, or -1 with the problem in why (the caller adds where). */
static int drive_option(struct drive_config *d, const char *key, const char *v, char *why,
			size_t why_len)
{
	if (!strcmp(key, "file")) {
		d->file = v;
	} else if (!strcmp(key, "if") || !strcmp(key, "interface")) {
		if (!strcmp(v, "pflash")) {
			d->interface = DRIVE_IF_PFLASH;
			return 0;
		}
		if (!strcmp(v, "none")) {   /* a device's disk: -device usb-storage,drive=ID */
			d->interface = DRIVE_IF_NONE;
			return 0;
		}
		if (strcmp(v, "ide") && strcmp(v, "ahci") && strcmp(v, "sata"))
			goto bad;
		d->interface = strcmp(v, "ide") ? DRIVE_IF_AHCI : DRIVE_IF_IDE;
	} else if (!strcmp(key, "media")) {
		if (strcmp(v, "disk") && strcmp(v, "cdrom"))
			goto bad;
		d->cdrom = !strcmp(v, "cdrom");
	} else if (!strcmp(key, "format")) {
		if (strcmp(v, "raw") && strcmp(v, "qcow2"))
			goto bad;
		d->format = strcmp(v, "raw") ? BLOCK_FORMAT_QCOW2 : BLOCK_FORMAT_RAW;
	} else if (!strcmp(key, "index")) {
		char *end;
		long n = strtol(v, &end, 10);
		if (*end || end == v || n < 0 || n >= MAX_DRIVES)
			goto bad;
		d->index = n;
	} else if (!strcmp(key, "unit")) {
		if (strcmp(v, "0") && strcmp(v, "1"))
			goto bad;   /* flash units only: 0 the code, 1 the variables */
		d->unit = v[0] - '0';
	} else if (!strcmp(key, "readonly")) {
		if (!parse_bool(v, &d->readonly))
			goto bad;
	} else if (!strcmp(key, "id")) {
		if (!*v)
			goto bad;
		d->id = v;
	} else {
		snprintf(why, why_len, "unknown drive option '%s' (known: file, if, media, format, "
			 "index, readonly, unit, id)", key);
		return -1;
	}
	return 0;
bad:
	snprintf(why, why_len, "drive option '%s': bad value '%s'", key, v);
	return -1;
}

static struct drive_config *new_drive(struct vmm_config *c)
{
	if (c->ndrives == MAX_DRIVES)
		return NULL;
	struct drive_config *d = &c->drives[c->ndrives++];
	*d = (struct drive_config){ .index = -1, .unit = -1 };
	return d;
}

/*
 * Later settings win: a drive given an index that an earlier drive was given replaces it, so
 * `-config m.yaml -drive file=copy.qcow2,index=0` swaps the described disk for another.
 */
static void replace_same_index(struct vmm_config *c)
{
	struct drive_config *last = &c->drives[c->ndrives - 1];
	for (unsigned i = 0; last->index >= 0 && i + 1 < c->ndrives; i++) {
		if (c->drives[i].index == last->index) {
			c->drives[i] = *last;
			c->ndrives--;
			return;
		}
	}
}

/* "order=d,reboot-timeout=-1", or QEMU's short form "d". 0, or -1 with why. */
static int boot_option(struct vmm_config *c, const char *key, const char *v, char *why,
		       size_t why_len)
{
	if (!strcmp(key, "order")) {
		if (strcmp(v, "c") && strcmp(v, "d") && strcmp(v, "cd") && strcmp(v, "dc"))
			goto bad;
		c->boot_order = v[0];
	} else if (!strcmp(key, "reboot-timeout")) {
		char *end;
		long long ms = strtoll(v, &end, 10);
		if (*end || end == v || ms < -1 || ms > 0xffff)
			goto bad;
		c->reboot_timeout_ms = ms;
	} else if (!strcmp(key, "no-reboot")) {   /* YAML boot.no-reboot; the flag: -no-reboot */
		if (!parse_bool(v, &c->no_reboot))
			goto bad;
	} else {
		snprintf(why, why_len, "unknown boot option '%s' (known: order, reboot-timeout, "
			 "no-reboot)", key);
		return -1;
	}
	return 0;
bad:
	snprintf(why, why_len, "boot option '%s': bad value '%s'", key, v);
	return -1;
}

uint64_t config_parse_mem(const char *text)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(text, &end, 10);
	if (end == text || errno || text[0] == '-')
		return 0;
	unsigned shift = 20;   /* a bare number is MiB, as in QEMU */
	switch (toupper((unsigned char)*end)) {
	case '\0': break;
	case 'K': shift = 10; end++; break;
	case 'M': shift = 20; end++; break;
	case 'G': shift = 30; end++; break;
	default: return 0;
	}
	if (*end == 'B' || *end == 'b')
		end++;
	if (*end || v == 0 || v > (1ull << (63 - shift)))
		return 0;
	return v << shift;
}

/* ---- YAML ------------------------------------------------------------------------------ */

struct yaml_ctx {
	struct vmm_config *c;
	const char *name;
	yaml_document_t *doc;
	yaml_node_t *key;         /* the key being set: where "unknown key" errors point */
	char *why;
	size_t why_len;
};

__attribute__((format(printf, 3, 4)))
static int yerr(struct yaml_ctx *y, const yaml_node_t *node, const char *fmt, ...)
{
	int n = snprintf(y->why, y->why_len, "%s:%zu: ", y->name, node->start_mark.line + 1);
	va_list ap;
	va_start(ap, fmt);
	if (n >= 0 && (size_t)n < y->why_len)
		vsnprintf(y->why + n, y->why_len - n, fmt, ap);
	va_end(ap);
	return -1;
}

static const char *scalar(const yaml_node_t *n)
{
	return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

/* A path from the file: relative ones are relative to the file's directory. */
static const char *path_value(struct yaml_ctx *y, const char *v)
{
	const char *slash = strrchr(y->name, '/');
	if (v[0] == '/' || !slash)
		return strdup(v);
	char *p;
	if (asprintf(&p, "%.*s/%s", (int)(slash - y->name), y->name, v) < 0)
		return NULL;
	return p;
}

static int want_scalar(struct yaml_ctx *y, const char *key, yaml_node_t *v, const char **out)
{
	*out = scalar(v);
	if (!*out)
		return yerr(y, v, "key '%s': expected a single value", key);
	return 0;
}

/* The string settings inside a section: where each goes, and whether it names a file. */
struct string_key {
	const char *section, *key;
	size_t offset;     /* in struct vmm_config */
	bool path;
};

static const struct string_key string_keys[] = {
	{ "firmware", "bios", offsetof(struct vmm_config, bios), true },
	{ "firmware", "linuxboot", offsetof(struct vmm_config, linuxboot), true },
	{ "firmware", "debug-log", offsetof(struct vmm_config, debug_log), true },
	{ "firmware", "code", offsetof(struct vmm_config, flash_code), true },
	{ "firmware", "vars", offsetof(struct vmm_config, flash_vars), true },
	{ "kernel", "image", offsetof(struct vmm_config, kernel), true },
	{ "kernel", "initrd", offsetof(struct vmm_config, initrd), true },
	{ "kernel", "cmdline", offsetof(struct vmm_config, cmdline), false },
	{ "display", "vgabios", offsetof(struct vmm_config, vgabios), true },
	{ "display", "vnc", offsetof(struct vmm_config, vnc), false },
	{ "display", "screendump", offsetof(struct vmm_config, screendump), true },
	{ "display", "monitor", offsetof(struct vmm_config, monitor), true },
};

static int set_string(struct yaml_ctx *y, const char *section, const char *key, yaml_node_t *v)
{
	char known[128] = "";
	for (size_t i = 0; i < ARRAY_LEN(string_keys); i++) {
		const struct string_key *k = &string_keys[i];
		if (strcmp(k->section, section))
			continue;
		if (strcmp(k->key, key)) {
			snprintf(known + strlen(known), sizeof(known) - strlen(known), "%s%s",
				 known[0] ? ", " : "", k->key);
			continue;
		}
		const char *s;
		if (want_scalar(y, key, v, &s))
			return -1;
		/* "stderr" for the debug log is a place, not a file name. */
		bool file = k->path && strcmp(s, "stderr") && strcmp(s, "stdio");
		*(const char **)((char *)y->c + k->offset) = file ? path_value(y, s) : strdup(s);
		return 0;
	}
	return yerr(y, y->key, "unknown key '%s.%s' (known: %s)", section, key, known);
}

static int set_firmware(struct yaml_ctx *y, const char *key, yaml_node_t *v)
{
	return set_string(y, "firmware", key, v);
}

static int set_kernel(struct yaml_ctx *y, const char *key, yaml_node_t *v)
{
	return set_string(y, "kernel", key, v);
}

static int set_display(struct yaml_ctx *y, const char *key, yaml_node_t *v)
{
	static const char *const keys[] = { "vgabios", "vnc", "screendump", "monitor" };
	if (strcmp(key, "vga") && !in_list(keys, ARRAY_LEN(keys), key))
		return yerr(y, y->key, "unknown key 'display.%s' (known: vga, vgabios, vnc, "
			    "screendump, monitor)", key);
	if (strcmp(key, "vga"))
		return set_string(y, "display", key, v);
	const char *s;
	char problem[256];
	if (want_scalar(y, key, v, &s))
		return -1;
	if (vga_option(y->c, s, problem, sizeof(problem)))
		return yerr(y, v, "key 'display.vga': %s", problem);
	return 0;
}

typedef int (*section_fn)(struct yaml_ctx *y, const char *key, yaml_node_t *v);

static int each_pair(struct yaml_ctx *y, const char *section, yaml_node_t *map, section_fn fn)
{
	if (map->type != YAML_MAPPING_NODE)
		return yerr(y, map, "key '%s': expected a mapping of keys to values", section);
	for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
	     p++) {
		yaml_node_t *k = yaml_document_get_node(y->doc, p->key);
		yaml_node_t *v = yaml_document_get_node(y->doc, p->value);
		if (!scalar(k))
			return yerr(y, k, "in '%s': a key must be a plain name", section);
		y->key = k;
		if (fn(y, scalar(k), v))
			return -1;
	}
	return 0;
}

static int set_devices(struct yaml_ctx *y, yaml_node_t *v)
{
	if (v->type != YAML_SEQUENCE_NODE)
		return yerr(y, v, "key 'devices': expected a list of device names");
	for (yaml_node_item_t *i = v->data.sequence.items.start; i < v->data.sequence.items.top;
	     i++) {
		yaml_node_t *d = yaml_document_get_node(y->doc, *i);
		const char *name = scalar(d);
		if (!name)
			return yerr(y, d, "key 'devices': each entry must be a device name");
		if (!config_device_known(name))
			return yerr(y, d, "key 'devices': unknown device '%s' (known: serial)",
				    name);
	}
	return 0;
}

/* A drive option from YAML: the file is relative to the YAML file, errors get file:line. */
static int set_drive_key(struct yaml_ctx *y, const char *key, yaml_node_t *v)
{
	struct drive_config *d = &y->c->drives[y->c->ndrives - 1];
	const char *s;
	char problem[256];
	if (want_scalar(y, key, v, &s))
		return -1;
	if (!strcmp(key, "file"))
		s = path_value(y, s);
	if (drive_option(d, key, s, problem, sizeof(problem)))
		return yerr(y, v, "key 'drives': %s", problem);
	return 0;
}

static int set_drives(struct yaml_ctx *y, yaml_node_t *v)
{
	if (v->type != YAML_SEQUENCE_NODE)
		return yerr(y, v, "key 'drives': expected a list of drives");
	for (yaml_node_item_t *i = v->data.sequence.items.start; i < v->data.sequence.items.top;
	     i++) {
		yaml_node_t *d = yaml_document_get_node(y->doc, *i);
		if (!new_drive(y->c))
			return yerr(y, d, "key 'drives': at most %d drives", MAX_DRIVES);
		if (each_pair(y, "drives", d, set_drive_key))
			return -1;
		if (!y->c->drives[y->c->ndrives - 1].file)
			return yerr(y, d, "key 'drives': a drive needs a 'file'");
		const struct drive_config *last = &y->c->drives[y->c->ndrives - 1];
		if (last->interface == DRIVE_IF_PFLASH || last->unit >= 0)
			return yerr(y, d, "key 'drives': the firmware's flash is firmware.code and "
				    "firmware.vars, not a drive");
		replace_same_index(y->c);
	}
	return 0;
}

static int set_boot_key(struct yaml_ctx *y, const char *key, yaml_node_t *v)
{
	const char *s;
	char problem[256];
	if (want_scalar(y, key, v, &s))
		return -1;
	if (boot_option(y->c, key, s, problem, sizeof(problem)))
		return yerr(y, v, "key 'boot': %s", problem);
	return 0;
}

/* One network: entry, a map of -nic's keys ("backend" first): turned into -nic's text. */
static int set_network_entry(struct yaml_ctx *y, yaml_node_t *map)
{
	if (map->type != YAML_MAPPING_NODE)
		return yerr(y, map, "key 'network': each entry must be a map (backend, model, ...)");
	char text[512] = "user", rest[480] = "", problem[256];
	for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
	     p++) {
		const char *k = scalar(yaml_document_get_node(y->doc, p->key));
		const char *v = scalar(yaml_document_get_node(y->doc, p->value));
		if (!k || !v)
			return yerr(y, map, "key 'network': values must be scalars");
		if (!strcmp(k, "backend"))
			snprintf(text, sizeof(text), "%s", v);
		else
			snprintf(rest + strlen(rest), sizeof(rest) - strlen(rest), ",%s=%s", k, v);
	}
	snprintf(text + strlen(text), sizeof(text) - strlen(text), "%s", rest);
	if (net_config_nic(&y->c->net, text, problem, sizeof(problem)))
		return yerr(y, map, "key 'network': %s", problem);
	return 0;
}

static int set_network(struct yaml_ctx *y, yaml_node_t *v)
{
	if (v->type != YAML_SEQUENCE_NODE)
		return yerr(y, v, "key 'network': expected a list of network cards");
	for (yaml_node_item_t *i = v->data.sequence.items.start; i < v->data.sequence.items.top;
	     i++)
		if (set_network_entry(y, yaml_document_get_node(y->doc, *i)))
			return -1;
	return 0;
}

/* usb.devices: entry: a name (usb-tablet) or a map (type, file, format, readonly, port). */
static int set_usb_device(struct yaml_ctx *y, yaml_node_t *d)
{
	char problem[256];
	const char *name = scalar(d);
	if (name) {
		if (!strcmp(name, "usb-storage"))
			return yerr(y, d, "key 'usb.devices': usb-storage needs a map with a 'file'");
		if (!usb_config_add(&y->c->usb, name, problem, sizeof(problem)))
			return yerr(y, d, "key 'usb.devices': %s", problem);
		return 0;
	}
	if (d->type != YAML_MAPPING_NODE)
		return yerr(y, d, "key 'usb.devices': each entry is a name or a map");
	struct drive_config drive = { .index = -1, .unit = -1 };
	const char *type = NULL, *port = NULL, *bootindex = NULL;
	for (yaml_node_pair_t *p = d->data.mapping.pairs.start; p < d->data.mapping.pairs.top; p++) {
		const char *k = scalar(yaml_document_get_node(y->doc, p->key));
		const char *v = scalar(yaml_document_get_node(y->doc, p->value));
		if (!k || !v)
			return yerr(y, d, "key 'usb.devices': values must be scalars");
		if (!strcmp(k, "type"))
			type = v;
		else if (!strcmp(k, "port"))
			port = v;
		else if (!strcmp(k, "bootindex"))
			bootindex = v;
		else if (strcmp(k, "file") && strcmp(k, "format") && strcmp(k, "readonly"))
			return yerr(y, d, "key 'usb.devices': unknown key '%s' (known: type, file, "
				    "format, readonly, port, bootindex)", k);
		else if (drive_option(&drive, k, !strcmp(k, "file") ? path_value(y, v) : v,
				      problem, sizeof(problem)))
			return yerr(y, d, "key 'usb.devices': %s", problem);
	}
	struct usb_device_config *dev = type ? usb_config_add(&y->c->usb, type, problem,
							      sizeof(problem)) : NULL;
	if (!dev)
		return yerr(y, d, "key 'usb.devices': %s", type ? problem : "an entry needs 'type'");
	if (dev->kind == USB_DEV_STORAGE && !drive.file)
		return yerr(y, d, "key 'usb.devices': usb-storage needs a 'file'");
	dev->file = drive.file;
	dev->format = drive.format;
	dev->readonly = drive.readonly;
	if (port && (port[0] < '1' || port[0] > '4' || port[1]))
		return yerr(y, d, "key 'usb.devices': port %s: the USB 2 ports are 1 to 4", port);
	dev->port = port ? port[0] - '0' : 0;
	char *end = NULL;
	long bi = bootindex ? strtol(bootindex, &end, 10) : -1;
	if (bootindex && (*end || end == bootindex || bi < 0 || bi > 999))
		return yerr(y, d, "key 'usb.devices': bootindex %s: a number 0 to 999", bootindex);
	dev->bootindex = bi;
	return 0;
}

static int set_usb_key(struct yaml_ctx *y, const char *key, yaml_node_t *v)
{
	if (!strcmp(key, "devices")) {
		if (v->type != YAML_SEQUENCE_NODE)
			return yerr(y, v, "key 'usb.devices': expected a list of devices");
		for (yaml_node_item_t *i = v->data.sequence.items.start;
		     i < v->data.sequence.items.top; i++)
			if (set_usb_device(y, yaml_document_get_node(y->doc, *i)))
				return -1;
		return 0;
	}
	const char *s;
	if (strcmp(key, "controller"))
		return yerr(y, y->key, "unknown key 'usb.%s' (known: controller, devices)", key);
	if (want_scalar(y, key, v, &s))
		return -1;
	if (strcmp(s, "xhci") && strcmp(s, "qemu-xhci") && strcmp(s, "uhci") && strcmp(s, "none"))
		return yerr(y, v, "key 'usb.controller': unknown controller '%s' (known: xhci, "
			    "uhci, none)", s);
	y->c->usb.controller = !strcmp(s, "none") ? USB_CONTROLLER_NONE :
			       !strcmp(s, "uhci") ? USB_CONTROLLER_UHCI : USB_CONTROLLER_XHCI;
	return 0;
}

/* vfio: - { host: 0000:00:03.0, mmap: false }: each entry is one -device vfio-pci (vfio.h). */
static int set_vfio(struct yaml_ctx *y, yaml_node_t *v)
{
	if (v->type != YAML_SEQUENCE_NODE)
		return yerr(y, v, "key 'vfio': expected a list of devices ({ host: DDDD:BB:DD.F })");
	for (yaml_node_item_t *i = v->data.sequence.items.start; i < v->data.sequence.items.top;
	     i++) {
		yaml_node_t *map = yaml_document_get_node(y->doc, *i);
		char text[128] = "", problem[256];
		if (map->type != YAML_MAPPING_NODE)
			return yerr(y, map, "key 'vfio': each entry must be a map (host, mmap)");
		for (yaml_node_pair_t *p = map->data.mapping.pairs.start;
		     p < map->data.mapping.pairs.top; p++) {
			const char *k = scalar(yaml_document_get_node(y->doc, p->key));
			const char *val = scalar(yaml_document_get_node(y->doc, p->value));
			size_t n = strlen(text);
			if (!k || !val)
				return yerr(y, map, "key 'vfio': values must be scalars");
			if (!strcmp(k, "host"))
				snprintf(text + n, sizeof(text) - n, ",host=%s", val);
			else if (!strcmp(k, "mmap") && (!strcmp(val, "true") || !strcmp(val, "false")))
				snprintf(text + n, sizeof(text) - n, ",x-no-mmap=%s",
					 strcmp(val, "true") ? "on" : "off");
			else
				return yerr(y, map, "key 'vfio': unknown key '%s' (known: host, "
					    "mmap: true|false)", k);
		}
		if (vfio_config_device(&y->c->vfio, text + (text[0] == ','), problem,
				       sizeof(problem)))
			return yerr(y, map, "key 'vfio': %s", problem);
	}
	return 0;
}

static int set_top(struct yaml_ctx *y, const char *key, yaml_node_t *v)
{
	const char *s = scalar(v);
	struct vmm_config *c = y->c;
	if (strcmp(key, "firmware") == 0)
		return each_pair(y, key, v, set_firmware);
	if (strcmp(key, "kernel") == 0)
		return each_pair(y, key, v, set_kernel);
	if (strcmp(key, "devices") == 0)
		return set_devices(y, v);
	if (strcmp(key, "drives") == 0)
		return set_drives(y, v);
	if (strcmp(key, "boot") == 0)
		return each_pair(y, key, v, set_boot_key);
	if (strcmp(key, "display") == 0)
		return each_pair(y, key, v, set_display);
	if (strcmp(key, "network") == 0)
		return set_network(y, v);
	if (strcmp(key, "usb") == 0)
		return each_pair(y, key, v, set_usb_key);
	if (strcmp(key, "vfio") == 0)
		return set_vfio(y, v);
	if (strcmp(key, "machine") && strcmp(key, "memory") && strcmp(key, "cpus") &&
	    strcmp(key, "virtio"))
		return yerr(y, y->key, "unknown key '%s' (known: machine, memory, cpus, firmware, "
			    "kernel, devices, drives, boot, display, network, usb, vfio, virtio)",
			    key);
	if (want_scalar(y, key, v, &s))
		return -1;
	if (strcmp(key, "virtio") == 0) {   /* the flags -simple-virtio and -fast-virtio */
		if (strcmp(s, "simple") && strcmp(s, "fast"))
			return yerr(y, v, "key 'virtio': unknown path '%s' (known: simple, fast)",
				    s);
		c->net.simple_virtio = !strcmp(s, "simple");
	} else if (strcmp(key, "machine") == 0) {
		if (!config_machine_known(s))
			return yerr(y, v, "key 'machine': unknown machine type '%s' "
				    "(known: pc, q35)", s);
		c->machine = strdup(s);
	} else if (strcmp(key, "memory") == 0) {
		c->mem_size = config_parse_mem(s);
		if (!c->mem_size)
			return yerr(y, v, "key 'memory': bad size '%s' (e.g. 512M, 2G)", s);
	} else {
		char *end;
		long n = strtol(s, &end, 10);
		if (*end || n < 1 || n > 255)
			return yerr(y, v, "key 'cpus': bad CPU count '%s'", s);
		c->ncpus = n;
	}
	return 0;
}

int config_load_yaml_string(struct vmm_config *c, const char *name, const char *text,
			    size_t len, char *why, size_t why_len)
{
	yaml_parser_t parser;
	yaml_document_t doc;
	struct yaml_ctx y = { c, name, &doc, NULL, why, why_len };
	int rc = 0;

	yaml_parser_initialize(&parser);
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	if (!yaml_parser_load(&parser, &doc)) {
		snprintf(why, why_len, "%s:%zu: YAML syntax error: %s", name,
			 parser.problem_mark.line + 1, parser.problem ? parser.problem : "?");
		yaml_parser_delete(&parser);
		return -1;
	}
	yaml_node_t *root = yaml_document_get_root_node(&doc);
	if (root)   /* an empty file describes nothing: the defaults stand */
		rc = each_pair(&y, "(top level)", root, set_top);
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	return rc;
}

int config_load_yaml(struct vmm_config *c, const char *path, char *why, size_t why_len)
{
	FILE *f = fopen(path, "r");
	if (!f) {
		snprintf(why, why_len, "%s: cannot open machine config: %s", path, strerror(errno));
		return -1;
	}
	char *text = NULL;
	size_t cap = 0, len = 0, n;
	char buf[4096];
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0) {
		if (len + n > cap) {
			cap = (len + n) * 2;
			char *t = realloc(text, cap);
			if (!t)
				break;
			text = t;
		}
		memcpy(text + len, buf, n);
		len += n;
	}
	fclose(f);
	int rc = config_load_yaml_string(c, path, text ? text : "", len, why, why_len);
	free(text);
	return rc;
}

/* ---- flags ----------------------------------------------------------------------------- */

__attribute__((format(printf, 3, 4)))
static int flag_err(char *why, size_t why_len, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, why_len, fmt, ap);
	va_end(ap);
	return -1;
}

/* "-m 512", "-m size=512M" (QEMU allows both). */
static int set_mem(struct vmm_config *c, const char *v, char *why, size_t why_len)
{
	const char *s = strncmp(v, "size=", 5) == 0 ? v + 5 : v;
	c->mem_size = config_parse_mem(s);
	return c->mem_size ? 0 : flag_err(why, why_len, "-m %s: bad memory size", v);
}

/* "-smp 2", "-smp cpus=2". */
static int set_smp(struct vmm_config *c, const char *v, char *why, size_t why_len)
{
	const char *s = strncmp(v, "cpus=", 5) == 0 ? v + 5 : v;
	char *end;
	long n = strtol(s, &end, 10);
	if ((*end && *end != ',') || n < 1 || n > 255)
		return flag_err(why, why_len, "-smp %s: bad CPU count", v);
	c->ncpus = n;
	return 0;
}

/* "-machine pc", "-M pc", "-machine type=pc,accel=kvm" (the options after it are ignored). */
static int set_machine(struct vmm_config *c, const char *v, char *why, size_t why_len)
{
	const char *s = strncmp(v, "type=", 5) == 0 ? v + 5 : v;
	size_t n = strcspn(s, ",");
	char *name = strndup(s, n);
	if (!name || !config_machine_known(name))
		return flag_err(why, why_len, "unknown machine type '%s' (known: pc, q35)", name);
	c->machine = name;
	return 0;
}

static int set_device(struct vmm_config *c, const char *v, char *why, size_t why_len)
{
	size_t n = strcspn(v, ",");
	char name[64], problem[256];
	snprintf(name, sizeof(name), "%.*s", (int)n, v);
	if (net_model_known(name, NULL)) {   /* a network card: net/net_config.h */
		if (net_config_device(&c->net, v, problem, sizeof(problem)))
			return flag_err(why, why_len, "-device %s: %s", v, problem);
		return 0;
	}
	if (usb_device_name_known(name)) {   /* USB: usb/usb_config.h */
		if (usb_config_device(&c->usb, v, problem, sizeof(problem)))
			return flag_err(why, why_len, "-device %s: %s", v, problem);
		return 0;
	}
	if (!strcmp(name, "vfio-pci")) {   /* PCI passthrough: vfio/vfio.h */
		if (vfio_config_device(&c->vfio, v[n] ? v + n + 1 : "", problem, sizeof(problem)))
			return flag_err(why, why_len, "-device %s: %s", v, problem);
		return 0;
	}
	return config_device_known(name) ? 0 : flag_err(why, why_len, "unknown device '%s' "
							"(known: serial, e1000, virtio-net-pci, "
							"vfio-pci)", name);
}

/* -netdev, -nic (net/net_config.h). */
static int set_net(struct vmm_config *c, const char *f, const char *v, char *why,
		   size_t why_len)
{
	char problem[256];
	int rc = !strcmp(f, "-nic") ? net_config_nic(&c->net, v, problem, sizeof(problem))
				    : net_config_netdev(&c->net, v, problem, sizeof(problem));
	return rc ? flag_err(why, why_len, "%s %s: %s", f, v, problem) : 0;
}

typedef int (*option_fn)(void *target, const char *key, const char *value, char *why,
			 size_t why_len);

/*
 * QEMU's option lists: "k1=v1,k2=v2"; a first item without '=' is the value of first_key
 * ("-boot d", "-drive disk.img" are not QEMU's, but harmless).
 */
static int option_list(const char *flag, const char *text, const char *first_key, option_fn fn,
		       void *target, char *why, size_t why_len)
{
	char *copy = strdup(text), *save = NULL, problem[256];
	int rc = copy ? 0 : flag_err(why, why_len, "%s: out of memory", flag);
	bool first = true;
	for (char *item = copy ? strtok_r(copy, ",", &save) : NULL; item && !rc;
	     item = strtok_r(NULL, ",", &save), first = false) {
		char *eq = strchr(item, '=');
		const char *key = eq ? item : first ? first_key : item;
		const char *value = eq ? eq + 1 : item;
		if (eq)
			*eq = '\0';
		else if (!first)
			rc = flag_err(why, why_len, "%s %s: '%s' is not key=value", flag, text, item);
		if (!rc && fn(target, key, value, problem, sizeof(problem)))
			rc = flag_err(why, why_len, "%s %s: %s", flag, text, problem);
	}
	free(copy);
	return rc;
}

/* option_list's text is its own copy, freed after the list: the drive keeps two of its values
 * (the file name and the id a device names it by), so only those are copied (a copy of every
 * value was a leak of all the others). */
static int drive_option_fn(void *d, const char *key, const char *v, char *why, size_t why_len)
{
	bool kept = !strcmp(key, "file") || !strcmp(key, "id");
	char *copy = kept ? strdup(v) : NULL;
	if (kept && !copy)
		return snprintf(why, why_len, "out of memory"), -1;
	return drive_option(d, key, copy ? copy : v, why, why_len);
}

static int boot_option_fn(void *c, const char *key, const char *v, char *why, size_t why_len)
{
	return boot_option(c, key, v, why, why_len);
}

/*
 * A -drive if=pflash: not a disk but the firmware's flash (board/pflash.h), taken out of the
 * drive list. Unit 0 is the code, which this VMM maps as ROM: it must say readonly=on.
 */
static int add_pflash(struct vmm_config *c, struct drive_config *d, const char *v, char *why,
		      size_t why_len)
{
	c->ndrives--;
	if (d->cdrom || d->format == BLOCK_FORMAT_QCOW2 || d->index >= 0)
		return flag_err(why, why_len, "-drive %s: a flash takes file, format=raw, unit, "
				"readonly", v);
	int unit = d->unit >= 0 ? d->unit : c->flash_code ? 1 : 0;
	if (unit == 0 && !d->readonly)
		return flag_err(why, why_len, "-drive %s: pflash unit 0 is the firmware code, "
				"mapped as ROM: add readonly=on", v);
	if (unit == 0)
		c->flash_code = d->file;
	else {
		c->flash_vars = d->file;
		c->flash_vars_readonly = d->readonly;
	}
	return 0;
}

/* -drive OPTIONS, -hda FILE (index 0) .. -hdd (3), -cdrom FILE (index 2, as QEMU). */
static int add_drive(struct vmm_config *c, const char *f, const char *v, char *why,
		     size_t why_len)
{
	struct drive_config *d = new_drive(c);
	if (!d)
		return flag_err(why, why_len, "%s %s: at most %d drives", f, v, MAX_DRIVES);
	if (!strcmp(f, "-drive")) {
		if (option_list(f, v, "file", drive_option_fn, d, why, why_len))
			return -1;
		if (!d->file)
			return flag_err(why, why_len, "-drive %s: no file=", v);
		if (d->interface == DRIVE_IF_PFLASH)
			return add_pflash(c, d, v, why, why_len);
		if (d->unit >= 0)
			return flag_err(why, why_len, "-drive %s: unit= is for if=pflash (disks: "
					"index=)", v);
	} else {
		d->file = v;
		d->cdrom = !strcmp(f, "-cdrom");
		d->index = d->cdrom ? 2 : f[3] - 'a';
	}
	replace_same_index(c);
	return 0;
}

static int one_flag(struct vmm_config *c, const char *f, const char *v, char *why,
		    size_t why_len)
{
	if (!strcmp(f, "-drive") || !strcmp(f, "-cdrom") || !strcmp(f, "-hda") ||
	    !strcmp(f, "-hdb") || !strcmp(f, "-hdc") || !strcmp(f, "-hdd"))
		return add_drive(c, f, v, why, why_len);
	if (!strcmp(f, "-boot"))
		return option_list(f, v, "order", boot_option_fn, c, why, why_len);
	if (!strcmp(f, "-m"))
		return set_mem(c, v, why, why_len);
	if (!strcmp(f, "-smp"))
		return set_smp(c, v, why, why_len);
	if (!strcmp(f, "-M") || !strcmp(f, "-machine"))
		return set_machine(c, v, why, why_len);
	if (!strcmp(f, "-device"))
		return set_device(c, v, why, why_len);
	if (!strcmp(f, "-netdev") || !strcmp(f, "-nic"))
		return set_net(c, f, v, why, why_len);
	if (!strcmp(f, "-config"))
		return config_load_yaml(c, v, why, why_len);
	if (!strcmp(f, "-vga")) {
		char problem[256];
		if (vga_option(c, v, problem, sizeof(problem)))
			return flag_err(why, why_len, "-vga %s: %s", v, problem);
		return 0;
	}
	static const struct { const char *flag; size_t offset; } strings[] = {
		{ "-bios", offsetof(struct vmm_config, bios) },
		{ "-kernel", offsetof(struct vmm_config, kernel) },
		{ "-initrd", offsetof(struct vmm_config, initrd) },
		{ "-append", offsetof(struct vmm_config, cmdline) },
		{ "-debugcon", offsetof(struct vmm_config, debug_log) },
		{ "-kvm", offsetof(struct vmm_config, kvm_path) },
		{ "-linuxboot", offsetof(struct vmm_config, linuxboot) },
		{ "-vgabios", offsetof(struct vmm_config, vgabios) },
		{ "-vnc", offsetof(struct vmm_config, vnc) },
		{ "-screendump", offsetof(struct vmm_config, screendump) },
		{ "-monitor", offsetof(struct vmm_config, monitor) },
		{ "-input-script", offsetof(struct vmm_config, input_script) },
		{ "-incoming", offsetof(struct vmm_config, incoming) },
		{ "-control", offsetof(struct vmm_config, control) },
	};
	const char **slot = NULL;
	for (size_t i = 0; i < ARRAY_LEN(strings) && !slot; i++)
		if (!strcmp(f, strings[i].flag))
			slot = (const char **)((char *)c + strings[i].offset);
	if (!slot)
		return flag_err(why, why_len, "unknown option '%s' (see minivisor -help)", f);
	*slot = v;
	return 0;
}

/* Each usb-storage names an if=none drive by its id; an if=none drive needs an id. */
static int usb_drives_check(const struct vmm_config *c, char *why, size_t why_len)
{
	for (unsigned i = 0; i < c->ndrives; i++)
		if (c->drives[i].interface == DRIVE_IF_NONE && !c->drives[i].id)
			return flag_err(why, why_len, "-drive file=%s,if=none: needs id= (for "
					"-device usb-storage,drive=ID)", c->drives[i].file);
	for (unsigned i = 0; i < c->usb.ndevices; i++) {
		const struct usb_device_config *d = &c->usb.devices[i];
		bool found = d->kind != USB_DEV_STORAGE || d->file;
		for (unsigned j = 0; j < c->ndrives && !found; j++)
			found = c->drives[j].interface == DRIVE_IF_NONE &&
				!strcmp(c->drives[j].id, d->drive);
		if (!found)
			return flag_err(why, why_len, "-device usb-storage,drive=%s: no drive has "
					"id=%s (-drive if=none,id=%s,file=...)", d->drive, d->drive,
					d->drive);
	}
	return 0;
}

int config_parse_args(struct vmm_config *c, int argc, char **argv, char *why, size_t why_len)
{
	for (int i = 1; i < argc; i++) {
		/* QEMU spells options with one dash; accept two as well. */
		const char *f = argv[i][0] == '-' && argv[i][1] == '-' ? argv[i] + 1 : argv[i];
		if (!strcmp(f, "-nographic") || !strcmp(f, "-enable-kvm"))
			continue;   /* what this VMM always does */
		if (!strcmp(f, "-no-reboot")) {   /* a guest reset ends the VMM (exit 0) */
			c->no_reboot = true;
			continue;
		}
		if (!strcmp(f, "-trace-io")) {
			c->trace_io = true;
			continue;
		}
		if (!strcmp(f, "-simple-virtio") || !strcmp(f, "-fast-virtio")) {
			c->net.simple_virtio = !strcmp(f, "-simple-virtio");   /* fast: the default */
			continue;
		}
		if (!strcmp(f, "-usb")) {   /* this machine's USB controller: xHCI */
			c->usb.controller = USB_CONTROLLER_XHCI;
			continue;
		}
		if (f[0] != '-')
			return flag_err(why, why_len, "unexpected argument '%s'", argv[i]);
		if (i + 1 == argc)
			return flag_err(why, why_len, "option '%s' needs a value", argv[i]);
		if (one_flag(c, f, argv[++i], why, why_len))
			return -1;
	}
	if (usb_config_finish(&c->usb, why, why_len) || usb_drives_check(c, why, why_len))
		return -1;
	return net_config_finish(&c->net, why, why_len);
}
