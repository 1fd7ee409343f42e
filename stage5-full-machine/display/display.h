/*
 * display.h - the display thread: it keeps a picture of the VGA's screen up to date and
 * hands it out - to VNC clients, to screendump files, to the manager's requests.
 *
 * Teaches: where a VMM's display work happens. Not on a vCPU thread: a guest writes VRAM at
 * memory speed and never waits for a picture. A thread of its own wakes every 30 ms (QEMU's
 * default refresh interval), asks KVM which VRAM pages were written (KVM_GET_DIRTY_LOG),
 * takes a copy of the VGA registers under the bus lock, and redraws only what changed
 * (vga_render.c); the VNC server then sends only those rectangles.
 *
 *   -vnc [HOST]:N[,password-file=F][,novnc=PORT]  a VNC server (vnc.h), loopback unless
 *                                    HOST is given; novnc: the browser view, noVNC served by
 *                                    Debian's websockify (a child process) on HOST:PORT
 *   -screendump FILE                 FILE.png (or FILE.txt: the text screen) written when
 *                                    the VMM gets SIGUSR2 and when the machine stops
 *   -monitor SOCKET                  a unix socket; a line "screendump FILE" writes FILE and
 *                                    answers "ok" or "error: ..." (minivisor-manager gives it to
 *                                    every VM; without a VGA it is never opened)
 *
 * Keys and pointer events from VNC go to the input callbacks the machine gives (board/pc.c
 * connects them to the PS/2 controller): the display never touches another device.
 */
#ifndef DISPLAY_DISPLAY_H
#define DISPLAY_DISPLAY_H

#include <pthread.h>
#include <sys/types.h>
#include <stdbool.h>
#include <stdint.h>

#include "std_vga.h"
#include "vga_render.h"
#include "vnc.h"

/*
 * The refresh period: 30 ms while the picture changes; while it stands still the period
 * doubles up to DISPLAY_IDLE_REFRESH_MS, so an idle guest with a client connected costs a
 * handful of KVM_GET_DIRTY_LOG calls a second (QEMU backs off the same way).
 */
#define DISPLAY_REFRESH_MS      30
#define DISPLAY_IDLE_REFRESH_MS 240

struct display_config {
	const char *vnc;              /* "[HOST]:N[,password-file=F]"; NULL: no VNC server */
	const char *screendump;       /* -screendump FILE; NULL: none */
	const char *monitor;          /* -monitor SOCKET; NULL: none */
};

struct display_stats {
	uint64_t refreshes, lines_drawn, full_frames;
};

struct display {
	struct std_vga *vga;
	pthread_mutex_t *lock;        /* the bus lock: guards the VGA's registers */
	struct display_config cfg;
	struct vga_renderer r;
	struct vnc *vnc;
	pid_t websockify;             /* -vnc ...,novnc=PORT: the browser view's bridge; 0: none */
	struct vnc_input input;
	int monitor_fd;
	pthread_t thread;
	bool running;
	volatile bool stop;
	uint64_t dirty[VGA_PAGES / 64];
	struct vga_state state;       /* the registers as of the last refresh */
	struct display_stats stats;
};

/*
 * Check the options and open what can fail before the VM runs (the VNC port, the monitor
 * socket). 0, or a negative errno with one line in why.
 */
int display_open(struct display *d, struct std_vga *vga, pthread_mutex_t *lock,
		 const struct display_config *cfg, const struct vnc_input *input, char *why,
		 size_t why_len);
int display_start(struct display *d);
/* Stop the thread; write the -screendump file one last time. */
void display_stop(struct display *d);
void display_close(struct display *d);

/* Refresh the picture now (the thread does it every DISPLAY_REFRESH_MS or more); true when
 * anything was redrawn. */
bool display_refresh(struct display *d);
/* Write the current screen to path (.txt: text; else PNG). 0 or -errno with why. */
int display_screendump(struct display *d, const char *path, char *why, size_t why_len);

#endif
