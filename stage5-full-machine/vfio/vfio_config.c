/*
 * vfio_config.c - the words of `-device vfio-pci,host=...`: a PCI address and the options.
 * Pure (no host access), so the unit tests cover every spelling. See vfio.h.
 */
#include "vfio.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Parse hex digits of text[0..n) (n > 0) no larger than max. */
static bool hex_field(const char *text, size_t n, unsigned max, unsigned *out)
{
	char buf[8];
	char *end;
	if (n == 0 || n >= sizeof(buf))
		return false;
	memcpy(buf, text, n);
	buf[n] = 0;
	for (size_t i = 0; i < n; i++)
		if (!strchr("0123456789abcdefABCDEF", buf[i]))
			return false;
	unsigned long v = strtoul(buf, &end, 16);
	if (*end || v > max)
		return false;
	*out = v;
	return true;
}

/* "DDDD:BB:DD.F" or "BB:DD.F" (the domain then 0000), as lspci and sysfs write them. */
bool vfio_parse_bdf(const char *text, char out[16])
{
	unsigned domain = 0, bus, dev, fn;
	const char *colon2 = strrchr(text, ':');
	const char *dot = strrchr(text, '.');
	if (!colon2 || !dot || dot < colon2)
		return false;
	const char *colon1 = colon2 == text ? NULL : memchr(text, ':', colon2 - text);
	const char *bus_start = colon1 ? colon1 + 1 : text;
	if (colon1 && !hex_field(text, colon1 - text, 0xffff, &domain))
		return false;
	if (!hex_field(bus_start, colon2 - bus_start, 0xff, &bus) ||
	    !hex_field(colon2 + 1, dot - colon2 - 1, 0x1f, &dev) ||
	    !hex_field(dot + 1, strlen(dot + 1), 7, &fn))
		return false;
	snprintf(out, 16, "%04x:%02x:%02x.%x", domain, bus, dev, fn);
	return true;
}

static int bad(char *why, size_t why_len, const char *fmt, const char *word)
{
	snprintf(why, why_len, fmt, word);
	return -1;
}

int vfio_config_device(struct vfio_config *c, const char *spec, char *why, size_t why_len)
{
	struct vfio_device_config d = { .host = "" };
	char *copy = strdup(spec ? spec : ""), *save = NULL;
	int err = 0;
	if (!copy)
		return bad(why, why_len, "%sout of memory", "");
	for (char *w = strtok_r(copy, ",", &save); w && !err; w = strtok_r(NULL, ",", &save)) {
		if (!strncmp(w, "host=", 5)) {
			if (!vfio_parse_bdf(w + 5, d.host))
				err = bad(why, why_len, "host=%s: not a PCI address (want "
					  "DDDD:BB:DD.F, as in /sys/bus/pci/devices)", w + 5);
		} else if (!strcmp(w, "x-no-mmap=on") || !strcmp(w, "x-no-mmap=off")) {
			d.no_mmap = !strcmp(w + 10, "on");
		} else {
			err = bad(why, why_len, "unknown option '%s' (known: host, x-no-mmap)", w);
		}
	}
	free(copy);
	if (err)
		return err;
	if (!d.host[0])
		return bad(why, why_len, "%sno host=DDDD:BB:DD.F", "");
	if (c->n == VFIO_MAX_DEVICES)
		return bad(why, why_len, "%smore than 4 passed-through devices", "");
	for (unsigned i = 0; i < c->n; i++)
		if (!strcmp(c->dev[i].host, d.host))
			return bad(why, why_len, "host=%s: given twice", d.host);
	c->dev[c->n++] = d;
	return 0;
}
