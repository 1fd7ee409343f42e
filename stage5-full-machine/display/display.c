/*
 * display.c - the display thread: refresh, VNC, screendumps, the monitor socket. See
 * display.h. SIGUSR2 is blocked in every thread (display_open runs before any is created)
 * and taken here with sigtimedwait(), so it never interrupts a vCPU's KVM_RUN.
 */
#define _GNU_SOURCE   /* accept4 */
#include "display.h"

#include <errno.h>
#include <spawn.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "screendump.h"

static void on_damage(void *opaque, unsigned x, unsigned y, unsigned w, unsigned h)
{
	struct display *d = opaque;
	if (d->vnc)
		vnc_damage(d->vnc, x, y, w, h);
}

static int open_monitor(struct display *d, const char *path, char *why, size_t why_len)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	if (strlen(path) >= sizeof(a.sun_path)) {
		snprintf(why, why_len, "-monitor %s: path too long for a unix socket", path);
		return -ENAMETOOLONG;
	}
	strcpy(a.sun_path, path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	unlink(path);   /* a socket left by an earlier run of the same VM */
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(fd, 4) < 0) {
		int err = -errno;
		snprintf(why, why_len, "-monitor %s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return err;
	}
	d->monitor_fd = fd;
	return 0;
}

/*
 * The browser view: websockify (Debian's) serves noVNC's files (Debian's novnc) and turns the
 * browser's WebSocket into a TCP connection to our VNC port. No web client of our own.
 */
#define NOVNC_DIR "/usr/share/novnc"
static int start_websockify(struct display *d, const struct vnc_address *a, char *why,
			    size_t why_len)
{
	char listen[96], target[96];
	snprintf(listen, sizeof(listen), "%s:%d", a->host, a->novnc_port);
	snprintf(target, sizeof(target), "%s:%d", a->host, a->port);
	char *argv[] = { "websockify", "--web", NOVNC_DIR, listen, target, NULL };
	if (access(NOVNC_DIR "/vnc.html", R_OK) < 0) {
		snprintf(why, why_len, "-vnc ...,novnc=%d: %s/vnc.html: %s (Debian package novnc)",
			 a->novnc_port, NOVNC_DIR, strerror(errno));
		return -ENOENT;
	}
	posix_spawn_file_actions_t io;
	posix_spawn_file_actions_init(&io);
	posix_spawn_file_actions_addopen(&io, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&io, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_addopen(&io, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
	extern char **environ;
	int err = posix_spawnp(&d->websockify, "websockify", &io, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&io);
	if (err) {
		d->websockify = 0;
		snprintf(why, why_len, "-vnc ...,novnc=%d: cannot start websockify: %s (Debian "
			 "package websockify)", a->novnc_port, strerror(err));
		return -err;
	}
	fprintf(stderr, "minivisor: browser view: http://%s:%d/vnc.html?autoconnect=1\n",
		a->host, a->novnc_port);
	return 0;
}

int display_open(struct display *d, struct std_vga *vga, pthread_mutex_t *lock,
		 const struct display_config *cfg, const struct vnc_input *input, char *why,
		 size_t why_len)
{
	memset(d, 0, sizeof(*d));
	d->vga = vga;
	d->lock = lock;
	d->cfg = *cfg;
	d->input = *input;
	d->monitor_fd = -1;
	sigset_t usr2;
	sigemptyset(&usr2);
	sigaddset(&usr2, SIGUSR2);
	pthread_sigmask(SIG_BLOCK, &usr2, NULL);
	int err = vga_renderer_init(&d->r, on_damage, d);
	if (err) {
		snprintf(why, why_len, "display: out of memory for the picture");
		return err;
	}
	/* The first picture, so that a client connecting at once sees the right size. */
	display_refresh(d);
	if (cfg->vnc) {
		struct vnc_address a;
		if (vnc_parse(cfg->vnc, &a, why, why_len))
			return -EINVAL;
		d->vnc = vnc_open(&a, d->r.pixels, d->r.g.width, d->r.g.height, input, why,
				  why_len);
		if (!d->vnc)
			return -EADDRINUSE;
		if (a.novnc_port && (err = start_websockify(d, &a, why, why_len)))
			return err;
	}
	if (cfg->monitor)
		return open_monitor(d, cfg->monitor, why, why_len);
	return 0;
}

bool display_refresh(struct display *d)
{
	pthread_mutex_lock(d->lock);
	std_vga_sync_dirty(d->vga);
	memcpy(d->dirty, d->vga->vga.dirty, sizeof(d->dirty));
	memset(d->vga->vga.dirty, 0, sizeof(d->vga->vga.dirty));
	bool regs = d->vga->vga.regs_changed;
	d->vga->vga.regs_changed = false;
	if (regs)
		d->state = d->vga->vga.s;
	pthread_mutex_unlock(d->lock);
	d->stats.refreshes++;
	/* Nothing written, no register touched: the picture stands (an idle guest costs this). */
	bool any = regs || !d->r.valid;
	for (unsigned i = 0; i < VGA_PAGES / 64 && !any; i++)
		any = d->dirty[i] != 0;
	if (!any)
		return false;
	/* VRAM itself is read without the lock: a store racing the read shows next time. */
	bool was_valid = d->r.valid;
	bool resized = vga_render(&d->r, &d->state, d->vga->vga.vram, d->vga->vga.vram_size,
				  d->dirty, false);
	d->stats.lines_drawn += d->r.lines_drawn;
	if (d->r.lines_drawn >= d->r.g.height)
		d->stats.full_frames++;
	if (resized && was_valid && d->vnc)
		vnc_resize(d->vnc, d->r.pixels, d->r.g.width, d->r.g.height);
	return true;
}

int display_screendump(struct display *d, const char *path, char *why, size_t why_len)
{
	size_t n = strlen(path);
	if (n > 4 && !strcmp(path + n - 4, ".txt"))
		return screendump_text(path, &d->r.g, d->vga->vga.vram, d->vga->vga.vram_size,
				       why, why_len);
	return screendump_png(path, d->r.pixels, d->r.g.width, d->r.g.height, why, why_len);
}

/* One request per connection: "screendump FILE\n" -> "ok\n" or "error: ...\n". */
static void serve_monitor(struct display *d)
{
	int fd = accept4(d->monitor_fd, NULL, NULL, SOCK_CLOEXEC);
	if (fd < 0)
		return;
	char line[4200], why[512], reply[600];
	size_t len = 0;
	struct pollfd p = { fd, POLLIN, 0 };
	while (len < sizeof(line) - 1 && poll(&p, 1, 1000) > 0) {
		ssize_t n = read(fd, line + len, sizeof(line) - 1 - len);
		if (n <= 0)
			break;
		len += n;
		if (memchr(line, '\n', len))
			break;
	}
	line[len] = '\0';
	line[strcspn(line, "\r\n")] = '\0';
	if (!strncmp(line, "screendump ", 11) && line[11]) {
		display_refresh(d);
		if (display_screendump(d, line + 11, why, sizeof(why)))
			snprintf(reply, sizeof(reply), "error: %s\n", why);
		else
			snprintf(reply, sizeof(reply), "ok\n");
	} else {
		snprintf(reply, sizeof(reply), "error: unknown request (known: screendump FILE)\n");
	}
	if (write(fd, reply, strlen(reply)) < 0) {
		/* the asker has gone: nothing to tell */
	}
	close(fd);
}

static void dump_requested(struct display *d)
{
	char why[512];
	display_refresh(d);
	if (display_screendump(d, d->cfg.screendump, why, sizeof(why)))
		fprintf(stderr, "minivisor: %s\n", why);
}

static double now_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static void *display_thread(void *p)
{
	struct display *d = p;
	sigset_t usr2;
	sigemptyset(&usr2);
	sigaddset(&usr2, SIGUSR2);
	const struct timespec no_wait = { 0, 0 };
	double next = now_ms(), period = DISPLAY_REFRESH_MS;
	while (!d->stop) {
		double wait = next - now_ms();
		if (wait > 0) {
			/* Sleep until the next refresh, serving VNC clients and the monitor. */
			if (d->vnc) {
				vnc_poll(d->vnc, (long)(wait * 1000));
			} else {
				struct pollfd m = { d->monitor_fd, POLLIN, 0 };
				poll(&m, 1, (int)wait + 1);
			}
		}
		if (d->monitor_fd >= 0) {
			struct pollfd m = { d->monitor_fd, POLLIN, 0 };
			if (poll(&m, 1, 0) > 0)
				serve_monitor(d);
		}
		if (now_ms() < next)
			continue;
		/* Back off while the picture stands still; snap back at the first change. */
		if (display_refresh(d))
			period = DISPLAY_REFRESH_MS;
		else if (period < DISPLAY_IDLE_REFRESH_MS)
			period = period * 2 < DISPLAY_IDLE_REFRESH_MS ? period * 2 : DISPLAY_IDLE_REFRESH_MS;
		/* From the last deadline, not from now: the refresh's own time must not stretch
		 * the period (a client that keeps asking gets 1000 / 30 frames a second). */
		next = next + period > now_ms() ? next + period : now_ms() + period;
		/* Send what a client asked for now, not after the next wait. */
		if (d->vnc)
			vnc_poll(d->vnc, 0);
		if (sigtimedwait(&usr2, NULL, &no_wait) == SIGUSR2 && d->cfg.screendump)
			dump_requested(d);
	}
	return NULL;
}

int display_start(struct display *d)
{
	d->stop = false;   /* started again after a machine reset */
	int err = pthread_create(&d->thread, NULL, display_thread, d);
	d->running = err == 0;
	return -err;
}

void display_stop(struct display *d)
{
	if (d->running) {
		d->stop = true;
		pthread_join(d->thread, NULL);
		d->running = false;
	}
	if (d->cfg.screendump && d->r.pixels)
		dump_requested(d);
	if (getenv("MINIVISOR_DISPLAY_STATS"))   /* for the benchmark and the lesson */
		fprintf(stderr, "display: %llu refreshes, %llu lines drawn, %llu full frames\n",
			(unsigned long long)d->stats.refreshes,
			(unsigned long long)d->stats.lines_drawn,
			(unsigned long long)d->stats.full_frames);
}

void display_close(struct display *d)
{
	if (!d->vga)
		return;   /* never opened */
	vnc_close(d->vnc);
	d->vnc = NULL;
	if (d->websockify > 0) {
		kill(d->websockify, SIGTERM);
		waitpid(d->websockify, NULL, 0);
		d->websockify = 0;
	}
	if (d->monitor_fd >= 0) {
		close(d->monitor_fd);
		unlink(d->cfg.monitor);
	}
	d->monitor_fd = -1;
	vga_renderer_free(&d->r);
}
