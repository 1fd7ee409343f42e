/*
 * vnc_none.c - vnc.h for a binary built without libvncserver (minivisor.static: Debian has no
 * static libvncserver). -vnc is refused in one line; everything else of the display works.
 */
#include "vnc.h"

#include <stdio.h>

int vnc_parse(const char *spec, struct vnc_address *a, char *why, size_t why_len)
{
	(void)a;
	snprintf(why, why_len, "-vnc %s: this binary is built without VNC (use minivisor, not "
		 "minivisor.static)", spec);
	return -1;
}

struct vnc *vnc_open(const struct vnc_address *a, uint32_t *fb, unsigned width,
		     unsigned height, const struct vnc_input *input, char *why, size_t why_len)
{
	(void)a; (void)fb; (void)width; (void)height; (void)input;
	snprintf(why, why_len, "vnc: this binary is built without VNC");
	return NULL;
}

void vnc_resize(struct vnc *v, uint32_t *fb, unsigned width, unsigned height)
{
	(void)v; (void)fb; (void)width; (void)height;
}

void vnc_damage(struct vnc *v, unsigned x, unsigned y, unsigned w, unsigned h)
{
	(void)v; (void)x; (void)y; (void)w; (void)h;
}

void vnc_poll(struct vnc *v, long usec)
{
	(void)v; (void)usec;
}

unsigned vnc_clients(struct vnc *v)
{
	(void)v;
	return 0;
}

void vnc_close(struct vnc *v)
{
	(void)v;
}

bool vnc_available(void)
{
	return false;
}
