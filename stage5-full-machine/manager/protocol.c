// SPDX-License-Identifier: MIT
/*
 * protocol.c - how the manager and its CLI talk: a text protocol a person can type with
 * `socat - UNIX-CONNECT:SOCKET`, parsed defensively because any local user who can reach the
 * socket can send anything.
 *
 * One connection carries one request line; the reply is "ok ..." or "error: ..." and, for
 * list, a table; then the manager closes it (console keeps it open as a byte stream).
 *   create NAME CONFIG [FLAG...]   list   destroy NAME   console NAME   shutdown
 *   wait NAME SECONDS stopped      wait NAME SECONDS output TEXT
 *   screendump NAME FILE           the VM's screen into FILE (.png, or .txt for a text screen)
 *   snapshot NAME FILE             the VM paused, written to FILE, resumed (../migration/)
 *   migrate NAME tcp:HOST:PORT [downtime=MS]   live migration to a `minivisor -incoming`
 */
#include "protocol.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Copy one "quoted" word from *src to *dst (in place: dst never passes src); NULL if unclosed. */
static char *split_quoted(char *src, char **dst)
{
	for (src++; *src != '"'; src++) {
		if (!*src)
			return NULL;
		if (*src == '\\' && (src[1] == '"' || src[1] == '\\'))
			src++;
		*(*dst)++ = *src;
	}
	return src + 1;
}

static int split_error(const char **why, const char *what)
{
	*why = what;
	return -1;
}

/*
 * Split LINE in place into words. A word is a run of printable non-space characters or a
 * "quoted string" (which may hold spaces); control bytes are refused, not guessed at.
 * Returns the word count, or -1 with *why set.
 */
int proto_split(char *line, char *argv[], int max, const char **why)
{
	int argc = 0;
	char *src = line;

	for (;;) {
		while (*src == ' ')
			src++;
		if (!*src)
			return argc;
		if (argc == max)
			return split_error(why, "too many words");
		char *dst = src;
		argv[argc++] = dst;
		while (*src && *src != ' ') {
			unsigned char c = (unsigned char)*src;
			if (c < 0x20 || c == 0x7f)
				return split_error(why, "control character in request");
			if (c == '"') {
				src = split_quoted(src, &dst);
				if (!src)
					return split_error(why, "unterminated quote");
			} else {
				*dst++ = *src++;
			}
		}
		char *next = *src ? src + 1 : src;
		*dst = '\0'; /* after the copy: dst may be the space we stopped at */
		src = next;
	}
}

/* Names appear in list output, log lines and error messages: keep them plain and short. */
bool vm_name_valid(const char *name)
{
	size_t n = strlen(name);

	if (n == 0 || n > VM_NAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = name[i];
		bool alnum =
		    (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
		if (!alnum && (i == 0 || (c != '.' && c != '_' && c != '-')))
			return false;
	}
	return true;
}

struct cmd_shape {
	const char *word;
	enum mgr_cmd cmd;
	int min_args, max_args; /* words after the command */
	const char *usage;
};

static const struct cmd_shape commands[] = {
    {"create", CMD_CREATE, 2, MGR_ARGS_MAX, "create NAME CONFIG [FLAG...]"},
    {"list", CMD_LIST, 0, 0, "list"},
    {"destroy", CMD_DESTROY, 1, 1, "destroy NAME"},
    {"console", CMD_CONSOLE, 1, 1, "console NAME"},
    {"wait", CMD_WAIT, 3, 4, "wait NAME SECONDS stopped|output TEXT"},
    {"shutdown", CMD_SHUTDOWN, 0, 0, "shutdown"},
    {"screendump", CMD_SCREENDUMP, 2, 2, "screendump NAME FILE"},
    {"snapshot", CMD_SNAPSHOT, 2, 2, "snapshot NAME FILE"},
    {"migrate", CMD_MIGRATE, 2, 3, "migrate NAME tcp:HOST:PORT [downtime=MS]"},
};

static const struct cmd_shape *find_command(const char *word)
{
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(commands[i].word, word))
			return &commands[i];
	return NULL;
}

/* Say why a request is refused, in WHY; returns -1 so that callers can `return refuse(...)`. */
int refuse(char *why, size_t why_len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, why_len, fmt, ap);
	va_end(ap);
	return -1;
}

/* wait's arguments: SECONDS (1..3600), then "stopped" or "output TEXT". */
static int parse_wait(char **args, int nargs, struct request *req, char *why, size_t why_len)
{
	char *end;
	long s = strtol(args[1], &end, 10);

	if (*end || end == args[1] || s < 1 || s > 3600)
		return refuse(why, why_len, "wait: bad timeout '%s' (1..3600 seconds)", args[1]);
	req->timeout_s = (int)s;
	if (!strcmp(args[2], "stopped") && nargs == 3) {
		req->wait = WAIT_STOPPED;
	} else if (!strcmp(args[2], "output") && nargs == 4 && args[3][0]) {
		req->wait = WAIT_OUTPUT;
		req->text = args[3];
	} else {
		return refuse(why, why_len, "usage: wait NAME SECONDS stopped|output TEXT");
	}
	return 0;
}

/* Split LINE and check it against the command table. Returns 0, or -1 with WHY filled in. */
int proto_parse(char *line, struct request *req, char *why, size_t why_len)
{
	const char *err;

	memset(req, 0, sizeof(*req));
	char **argv = req->words;
	int argc = proto_split(line, argv, MGR_ARGS_MAX + 1, &err);
	if (argc < 0)
		return refuse(why, why_len, "malformed request: %s", err);
	if (argc == 0)
		return refuse(why, why_len, "empty request");
	const struct cmd_shape *c = find_command(argv[0]);
	if (!c)
		return refuse(why, why_len,
			      "unknown command '%.40s' (known: create, list, "
			      "destroy, console, wait, shutdown, screendump, snapshot, migrate)",
			      argv[0]);
	int nargs = argc - 1;
	if (nargs < c->min_args || nargs > c->max_args)
		return refuse(why, why_len, "usage: %s", c->usage);
	req->cmd = c->cmd;
	if (nargs == 0)
		return 0;
	req->name = argv[1];
	if (!vm_name_valid(req->name))
		return refuse(why, why_len,
			      "bad VM name '%.40s' (1-%d of A-Z a-z 0-9 . _ -, "
			      "starting with a letter or digit)",
			      req->name, VM_NAME_MAX);
	if (c->cmd == CMD_WAIT)
		return parse_wait(argv + 1, nargs, req, why, why_len);
	if (c->cmd == CMD_SCREENDUMP || c->cmd == CMD_SNAPSHOT) {
		if (argv[2][0] != '/')
			return refuse(why, why_len, "%s: '%.40s' is not an absolute path",
				      argv[0], argv[2]);
		req->text = argv[2];
	}
	if (c->cmd == CMD_MIGRATE) {
		if (strncmp(argv[2], "tcp:", 4))
			return refuse(why, why_len, "migrate: '%.40s': want tcp:HOST:PORT", argv[2]);
		if (nargs == 3 && (strncmp(argv[3], "downtime=", 9) ||
				   strspn(argv[3] + 9, "0123456789") != strlen(argv[3] + 9) ||
				   !argv[3][9]))
			return refuse(why, why_len, "migrate: '%.40s': want downtime=MS", argv[3]);
		req->text = argv[2];
		req->option = nargs == 3 ? argv[3] : NULL;
	}
	if (c->cmd == CMD_CREATE) {
		req->config = argv[2];
		req->extra = argv + 3;
		req->nextra = nargs - 2;
	}
	return 0;
}

/* Append one byte at *p if it fits before END; else remember that it did not. */
static void put(char **p, char *end, char c, bool *full)
{
	if (*p < end)
		*(*p)++ = c;
	else
		*full = true;
}

/*
 * Append WORD to OUT (a line being built, NUL-terminated) as one protocol word, quoted when
 * it holds a space, a quote or a backslash. Returns 0, or -1 (OUT unchanged) when it does
 * not fit or holds a control character, which the manager would refuse anyway.
 */
int proto_quote(const char *word, char *out, size_t out_len)
{
	size_t n = strlen(out);
	bool plain = word[0] && !strpbrk(word, " \"\\"), full = false;
	char *p = out + n, *end = out + out_len - 1;

	if (n)
		put(&p, end, ' ', &full);
	if (!plain)
		put(&p, end, '"', &full);
	for (const char *s = word; *s && !full; s++) {
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			full = true; /* not a size problem, but the same answer: refused */
		else if (!plain && (*s == '"' || *s == '\\'))
			put(&p, end, '\\', &full);
		put(&p, end, *s, &full);
	}
	if (!plain)
		put(&p, end, '"', &full);
	*(full ? out + n : p) = '\0';
	return full ? -1 : 0;
}

/*
 * Feed one byte typed at an attached console. Returns -1 to detach, else the number of bytes
 * (0..2) to send to the VM in OUT. Ctrl-A is held back one byte because Ctrl-A d detaches
 * while Ctrl-A x must still reach the VMM (its own quit key).
 */
int detach_feed(struct detach_keys *k, unsigned char c, unsigned char out[2])
{
	if (k->after_ctrl_a) {
		k->after_ctrl_a = false;
		if (c == 'd')
			return -1;
		out[0] = KEY_CTRL_A;
		out[1] = c;
		return 2;
	}
	if (c == KEY_CTRL_RBRACKET)
		return -1;
	if (c == KEY_CTRL_A) {
		k->after_ctrl_a = true;
		return 0;
	}
	out[0] = c;
	return 1;
}
