/* SPDX-License-Identifier: MIT */
/*
 * vm.h - one managed VM: a child process running the VMM binary, its console (the master
 * side of a pseudo-terminal) and the scrollback kept from it.
 */
#ifndef MANAGER_VM_H
#define MANAGER_VM_H

#include <limits.h>
#include <stdbool.h>
#include <sys/types.h>

#include "protocol.h"
#include "ring.h"

#define SCROLLBACK_SIZE (64 * 1024)

enum vm_state { VM_RUNNING, VM_STOPPING, VM_STOPPED };

struct vm {
	bool used;
	char name[VM_NAME_MAX + 1];
	char config[PATH_MAX];
	char monitor[108];     /* the VMM's -monitor socket (screendumps); "": none */
	char control[108];     /* its -control socket (snapshot, migrate: ../migration/) */
	pid_t pid;
	int console_fd; /* pty master; -1 once the VM's side has closed */
	enum vm_state state;
	int wstatus;	       /* from waitpid, once stopped */
	double started, ended; /* monotonic seconds */
	double kill_at;	       /* stopping: when SIGTERM has had its chance, SIGKILL */
	bool destroy;	       /* forget the VM once it has stopped */
	struct ring scrollback;
	char scrollback_buf[SCROLLBACK_SIZE];
};

double now_s(void);
int vm_start(struct vm *vm, const char *vmm, char *const extra[], int nextra, char *why,
	     size_t why_len);
void vm_stop(struct vm *vm, double grace_s);
void vm_reaped(struct vm *vm, int wstatus);
ssize_t vm_read_console(struct vm *vm, char *buf, size_t len);
const char *vm_state_text(const struct vm *vm, char *buf, size_t len);

#endif
