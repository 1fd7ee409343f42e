/*
 * vnc.c - the VNC server on libvncserver (Debian libvncserver-dev). See vnc.h.
 *
 * libvncserver keeps the framebuffer pointer it is given and reads it when a client wants an
 * update; it runs in the caller's thread (vnc_poll -> rfbProcessEvents), the same thread that
 * draws the picture, so the two never race. Its own log is switched off: errors here are one
 * line each, from us.
 */
#include "vnc.h"

#include <arpa/inet.h>
#include <errno.h>
#include <rfb/rfb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct vnc {
	rfbScreenInfoPtr screen;
	struct vnc_input input;
	char *passwords[2];        /* NULL-terminated list for rfbCheckPasswordByList */
};

int vnc_parse(const char *spec, struct vnc_address *a, char *why, size_t why_len)
{
	memset(a, 0, sizeof(*a));
	snprintf(a->host, sizeof(a->host), "127.0.0.1");
	const char *colon = strchr(spec, ':'), *comma = strchr(spec, ',');
	if (!colon || (comma && comma < colon))
		goto bad;
	if (colon > spec) {
		size_t n = colon - spec;
		struct in_addr addr;
		if (n >= sizeof(a->host))
			goto bad;
		memcpy(a->host, spec, n);
		a->host[n] = '\0';
		if (!strcmp(a->host, "localhost"))
			snprintf(a->host, sizeof(a->host), "127.0.0.1");
		if (inet_pton(AF_INET, a->host, &addr) != 1)
			goto bad;
	}
	char *end;
	long n = strtol(colon + 1, &end, 10);
	if (end == colon + 1 || n < 0 || n > 65535 - VNC_BASE_PORT || (*end && *end != ','))
		goto bad;
	a->port = VNC_BASE_PORT + n;
	for (const char *opt = comma; opt; opt = strchr(opt + 1, ',')) {
		const char *v = opt + 1;
		size_t len = strcspn(v, ",");
		char *num_end;
		if (!strncmp(v, "password-file=", 14) && len > 14 &&
		    len - 14 < sizeof(a->password_file)) {
			memcpy(a->password_file, v + 14, len - 14);
			a->password_file[len - 14] = '\0';
		} else if (!strncmp(v, "novnc=", 6)) {
			a->novnc_port = strtol(v + 6, &num_end, 10);
			if (num_end != v + len || a->novnc_port < 1 || a->novnc_port > 65535) {
				snprintf(why, why_len, "-vnc %s: novnc= wants a TCP port", spec);
				return -1;
			}
		} else {
			snprintf(why, why_len, "-vnc %s: unknown option '%.*s' (known: "
				 "password-file=FILE, novnc=PORT)", spec, (int)len, v);
			return -1;
		}
	}
	return 0;
bad:
	snprintf(why, why_len, "-vnc %s: expected [HOST]:DISPLAY (e.g. :0 for 127.0.0.1:5900)",
		 spec);
	return -1;
}

static void key_event(rfbBool down, rfbKeySym keysym, rfbClientPtr cl)
{
	struct vnc *v = cl->screen->screenData;
	if (v->input.key)
		v->input.key(v->input.opaque, keysym, down);
}

static void pointer_event(int buttons, int x, int y, rfbClientPtr cl)
{
	struct vnc *v = cl->screen->screenData;
	if (v->input.pointer)
		v->input.pointer(v->input.opaque, x, y, buttons);
}

/* 0x00RRGGBB in host (little-endian) order: blue is the low byte. */
static void set_format(rfbScreenInfoPtr s)
{
	s->serverFormat.redShift = 16;
	s->serverFormat.greenShift = 8;
	s->serverFormat.blueShift = 0;
}

static int read_password(struct vnc *v, const char *path, char *why, size_t why_len)
{
	FILE *f = fopen(path, "r");
	char line[256];
	if (!f) {
		snprintf(why, why_len, "-vnc: password file %s: %s", path, strerror(errno));
		return -1;
	}
	bool ok = fgets(line, sizeof(line), f) != NULL;
	fclose(f);
	line[strcspn(line, "\r\n")] = '\0';
	if (!ok || !line[0]) {
		snprintf(why, why_len, "-vnc: password file %s: the first line is empty", path);
		return -1;
	}
	v->passwords[0] = strdup(line);
	v->passwords[1] = NULL;
	return 0;
}

struct vnc *vnc_open(const struct vnc_address *a, uint32_t *fb, unsigned width,
		     unsigned height, const struct vnc_input *input, char *why, size_t why_len)
{
	struct vnc *v = calloc(1, sizeof(*v));
	if (!v) {
		snprintf(why, why_len, "vnc: out of memory");
		return NULL;
	}
	v->input = *input;
	if (a->password_file[0] && read_password(v, a->password_file, why, why_len)) {
		free(v);
		return NULL;
	}
	rfbLogEnable(0);
	int argc = 0;
	rfbScreenInfoPtr s = rfbGetScreen(&argc, NULL, width, height, 8, 3, 4);
	if (!s) {
		snprintf(why, why_len, "vnc: cannot set up the server");
		free(v);
		return NULL;
	}
	s->desktopName = "minivisor";
	s->frameBuffer = (char *)fb;
	set_format(s);
	s->screenData = v;
	s->kbdAddEvent = key_event;
	s->ptrAddEvent = pointer_event;
	s->alwaysShared = TRUE;
	s->port = a->port;
	s->ipv6port = 0;            /* IPv4 only: the address given, loopback by default */
	s->httpPort = s->http6Port = 0;
	inet_pton(AF_INET, a->host, &s->listenInterface);
	if (v->passwords[0]) {
		s->authPasswdData = v->passwords;
		s->passwordCheck = rfbCheckPasswordByList;
	}
	v->screen = s;
	rfbInitServer(s);
	if (s->listenSock == RFB_INVALID_SOCKET) {
		snprintf(why, why_len, "-vnc: cannot listen on %s:%d (port in use?)", a->host,
			 a->port);
		vnc_close(v);
		return NULL;
	}
	return v;
}

void vnc_resize(struct vnc *v, uint32_t *fb, unsigned width, unsigned height)
{
	rfbNewFramebuffer(v->screen, (char *)fb, width, height, 8, 3, 4);
	set_format(v->screen);
	rfbMarkRectAsModified(v->screen, 0, 0, width, height);
}

void vnc_damage(struct vnc *v, unsigned x, unsigned y, unsigned w, unsigned h)
{
	rfbMarkRectAsModified(v->screen, x, y, x + w, y + h);
}

void vnc_poll(struct vnc *v, long usec)
{
	rfbProcessEvents(v->screen, usec);
}

unsigned vnc_clients(struct vnc *v)
{
	unsigned n = 0;
	rfbClientIteratorPtr it = rfbGetClientIterator(v->screen);
	while (rfbClientIteratorNext(it))
		n++;
	rfbReleaseClientIterator(it);
	return n;
}

void vnc_close(struct vnc *v)
{
	if (!v)
		return;
	if (v->screen) {
		rfbShutdownServer(v->screen, TRUE);
		rfbScreenCleanup(v->screen);
	}
	free(v->passwords[0]);
	free(v);
}

bool vnc_available(void)
{
	return true;
}
