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
	{ "kernel", "image", offsetof(struct vmm_config, kernel), true },
	{ "kernel", "initrd", offsetof(struct vmm_config, initrd), true },
	{ "kernel", "cmdline", offsetof(struct vmm_config, cmdline), false },
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
	if (strcmp(key, "machine") && strcmp(key, "memory") && strcmp(key, "cpus"))
		return yerr(y, y->key, "unknown key '%s' (known: machine, memory, cpus, firmware, "
			    "kernel, devices)", key);
	if (want_scalar(y, key, v, &s))
		return -1;
	if (strcmp(key, "machine") == 0) {
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

static int set_device(const char *v, char *why, size_t why_len)
{
	size_t n = strcspn(v, ",");
	char name[64];
	snprintf(name, sizeof(name), "%.*s", (int)n, v);
	return config_device_known(name) ? 0 : flag_err(why, why_len, "unknown device '%s' "
							"(known: serial)", name);
}

static int one_flag(struct vmm_config *c, const char *f, const char *v, char *why,
		    size_t why_len)
{
	if (!strcmp(f, "-m"))
		return set_mem(c, v, why, why_len);
	if (!strcmp(f, "-smp"))
		return set_smp(c, v, why, why_len);
	if (!strcmp(f, "-M") || !strcmp(f, "-machine"))
		return set_machine(c, v, why, why_len);
	if (!strcmp(f, "-device"))
		return set_device(v, why, why_len);
	if (!strcmp(f, "-config"))
		return config_load_yaml(c, v, why, why_len);
	static const struct { const char *flag; size_t offset; } strings[] = {
		{ "-bios", offsetof(struct vmm_config, bios) },
		{ "-kernel", offsetof(struct vmm_config, kernel) },
		{ "-initrd", offsetof(struct vmm_config, initrd) },
		{ "-append", offsetof(struct vmm_config, cmdline) },
		{ "-debugcon", offsetof(struct vmm_config, debug_log) },
		{ "-kvm", offsetof(struct vmm_config, kvm_path) },
		{ "-linuxboot", offsetof(struct vmm_config, linuxboot) },
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

int config_parse_args(struct vmm_config *c, int argc, char **argv, char *why, size_t why_len)
{
	for (int i = 1; i < argc; i++) {
		/* QEMU spells options with one dash; accept two as well. */
		const char *f = argv[i][0] == '-' && argv[i][1] == '-' ? argv[i] + 1 : argv[i];
		if (!strcmp(f, "-nographic") || !strcmp(f, "-no-reboot") ||
		    !strcmp(f, "-enable-kvm"))
			continue;   /* what this VMM always does */
		if (!strcmp(f, "-trace-io")) {
			c->trace_io = true;
			continue;
		}
		if (f[0] != '-')
			return flag_err(why, why_len, "unexpected argument '%s'", argv[i]);
		if (i + 1 == argc)
			return flag_err(why, why_len, "option '%s' needs a value", argv[i]);
		if (one_flag(c, f, argv[++i], why, why_len))
			return -1;
	}
	return 0;
}
