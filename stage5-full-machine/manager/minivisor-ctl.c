// SPDX-License-Identifier: MIT
/*
 * minivisor-ctl.c - the manager's command line client: one request per run, the answer
 * printed, exit status 0 for "ok", 1 for an error (one line on stderr), 2 for bad usage.
 *
 *   minivisor-ctl [-s SOCKET] create NAME CONFIG.yaml [-- VMM-FLAG...]
 *   minivisor-ctl [-s SOCKET] list | destroy NAME | console NAME | shutdown
 *   minivisor-ctl [-s SOCKET] wait [-t SECONDS] NAME stopped | output TEXT
 *
 * console attaches a terminal to the VM's serial port: the scrollback first, then live
 * output; what you type goes to the guest. Ctrl-] or Ctrl-A d detaches (the VM runs on);
 * so does the end of stdin, which lets a script print a console and go.
 */
#define _GNU_SOURCE
#include <err.h>
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <termios.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "mgr_socket.h"
#include "protocol.h"

static const char usage[] =
    "usage: minivisor-ctl [-s SOCKET] COMMAND\n"
    "  create NAME CONFIG.yaml [-- FLAG...]  start `minivisor -config CONFIG FLAG...`\n"
    "  list                                  name, pid, state, uptime, config\n"
    "  destroy NAME                          stop it (SIGTERM, SIGKILL) and forget it\n"
    "  console NAME                          attach; Ctrl-] or Ctrl-A d detaches\n"
    "  wait [-t SECONDS] NAME stopped        until it has ended (default: 10 s)\n"
    "  wait [-t SECONDS] NAME output TEXT    until its console has printed TEXT\n"
    "  screendump NAME FILE                  its screen into FILE (.png; .txt: the text)\n"
    "  snapshot NAME FILE                    pause it, write it to FILE, resume it\n"
    "  migrate NAME tcp:HOST:PORT [downtime=MS]  live migration to `minivisor -incoming tcp:..`\n"
    "  (restore: create NAME CONFIG -- -incoming file:FILE, with the same flags and disks)\n"
    "  control VM-SOCKET snapshot FILE | migrate tcp:HOST:PORT [downtime=MS]\n"
    "                                        the same, straight to a VM's -control socket\n"
    "                                        (no manager: scripts, the nested test host)\n"
    "  shutdown                              stop every VM, then the manager\n";

static const char *sock_path;

static int bad_usage(void)
{
	fputs(usage, stderr);
	return 2;
}

/* One line on stderr; returns 1, the exit status for every error but bad usage. */
static int fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vwarnx(fmt, ap); /* "minivisor-ctl: " first */
	va_end(ap);
	return 1;
}

/*
 * Connect, but only to a manager of this user in a directory no one else controls: another
 * user who could swap the socket would otherwise read every command and console we send.
 * Either failure ends the program (exit 2) with one line.
 */
static int connect_or_explain(void)
{
	char why[PATH_MAX + 200];
	uid_t uid = (uid_t)-1;

	if (check_socket_dir(sock_path, why, sizeof(why)) < 0 && errno != ENOENT) {
		fprintf(stderr, "minivisor-ctl: %s\n", why);
		exit(2);
	}
	int fd = connect_manager(sock_path);
	if (fd < 0) {
		fprintf(stderr,
			"minivisor-ctl: no manager at %s (%s; start one with "
			"minivisor-manager -s %s)\n",
			sock_path, strerror(errno), sock_path);
		return fd;
	}
	if (peer_uid(fd, &uid) < 0 || uid != geteuid()) {
		fprintf(stderr,
			"minivisor-ctl: %s is served by uid %d, not by this user (uid %u): "
			"refusing to talk to it\n",
			sock_path, (int)uid, (unsigned)geteuid());
		exit(2);
	}
	return fd;
}

/* Send WORDS as one request line. */
static int send_request(int fd, char **words, int n)
{
	char line[MGR_LINE_MAX] = "";

	for (int i = 0; i < n; i++)
		if (proto_quote(words[i], line, sizeof(line) - 1) < 0)
			return fail("request too long, or '%s' holds a control character",
				    words[i]);
	strcat(line, "\n");
	if (write(fd, line, strlen(line)) < 0)
		return fail("cannot send the request: %s", strerror(errno));
	return 0;
}

/* Read the whole answer (until the manager closes); print it; 0 for "ok", 1 for "error:". */
static int print_answer(int fd, bool table)
{
	FILE *in = fdopen(fd, "r");
	char line[MGR_LINE_MAX];
	int rc = 1;

	if (!in || !fgets(line, sizeof(line), in))
		return fail("%s", "the manager closed the connection without an answer");
	line[strcspn(line, "\n")] = '\0';
	if (!strncmp(line, "ok", 2)) {
		rc = 0;
		if (!table)
			puts(line[2] ? line + 3 : "ok");
	} else {
		fail("%s", strncmp(line, "error: ", 7) ? line : line + 7);
	}
	while (fgets(line, sizeof(line), in))
		fputs(line, stdout);
	fclose(in);
	return rc;
}

static int simple_request(char **words, int n, bool table)
{
	int fd = connect_or_explain();

	if (fd < 0)
		return 1;
	if (send_request(fd, words, n)) {
		close(fd);
		return 1;
	}
	return print_answer(fd, table);
}

/*
 * control: talk to one VM's -control socket (../migration/migrate.h) without a manager. Its
 * lines are printed as they come (progress, then the verdict); 0 when the last says "ok".
 */
static int cmd_control(int argc, char **argv)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	char line[MGR_LINE_MAX] = "", last[MGR_LINE_MAX] = "";

	if (argc < 3 || strlen(argv[1]) >= sizeof(a.sun_path))
		return bad_usage();
	for (int i = 2; i < argc; i++)
		if (proto_quote(argv[i], line, sizeof(line) - 1) < 0)
			return fail("request too long: %s", argv[i]);
	strcat(line, "\n");
	strcpy(a.sun_path, argv[1]);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0)
		return fail("no VM at %s: %s", argv[1], strerror(errno));
	if (write(fd, line, strlen(line)) < 0)
		return fail("cannot send the request: %s", strerror(errno));
	FILE *in = fdopen(fd, "r");
	while (in && fgets(line, sizeof(line), in)) {
		fputs(line, stdout);
		fflush(stdout);
		snprintf(last, sizeof(last), "%s", line);
	}
	if (in)
		fclose(in);
	if (!strncmp(last, "ok", 2))
		return 0;
	return last[0] ? 1 : fail("%s closed the connection without an answer", argv[1]);
}

/* screendump: the VM writes the file, from its own directory: an absolute path goes. */
static int cmd_screendump(char **argv)
{
	char file[PATH_MAX], cwd[PATH_MAX];
	char *words[3] = {"screendump", argv[1], file};

	if (argv[2][0] == '/')
		snprintf(file, sizeof(file), "%s", argv[2]);
	else if (!getcwd(cwd, sizeof(cwd)) ||
		 (size_t)snprintf(file, sizeof(file), "%s/%s", cwd, argv[2]) >= sizeof(file))
		return fail("screendump: %s: path too long", argv[2]);
	return simple_request(words, 3, false);
}

/* create: the manager runs elsewhere, so the config goes as an absolute path. */
static int cmd_create(int argc, char **argv)
{
	char config[PATH_MAX];
	char *words[MGR_ARGS_MAX + 1];
	int n = 0;

	if (argc < 3 || (argc > 3 && strcmp(argv[3], "--")))
		return bad_usage();
	if (!realpath(argv[2], config))
		return fail("config %s: %s", argv[2], strerror(errno));
	words[n++] = "create";
	words[n++] = argv[1];
	words[n++] = config;
	for (int i = 4; i < argc && n < MGR_ARGS_MAX + 1; i++)
		words[n++] = argv[i];
	return simple_request(words, n, false);
}

static int cmd_wait(int argc, char **argv)
{
	char *timeout = "10";
	char *words[6] = {"wait"};

	if (argc > 2 && !strcmp(argv[1], "-t")) {
		timeout = argv[2];
		argc -= 2;
		argv += 2;
	}
	if (argc < 3 || argc > 4)
		return bad_usage();
	words[1] = argv[1];
	words[2] = timeout;
	words[3] = argv[2];
	words[4] = argc == 4 ? argv[3] : NULL;
	return simple_request(words, argc == 4 ? 5 : 4, false);
}

/* ---- console ---- */

/* The attach header, "ok attached NAME LEN", read a byte at a time: what follows is raw. */
static int read_header(int fd, char *line, size_t len)
{
	size_t n = 0;

	while (n < len - 1 && read(fd, line + n, 1) == 1 && line[n] != '\n')
		n++;
	line[n] = '\0';
	return n;
}

static bool copy_exactly(int from, int to, size_t len)
{
	char buf[4096];

	while (len) {
		ssize_t n = read(from, buf, len < sizeof(buf) ? len : sizeof(buf));
		if (n <= 0 || write(to, buf, n) != n)
			return false;
		len -= n;
	}
	return true;
}

static struct termios saved_tty;

static void restore_tty(void)
{
	tcsetattr(STDIN_FILENO, TCSANOW, &saved_tty);
}

/* A terminal on stdin goes raw, so Ctrl-C and Ctrl-] reach the guest and us as bytes. */
static void raw_tty(void)
{
	struct termios raw;

	if (!isatty(STDIN_FILENO) || tcgetattr(STDIN_FILENO, &saved_tty) < 0)
		return;
	raw = saved_tty;
	cfmakeraw(&raw);
	if (tcsetattr(STDIN_FILENO, TCSANOW, &raw) == 0)
		atexit(restore_tty);
}

/* Keys typed: forwarded, except the detach keys. Returns false to detach. */
static bool forward_keys(int fd, struct detach_keys *k)
{
	unsigned char in[256], out[sizeof(in) * 2];
	size_t len = 0;
	bool detach = false;
	ssize_t n = read(STDIN_FILENO, in, sizeof(in));

	if (n <= 0)
		return false; /* the end of stdin detaches too */
	for (ssize_t i = 0; i < n && !detach; i++) {
		int m = detach_feed(k, in[i], out + len);
		if (m < 0)
			detach = true;
		else
			len += m;
	}
	if (len && write(fd, out, len) != (ssize_t)len)
		return false;
	return !detach;
}

/* Console output to stdout. Returns false when the manager closed it (the VM ended). */
static bool show_output(int fd)
{
	char buf[4096];
	ssize_t n = read(fd, buf, sizeof(buf));

	return n > 0 && write(STDOUT_FILENO, buf, n) == n;
}

/* Attached: shuttle bytes both ways until a detach key, the end of stdin or of the VM. */
static int attached(int fd, const char *name)
{
	struct detach_keys keys = {0};
	struct pollfd p[2] = {{.fd = fd, .events = POLLIN}, {.fd = STDIN_FILENO, .events = POLLIN}};

	raw_tty();
	if (isatty(STDIN_FILENO))
		fprintf(stderr, "[attached to %s: Ctrl-] or Ctrl-A d detaches]\r\n", name);
	for (;;) {
		if (poll(p, 2, -1) < 0 && errno != EINTR)
			return fail("poll: %s", strerror(errno));
		if (p[0].revents && !show_output(fd)) {
			fprintf(stderr, "\r\n[%s: the console closed: the VM has stopped]\r\n",
				name);
			return 0;
		}
		if (p[1].revents && !forward_keys(fd, &keys)) {
			fprintf(stderr, "\r\n[detached from %s; it runs on]\r\n", name);
			return 0;
		}
	}
}

static int cmd_console(int argc, char **argv)
{
	char line[MGR_LINE_MAX], name[VM_NAME_MAX + 1];
	size_t len;
	int fd;

	if (argc != 2)
		return bad_usage();
	fd = connect_or_explain();
	if (fd < 0 || send_request(fd, argv, 2))
		return 1;
	read_header(fd, line, sizeof(line));
	if (sscanf(line, "ok attached %32s %zu", name, &len) != 2)
		return fail("%s", strncmp(line, "error: ", 7) ? line : line + 7);
	if (!copy_exactly(fd, STDOUT_FILENO, len))
		return fail("%s", "the scrollback was cut short");
	return attached(fd, name);
}

int main(int argc, char **argv)
{
	sock_path = default_socket_path();
	if (argc > 2 && !strcmp(argv[1], "-s")) {
		sock_path = argv[2];
		argc -= 2;
		argv += 2;
	}
	if (argc < 2)
		return bad_usage();
	const char *cmd = argv[1];
	argc--;
	argv++;
	if (!strcmp(cmd, "-h") || !strcmp(cmd, "--help"))
		return fputs(usage, stdout) < 0;
	if (!strcmp(cmd, "create"))
		return cmd_create(argc, argv);
	if (!strcmp(cmd, "console"))
		return cmd_console(argc, argv);
	if (!strcmp(cmd, "wait"))
		return cmd_wait(argc, argv);
	if (!strcmp(cmd, "list") && argc == 1)
		return simple_request(argv, 1, true);
	if (!strcmp(cmd, "screendump") && argc == 3)
		return cmd_screendump(argv);
	if (!strcmp(cmd, "snapshot") && argc == 3) {
		char file[PATH_MAX], cwd[PATH_MAX];
		if (argv[2][0] != '/' && (!getcwd(cwd, sizeof(cwd)) ||
		    (size_t)snprintf(file, sizeof(file), "%s/%s", cwd, argv[2]) >= sizeof(file)))
			return fail("snapshot: %s: path too long", argv[2]);
		char *words[3] = {"snapshot", argv[1], argv[2][0] == '/' ? argv[2] : file};
		return simple_request(words, 3, false);
	}
	if (!strcmp(cmd, "control"))
		return cmd_control(argc, argv);
	if (!strcmp(cmd, "migrate") && (argc == 3 || argc == 4))
		return simple_request(argv, argc, false);
	if ((!strcmp(cmd, "destroy") && argc == 2) || (!strcmp(cmd, "shutdown") && argc == 1))
		return simple_request(argv, argc, false);
	fprintf(stderr, "minivisor-ctl: unknown command or wrong arguments: %s\n", cmd);
	return bad_usage();
}
