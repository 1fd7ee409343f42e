// SPDX-License-Identifier: MIT
/*
 * minivisor-manager.c - a management daemon for several VMs: create, list, destroy, console
 * attach and detach, over a unix socket (the CLI is minivisor-ctl.c).
 *
 * One thread and one poll() loop: the listening socket, a signalfd for SIGCHLD (a VM ended)
 * and SIGTERM/SIGINT (stop everything), each VM's console and each client. Nothing blocks,
 * so one slow client or one stuck VM never holds up the rest. Each VM is a child process
 * (vm.c); a parked request (destroy, wait, shutdown) is answered when its event comes.
 * Events are logged on stderr, one line each.
 *
 *   minivisor-manager [-s SOCKET] [--vmm PATH]
 */
#define _GNU_SOURCE
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "mgr_socket.h"
#include "protocol.h"
#include "vm.h"

#define MAX_VMS	     16
#define MAX_CLIENTS  32
#define KILL_GRACE_S 3.0 /* SIGTERM, then this long before SIGKILL */
#define REQUEST_S    5.0 /* a client that has not sent its request line by then is dropped */

enum client_mode { C_FREE, C_REQUEST, C_CONSOLE, C_PARKED };
enum park_for { PARK_WAIT, PARK_DESTROY, PARK_SHUTDOWN };

struct client {
	enum client_mode mode;
	int fd;
	char line[MGR_LINE_MAX];
	size_t len;
	struct vm *vm; /* console and parked requests */
	enum park_for park;
	struct request req; /* a parked wait: what for (points into line) */
	double deadline;
};

static struct vm vms[MAX_VMS];
static struct client clients[MAX_CLIENTS];
static const char *vmm_path;
static bool shutting_down;
static char scratch[SCROLLBACK_SIZE]; /* a straight copy of a scrollback */

/* ---- clients ---- */

static void client_close(struct client *c)
{
	close(c->fd);
	c->mode = C_FREE;
	c->vm = NULL;
}

/*
 * Send to a client without ever blocking the loop: a client that cannot take what we send
 * (its socket buffer is full: it stopped reading) loses its connection instead.
 */
static bool client_send(struct client *c, const void *data, size_t len)
{
	ssize_t n = send(c->fd, data, len, MSG_DONTWAIT | MSG_NOSIGNAL);

	if (n == (ssize_t)len)
		return true;
	client_close(c);
	return false;
}

static void reply(struct client *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void reply(struct client *c, const char *fmt, ...)
{
	char buf[MGR_LINE_MAX];
	va_list ap;

	va_start(ap, fmt);
	int n = vsnprintf(buf, sizeof(buf) - 1, fmt, ap);
	va_end(ap);
	if (n > (int)sizeof(buf) - 2)
		n = sizeof(buf) - 2;
	buf[n++] = '\n';
	client_send(c, buf, n);
}

/* The last line of a request's answer: the connection closes after it. */
static void finish(struct client *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void finish(struct client *c, const char *fmt, ...)
{
	char buf[MGR_LINE_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (c->mode == C_FREE)
		return;
	reply(c, "%s", buf);
	if (c->mode != C_FREE)
		client_close(c);
}

/* Where the manager's socket is: the VMs' monitor sockets go there too. */
static char socket_dir[PATH_MAX];

/* ---- the VM table ---- */

static struct vm *vm_find(const char *name)
{
	for (int i = 0; i < MAX_VMS; i++)
		if (vms[i].used && !strcmp(vms[i].name, name))
			return &vms[i];
	return NULL;
}

static struct vm *vm_by_pid(pid_t pid)
{
	for (int i = 0; i < MAX_VMS; i++)
		if (vms[i].used && vms[i].pid == pid && vms[i].state != VM_STOPPED)
			return &vms[i];
	return NULL;
}

static struct vm *vm_free_slot(void)
{
	for (int i = 0; i < MAX_VMS; i++)
		if (!vms[i].used)
			return &vms[i];
	return NULL;
}

static int running_vms(void)
{
	int n = 0;

	for (int i = 0; i < MAX_VMS; i++)
		n += vms[i].used && vms[i].state != VM_STOPPED;
	return n;
}

/* ---- requests ---- */

static void cmd_create(struct client *c, struct request *r)
{
	char why[MGR_LINE_MAX];
	struct vm *vm;

	if (vm_find(r->name))
		return finish(c, "error: a VM named '%s' exists already", r->name);
	if (access(r->config, R_OK) < 0)
		return finish(c, "error: config %s: %s", r->config, strerror(errno));
	vm = vm_free_slot();
	if (!vm)
		return finish(c, "error: no room for another VM (at most %d)", MAX_VMS);
	/* everything but the 64 KiB buffer (the last field), which ring_init takes as it is */
	memset(vm, 0, offsetof(struct vm, scrollback_buf));
	snprintf(vm->name, sizeof(vm->name), "%s", r->name);
	snprintf(vm->config, sizeof(vm->config), "%s", r->config);
	/* Beside the manager's socket: the VM's monitor, which takes screendump requests. */
	if ((size_t)snprintf(vm->monitor, sizeof(vm->monitor), "%s/%s.monitor", socket_dir,
			     r->name) >= sizeof(vm->monitor))
		vm->monitor[0] = '\0';   /* too long for a unix socket: no screendumps */
	if ((size_t)snprintf(vm->control, sizeof(vm->control), "%s/%s.control", socket_dir,
			     r->name) >= sizeof(vm->control))
		vm->control[0] = '\0';   /* no snapshots nor migration */
	if (vm_start(vm, vmm_path, r->extra, r->nextra, why, sizeof(why)) < 0)
		return finish(c, "error: %s", why);
	vm->used = true;
	warnx("%s: started, pid %d", vm->name, vm->pid);
	finish(c, "ok created %s pid %d", vm->name, vm->pid);
}

static void cmd_list(struct client *c)
{
	char state[64];
	double now = now_s();

	int count = 0;

	for (int i = 0; i < MAX_VMS; i++)
		count += vms[i].used;
	reply(c, "ok %d VM(s)", count);
	reply(c, "%-16s %7s %-26s %8s  %s", "NAME", "PID", "STATE", "UPTIME", "CONFIG");
	for (int i = 0; i < MAX_VMS && c->mode != C_FREE; i++) {
		struct vm *vm = &vms[i];
		if (!vm->used)
			continue;
		double up = (vm->state == VM_STOPPED ? vm->ended : now) - vm->started;
		reply(c, "%-16s %7d %-26s %7.1fs  %s", vm->name, vm->pid,
		      vm_state_text(vm, state, sizeof(state)), up, vm->config);
	}
	if (c->mode != C_FREE)
		client_close(c);
}

/* Attach: "ok attached NAME LEN", LEN bytes of scrollback, then the live console stream. */
static void cmd_console(struct client *c, struct vm *vm)
{
	size_t n = ring_copy(&vm->scrollback, scratch, sizeof(scratch));

	reply(c, "ok attached %s %zu", vm->name, n);
	if (c->mode == C_FREE || !client_send(c, scratch, n))
		return;
	if (vm->console_fd < 0) /* the VM has ended: the scrollback is all there is */
		return client_close(c);
	c->mode = C_CONSOLE;
	c->vm = vm;
	c->len = 0;
}

/* Has a parked wait's condition come true? Answers it and returns true if so. */
static bool wait_done(struct client *c)
{
	struct vm *vm = c->vm;
	char state[64];

	if (c->req.wait == WAIT_OUTPUT &&
	    ring_contains(&vm->scrollback, c->req.text, scratch, sizeof(scratch))) {
		finish(c, "ok %s printed the text", vm->name);
		return true;
	}
	if (vm->state != VM_STOPPED || vm->console_fd >= 0)
		return false;
	if (c->req.wait == WAIT_STOPPED)
		finish(c, "ok %s %s", vm->name, vm_state_text(vm, state, sizeof(state)));
	else
		finish(c, "error: %s %s without printing the text", vm->name,
		       vm_state_text(vm, state, sizeof(state)));
	return true;
}

static void cmd_wait(struct client *c, struct vm *vm)
{
	c->mode = C_PARKED;
	c->park = PARK_WAIT;
	c->vm = vm;
	c->deadline = now_s() + c->req.timeout_s;
	wait_done(c);
}

static void forget_vm(struct vm *vm)
{
	for (int i = 0; i < MAX_CLIENTS; i++)
		if (clients[i].mode != C_FREE && clients[i].vm == vm)
			client_close(&clients[i]);
	if (vm->console_fd >= 0)
		close(vm->console_fd);
	vm->used = false;
	warnx("%s: destroyed", vm->name);
}

/*
 * One request to one of a VM's own sockets (its display monitor, its control socket): connect,
 * send the line, read the answer until the VM hangs up or limit_s passes. Returns the answer's
 * length (0: no answer), or -1 when the VM has no such socket or nobody listens on it.
 */
static ssize_t ask_vm(const char *path, const char *request, int limit_s, char *answer,
		      size_t size)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	struct timeval limit = {limit_s, 0};
	size_t n = 0;

	snprintf(a.sun_path, sizeof(a.sun_path), "%s", path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || !path[0] || connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof(limit));
	dprintf(fd, "%s\n", request);
	while (n < size - 1) {
		ssize_t got = read(fd, answer + n, size - 1 - n);
		if (got <= 0)
			break;
		n += got;
	}
	close(fd);
	answer[n] = '\0';
	return n;
}

/*
 * Screendump: ask the VM's display thread through its monitor socket (display/display.h) and
 * pass its one-line answer on. Short and local, so it is done right here (at most 5 s).
 */
static void cmd_screendump(struct client *c, struct vm *vm, const char *file)
{
	char request[PATH_MAX + 16], answer[600];

	if (vm->state != VM_RUNNING)
		return finish(c, "error: %s is not running", vm->name);
	snprintf(request, sizeof(request), "screendump %s", file);
	ssize_t n = ask_vm(vm->monitor, request, 5, answer, sizeof(answer));
	if (n < 0)
		return finish(c, "error: %s has no display to dump (its config says vga: none?)",
			      vm->name);
	answer[strcspn(answer, "\n")] = '\0';
	if (!strcmp(answer, "ok"))
		return finish(c, "ok %s: screen written to %s", vm->name, file);
	finish(c, "%s", n ? answer : "error: the VM did not answer");
}

/*
 * Snapshot and migrate: pass the request to the VM's control socket (../migration/migrate.h)
 * and its answer back, the result line first, then the VM's progress lines. Done right here,
 * as a screendump: the manager serves no one else meanwhile (a snapshot takes a moment; a
 * migration as long as its rounds, at most MIGRATE_LIMIT_S).
 */
#define MIGRATE_LIMIT_S 600
static void cmd_vm_control(struct client *c, struct vm *vm, const char *request)
{
	static char answer[16384];

	if (vm->state != VM_RUNNING)
		return finish(c, "error: %s is not running", vm->name);
	ssize_t got = ask_vm(vm->control, request, MIGRATE_LIMIT_S, answer, sizeof(answer));
	if (got < 0)
		return finish(c, "error: %s takes no control requests (no -control socket)",
			      vm->name);
	size_t n = got;
	/* The VM's last line is the verdict; the lines before it, its progress. */
	char *last = answer + n;
	while (last > answer && last[-1] == '\n')
		*--last = '\0';
	while (last > answer && last[-1] != '\n')
		last--;
	if (strncmp(last, "ok", 2) && strncmp(last, "error: ", 7))
		return finish(c, "error: %s did not answer (%s)", vm->name,
			      n ? "its answer was cut short" : "no answer");
	bool ok = !strncmp(last, "ok", 2);
	reply(c, "%s %s", ok ? "ok" : "error:", ok ? (last[2] ? last + 3 : vm->name) : last + 7);
	if (last > answer)
		last[-1] = '\0';
	if (last > answer)
		reply(c, "%s", answer);
	if (c->mode != C_FREE)
		client_close(c);
}

/* Destroy: stop the VM if it runs; the answer comes once it has been reaped. */
static void cmd_destroy(struct client *c, struct vm *vm)
{
	char state[64];

	if (vm->state == VM_STOPPED) {
		finish(c, "ok destroyed %s: it had %s", vm->name,
		       vm_state_text(vm, state, sizeof(state)));
		return forget_vm(vm);
	}
	vm->destroy = true;
	vm_stop(vm, KILL_GRACE_S);
	c->mode = C_PARKED;
	c->park = PARK_DESTROY;
	c->vm = vm;
}

/* Stop every VM; the loop ends once they have all been reaped. */
static void stop_all(void)
{
	shutting_down = true;
	for (int i = 0; i < MAX_VMS; i++)
		if (vms[i].used) {
			vms[i].destroy = true;
			vm_stop(&vms[i], KILL_GRACE_S);
		}
	warnx("shutting down: stopping %d VM(s)", running_vms());
}

static void cmd_shutdown(struct client *c)
{
	stop_all();
	c->mode = C_PARKED;
	c->park = PARK_SHUTDOWN;
	c->vm = NULL;
}

/* A complete request line: parse it, check the names it refers to, act. */
static void handle_request(struct client *c)
{
	struct request *r = &c->req;
	char why[256];
	struct vm *vm = NULL;

	if (proto_parse(c->line, r, why, sizeof(why)) < 0)
		return finish(c, "error: %s", why);
	if (shutting_down)
		return finish(c, "error: the manager is shutting down");
	if (r->name && r->cmd != CMD_CREATE) {
		vm = vm_find(r->name);
		if (!vm)
			return finish(c, "error: no VM named '%s'", r->name);
	}
	switch (r->cmd) {
	case CMD_CREATE:
		return cmd_create(c, r);
	case CMD_LIST:
		return cmd_list(c);
	case CMD_DESTROY:
		return cmd_destroy(c, vm);
	case CMD_CONSOLE:
		return cmd_console(c, vm);
	case CMD_WAIT:
		return cmd_wait(c, vm);
	case CMD_SHUTDOWN:
		return cmd_shutdown(c);
	case CMD_SCREENDUMP:
		return cmd_screendump(c, vm, r->text);
	case CMD_SNAPSHOT:
	case CMD_MIGRATE: {
		char request[MGR_LINE_MAX];
		snprintf(request, sizeof(request), "%s %s%s%s",
			 r->cmd == CMD_SNAPSHOT ? "snapshot" : "migrate", r->text,
			 r->option ? " " : "", r->option ? r->option : "");
		return cmd_vm_control(c, vm, request);
	}
	}
}

/* Bytes from a client still sending its request line. */
static void client_request_input(struct client *c)
{
	ssize_t n = recv(c->fd, c->line + c->len, sizeof(c->line) - 1 - c->len, MSG_DONTWAIT);

	if (n <= 0) {
		if (n == 0 || (errno != EAGAIN && errno != EINTR))
			client_close(c);
		return;
	}
	c->len += n;
	char *nl = memchr(c->line, '\n', c->len);
	if (nl) {
		*nl = '\0';
		if (memchr(c->line, '\0', nl - c->line))
			return finish(c, "error: malformed request: NUL byte");
		return handle_request(c);
	}
	if (c->len == sizeof(c->line) - 1)
		finish(c, "error: malformed request: line longer than %d bytes", MGR_LINE_MAX - 1);
}

/* Bytes typed at an attached console: to the VM's pty. EOF or error: the client detached. */
static void client_console_input(struct client *c)
{
	char buf[1024];
	ssize_t n = recv(c->fd, buf, sizeof(buf), MSG_DONTWAIT);

	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
		warnx("%s: console detached", c->vm->name);
		return client_close(c);
	}
	if (n > 0 && c->vm->console_fd >= 0 && write(c->vm->console_fd, buf, n) < 0)
		warnx("%s: console input lost: %s", c->vm->name, strerror(errno));
}

/* A parked client has said all it had to: more bytes are ignored, EOF means it went away. */
static void client_parked_input(struct client *c)
{
	char buf[256];
	ssize_t n = recv(c->fd, buf, sizeof(buf), MSG_DONTWAIT);

	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
		client_close(c);
}

static void client_input(struct client *c)
{
	if (c->mode == C_REQUEST)
		client_request_input(c);
	else if (c->mode == C_CONSOLE)
		client_console_input(c);
	else
		client_parked_input(c);
}

/*
 * Only this user's own processes may manage its VMs: a client of another user (a socket whose
 * mode was loosened by hand, say) gets one line and is dropped before it can name a file.
 */
static bool client_is_own_user(int fd)
{
	uid_t uid = (uid_t)-1;

	if (peer_uid(fd, &uid) == 0 && uid == geteuid())
		return true;
	warnx("refused a client of uid %d: this manager serves uid %u only", (int)uid,
	      (unsigned)geteuid());
	dprintf(fd, "error: permission denied: this manager serves uid %u only\n",
		(unsigned)geteuid());
	return false;
}

static void accept_client(int listen_fd)
{
	int fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

	if (fd < 0)
		return;
	if (!client_is_own_user(fd)) {
		close(fd);
		return;
	}
	for (int i = 0; i < MAX_CLIENTS; i++)
		if (clients[i].mode == C_FREE) {
			/* a deadline, or clients that never speak could fill the table */
			clients[i] = (struct client){
			    .mode = C_REQUEST, .fd = fd, .deadline = now_s() + REQUEST_S};
			return;
		}
	dprintf(fd, "error: too many clients\n");
	close(fd);
}

/* ---- VM events ---- */

/* After any change to VM: answer the parked requests whose moment has come. */
static void wake_parked(struct vm *vm)
{
	for (int i = 0; i < MAX_CLIENTS; i++) {
		struct client *c = &clients[i];
		if (c->mode != C_PARKED || c->vm != vm)
			continue;
		if (c->park == PARK_WAIT)
			wait_done(c);
	}
}

/* Console bytes from VM: to the scrollback and every attached client. Returns what it read. */
static ssize_t console_output(struct vm *vm)
{
	char buf[4096];
	ssize_t n = vm_read_console(vm, buf, sizeof(buf));

	for (int i = 0; i < MAX_CLIENTS && n > 0; i++)
		if (clients[i].mode == C_CONSOLE && clients[i].vm == vm)
			client_send(&clients[i], buf, n);
	for (int i = 0; i < MAX_CLIENTS && n < 0; i++) /* the console closed: so do attaches */
		if (clients[i].mode == C_CONSOLE && clients[i].vm == vm)
			client_close(&clients[i]);
	if (n != 0)
		wake_parked(vm);
	return n;
}

/* The VM has ended and its console is drained: destroy answers, and forgetting. */
static void vm_ended(struct vm *vm)
{
	char state[64];

	wake_parked(vm);
	for (int i = 0; i < MAX_CLIENTS; i++) {
		struct client *c = &clients[i];
		if (c->mode == C_PARKED && c->park == PARK_DESTROY && c->vm == vm)
			finish(c, "ok destroyed %s: %s", vm->name,
			       vm_state_text(vm, state, sizeof(state)));
	}
	if (vm->destroy)
		forget_vm(vm);
}

/*
 * The VMM has exited: what it wrote is in the pty, read it all before saying "stopped", so
 * that a `wait ... stopped` followed by `console` sees the last line. If something else still
 * holds the pty open (a process the VMM started), that is not the VM: stop listening to it.
 */
static void drain_console(struct vm *vm)
{
	while (vm->console_fd >= 0 && console_output(vm) > 0)
		;
	for (int i = 0; i < MAX_CLIENTS; i++)
		if (clients[i].mode == C_CONSOLE && clients[i].vm == vm)
			client_close(&clients[i]);
	if (vm->console_fd >= 0) {
		close(vm->console_fd);
		vm->console_fd = -1;
	}
}

/* SIGCHLD: reap every child that has ended, drain its console into the scrollback. */
static void reap_children(void)
{
	char state[64];
	int st;
	pid_t pid;

	while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
		struct vm *vm = vm_by_pid(pid);
		if (!vm)
			continue; /* a VMM whose exec failed: create has answered already */
		vm_reaped(vm, st);
		warnx("%s: %s", vm->name, vm_state_text(vm, state, sizeof(state)));
		drain_console(vm);
		vm_ended(vm);
	}
}

static void handle_signals(int sfd)
{
	struct signalfd_siginfo si;

	while (read(sfd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGCHLD)
			reap_children();
		else if (!shutting_down)
			stop_all();
	}
}

/* ---- time ---- */

/* SIGKILL what ignored SIGTERM, time out waits; return poll's timeout (ms) for the next one. */
static int handle_deadlines(void)
{
	double now = now_s(), next = now + 60;

	for (int i = 0; i < MAX_VMS; i++) {
		struct vm *vm = &vms[i];
		if (!vm->used || vm->state != VM_STOPPING)
			continue;
		if (now >= vm->kill_at) {
			warnx("%s: still there after SIGTERM: SIGKILL", vm->name);
			kill(vm->pid, SIGKILL);
			vm->kill_at = now + 60;
		}
		next = vm->kill_at < next ? vm->kill_at : next;
	}
	for (int i = 0; i < MAX_CLIENTS; i++) {
		struct client *c = &clients[i];
		bool waiting = c->mode == C_PARKED && c->park == PARK_WAIT;
		if (!waiting && c->mode != C_REQUEST)
			continue;
		if (now < c->deadline)
			next = c->deadline < next ? c->deadline : next;
		else if (waiting)
			finish(c, "error: timed out waiting for %s", c->vm->name);
		else
			finish(c, "error: no request line within %.0f s", REQUEST_S);
	}
	return (int)((next - now) * 1000) + 1;
}

/* ---- the loop ---- */

enum { FD_LISTEN, FD_SIGNAL, FD_FIXED };

static int build_pollfds(struct pollfd *fds, void **owner, int listen_fd, int sfd)
{
	int n = FD_FIXED;

	fds[FD_LISTEN] = (struct pollfd){.fd = listen_fd, .events = POLLIN};
	fds[FD_SIGNAL] = (struct pollfd){.fd = sfd, .events = POLLIN};
	for (int i = 0; i < MAX_VMS; i++)
		if (vms[i].used && vms[i].console_fd >= 0) {
			owner[n] = &vms[i];
			fds[n++] = (struct pollfd){.fd = vms[i].console_fd, .events = POLLIN};
		}
	for (int i = 0; i < MAX_CLIENTS; i++)
		if (clients[i].mode != C_FREE) {
			owner[n] = &clients[i];
			fds[n++] = (struct pollfd){.fd = clients[i].fd, .events = POLLIN};
		}
	return n;
}

static bool is_vm(void *p)
{
	return p >= (void *)vms && p < (void *)(vms + MAX_VMS);
}

static void serve(int listen_fd, int sfd)
{
	struct pollfd fds[FD_FIXED + MAX_VMS + MAX_CLIENTS];
	void *owner[FD_FIXED + MAX_VMS + MAX_CLIENTS];

	while (!(shutting_down && running_vms() == 0)) {
		int timeout = handle_deadlines();
		int n = build_pollfds(fds, owner, listen_fd, sfd);
		if (poll(fds, n, timeout) < 0 && errno != EINTR) {
			warnx("poll: %s", strerror(errno));
			return;
		}
		if (fds[FD_SIGNAL].revents)
			handle_signals(sfd);
		for (int i = FD_FIXED; i < n; i++) {
			if (!fds[i].revents)
				continue;
			/* an earlier event of this round may have closed the fd: check it is
			 * current */
			if (is_vm(owner[i])) {
				struct vm *vm = owner[i];
				if (vm->used && vm->console_fd == fds[i].fd)
					console_output(vm);
			} else {
				struct client *c = owner[i];
				if (c->mode != C_FREE && c->fd == fds[i].fd)
					client_input(c);
			}
		}
		if (fds[FD_LISTEN].revents)
			accept_client(listen_fd);
	}
}

/* The parked shutdown requests learn that it is done; the socket goes away. */
static void finish_shutdown(const char *path)
{
	for (int i = 0; i < MAX_CLIENTS; i++)
		if (clients[i].mode == C_PARKED && clients[i].park == PARK_SHUTDOWN)
			finish(&clients[i], "ok the manager has stopped");
	unlink(path);
	warnx("stopped");
}

static int signal_fd(void)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigprocmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN); /* a client that vanished is an error from send, not a death */
	return signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
}

/*
 * Listen on PATH, in a directory make_socket_dir() has vetted. A socket file nobody answers on
 * is left over from a crash: replace it.
 */
static int listen_on(const char *path)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

	if (strlen(path) >= sizeof(a.sun_path)) {
		warnx("%s: socket path too long", path);
		return -1;
	}
	strcpy(a.sun_path, path);
	if (connect_manager(path) >= 0) {
		warnx("a manager is running at %s already", path);
		return -1;
	}
	unlink(path);
	/* The socket file is born private (0600): connect() needs write permission on it. */
	mode_t old_mask = umask(0177);
	int bound = bind(fd, (struct sockaddr *)&a, sizeof(a));
	umask(old_mask);
	if (bound < 0 || listen(fd, 16) < 0) {
		warnx("%s: %s", path, strerror(errno));
		return -1;
	}
	return fd;
}

/* The VMM: --vmm, else `minivisor` in the directory above this program's (stage 5's). */
static const char *default_vmm(void)
{
	static char path[PATH_MAX], vmm[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", path, sizeof(path) - 32);

	if (n < 0)
		return "minivisor";
	path[n] = '\0';
	*strrchr(path, '/') = '\0';
	strcat(path, "/../minivisor");
	return realpath(path, vmm) ? vmm : path;
}

static const char usage[] = "usage: minivisor-manager [-s SOCKET] [--vmm PATH]\n";

static int bad_usage(void)
{
	fputs(usage, stderr);
	return 2;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {{"socket", required_argument, NULL, 's'},
					     {"vmm", required_argument, NULL, 'v'},
					     {"help", no_argument, NULL, 'h'},
					     {0}};
	const char *path = default_socket_path();
	int o;

	vmm_path = default_vmm();
	while ((o = getopt_long(argc, argv, "s:h", opts, NULL)) != -1) {
		if (o == 's')
			path = optarg;
		else if (o == 'v')
			vmm_path = optarg;
		else if (o == 'h')
			return fputs(usage, stdout) < 0;
		else
			return bad_usage();
	}
	if (optind != argc)
		return bad_usage();
	if (access(vmm_path, X_OK) < 0)
		return warnx("VMM %s: %s", vmm_path, strerror(errno)), 2;
	char why[PATH_MAX + 200];
	snprintf(socket_dir, sizeof(socket_dir), "%s", path);
	char *slash = strrchr(socket_dir, '/');
	if (slash)
		*slash = '\0';
	else
		snprintf(socket_dir, sizeof(socket_dir), ".");
	if (make_socket_dir(path, why, sizeof(why)) < 0)
		return warnx("%s", why), 2;
	int sfd = signal_fd();
	int listen_fd = listen_on(path);
	if (listen_fd < 0)
		return 1;
	warnx("listening on %s; VMM %s", path, vmm_path);
	serve(listen_fd, sfd);
	finish_shutdown(path);
	return 0;
}
