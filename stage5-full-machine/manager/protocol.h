/* SPDX-License-Identifier: MIT */
/*
 * protocol.h - the manager's line protocol: one request line per connection, words split the
 * way a shell would (spaces, "double quotes" with \" and \\), VM names, and the console's
 * detach keys. Pure functions: the unit tests drive them without a socket.
 */
#ifndef MANAGER_PROTOCOL_H
#define MANAGER_PROTOCOL_H

#include <stdbool.h>
#include <stddef.h>

#define MGR_LINE_MAX 4096 /* a request line, newline included */
#define MGR_ARGS_MAX 32	  /* words in one request */
#define VM_NAME_MAX  32	  /* a VM name: [A-Za-z0-9][A-Za-z0-9._-]* */

enum mgr_cmd { CMD_CREATE, CMD_LIST, CMD_DESTROY, CMD_CONSOLE, CMD_WAIT, CMD_SHUTDOWN,
	       CMD_SCREENDUMP, CMD_SNAPSHOT, CMD_MIGRATE };
enum wait_for { WAIT_STOPPED, WAIT_OUTPUT };

/* A parsed request. Its strings point into the line that proto_parse split in place. */
struct request {
	enum mgr_cmd cmd;
	const char *name;   /* the VM, for every command but list and shutdown */
	const char *config; /* create: the YAML file */
	char **extra;	    /* create: flags passed on to the VMM after -config FILE */
	int nextra;
	enum wait_for wait;	       /* wait: what for */
	const char *text;	       /* wait output: the text to look for; screendump, snapshot:
					  FILE; migrate: tcp:HOST:PORT */
	const char *option;	       /* migrate: downtime=MS (or NULL) */
	int timeout_s;		       /* wait: give up after this many seconds */
	char *words[MGR_ARGS_MAX + 1]; /* the split line: the fields above point here */
};

int proto_split(char *line, char *argv[], int max, const char **why);
int proto_parse(char *line, struct request *req, char *why, size_t why_len);
int refuse(char *why, size_t why_len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int proto_quote(const char *word, char *out, size_t out_len);
bool vm_name_valid(const char *name);

/* Console detach keys, seen by the CLI: Ctrl-] alone, or Ctrl-A then d. */
#define KEY_CTRL_A	  0x01
#define KEY_CTRL_RBRACKET 0x1d

struct detach_keys {
	bool after_ctrl_a; /* the last byte was a Ctrl-A, held back until the next one */
};

int detach_feed(struct detach_keys *k, unsigned char c, unsigned char out[2]);

#endif
