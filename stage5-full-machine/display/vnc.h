/*
 * vnc.h - the screen over the network: an RFB (VNC) server built on libvncserver.
 *
 * Teaches: remote framebuffer protocol basics (RFC 6143): the server holds a framebuffer, a
 * client asks for updates, the server sends only the rectangles that changed since; keys
 * arrive as X11 keysyms, the pointer as absolute x, y and a button mask. libvncserver does
 * the protocol and the encodings; this file gives it our pixels, our damage and our input.
 *
 *   -vnc :N                 listen on 127.0.0.1, port 5900 + N (loopback: nothing else)
 *   -vnc HOST:N             listen on HOST's address (an IPv4 address) instead
 *   -vnc :N,password-file=F VNC authentication with the first line of F (at most 8 bytes
 *                           count: the protocol's DES challenge uses 8)
 *   -vnc :N,novnc=PORT      also the browser view: Debian's websockify, started by the display
 *                           (display.c), serves Debian's noVNC web client on HOST:PORT and
 *                           bridges its WebSocket to the VNC port: open
 *                           http://127.0.0.1:PORT/vnc.html?autoconnect=1
 *
 * minivisor.static is linked without it (Debian ships no static libvncserver): vnc_none.c.
 */
#ifndef DISPLAY_VNC_H
#define DISPLAY_VNC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VNC_BASE_PORT 5900

struct vnc;

/* Where input goes: keysym up/down; pointer position in pixels and X11 button mask. */
struct vnc_input {
	void (*key)(void *opaque, uint32_t keysym, bool down);
	void (*pointer)(void *opaque, int x, int y, unsigned buttons);
	void *opaque;
};

/* Parse "[HOST]:N[,password-file=F]". 0, or -1 with one line in why. Pure (unit-tested). */
struct vnc_address {
	char host[64];     /* dotted IPv4; "127.0.0.1" when not given */
	int port;
	char password_file[256];
	int novnc_port;    /* 0: no browser view */
};
int vnc_parse(const char *spec, struct vnc_address *a, char *why, size_t why_len);

/* Start listening; fb: width * height 0x00RRGGBB. NULL with one line in why. */
struct vnc *vnc_open(const struct vnc_address *a, uint32_t *fb, unsigned width,
		     unsigned height, const struct vnc_input *input, char *why, size_t why_len);
void vnc_resize(struct vnc *v, uint32_t *fb, unsigned width, unsigned height);
void vnc_damage(struct vnc *v, unsigned x, unsigned y, unsigned w, unsigned h);
/* Serve clients for at most usec microseconds. */
void vnc_poll(struct vnc *v, long usec);
unsigned vnc_clients(struct vnc *v);
void vnc_close(struct vnc *v);
/* False in a binary built without libvncserver. */
bool vnc_available(void);

#endif
