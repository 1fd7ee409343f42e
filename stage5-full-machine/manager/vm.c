// SPDX-License-Identifier: MIT
/*
 * vm.c - a VM as a child process. The manager never links the VMM: it fork()s and exec()s the
 * stage 5 `minivisor` binary, so a VM that crashes takes down only its own process.
 *
 * The VM's stdin, stdout and stderr are the slave side of a pseudo-terminal (pty(7)): the
 * VMM sees a terminal, just as when a person runs it, and the manager reads the master side.
 * The slave is raw (no echo, no \n -> \r\n): the bytes are the guest's serial port, unchanged.
 */
#define _GNU_SOURCE
#include "vm.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

double now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

/* A new pty pair: returns the master (non-blocking, close-on-exec), the slave in *slave. */
static int open_pty(int *slave)
{
	int master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC | O_NONBLOCK);
	struct termios t;

	if (master < 0)
		return -1;
	if (grantpt(master) < 0 || unlockpt(master) < 0)
		goto fail;
	*slave = open(ptsname(master), O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (*slave < 0)
		goto fail;
	if (tcgetattr(*slave, &t) == 0) {
		cfmakeraw(&t);
		tcsetattr(*slave, TCSANOW, &t);
	}
	return master;
fail:
	close(master);
	return -1;
}

/*
 * In the child: the pty becomes stdin/stdout/stderr, a new session keeps the manager's
 * terminal signals (Ctrl-C) away from the VMs, then exec. If exec fails, its errno goes back
 * through REPORT, a close-on-exec pipe: a successful exec closes it with nothing written.
 */
static void child_exec(int slave, int report, char *argv[], pid_t manager)
{
	sigset_t none;
	int err;

	/*
	 * The signal mask and ignored signals survive exec: undo the manager's (it blocks
	 * SIGTERM for its signalfd), or `destroy`'s SIGTERM would never reach the VMM.
	 */
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGPIPE, SIG_DFL);
	setsid();
	/*
	 * Only the manager holds the console: a VM that outlived it could never be reached
	 * again. So the VM gets SIGTERM when the manager dies, even by SIGKILL.
	 */
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	if (getppid() != manager)
		_exit(127); /* it died before prctl: nobody would send that SIGTERM */
	if (dup2(slave, 0) < 0 || dup2(slave, 1) < 0 || dup2(slave, 2) < 0)
		goto fail;
	execv(argv[0], argv);
fail:
	err = errno;
	if (write(report, &err, sizeof(err)) < 0)
		_exit(127);
	_exit(127);
}

/* Wait for the exec report: 0 when the VMM is running, else the errno of the failed exec. */
static int exec_result(int report)
{
	int err = 0;
	ssize_t n;

	do
		n = read(report, &err, sizeof(err));
	while (n < 0 && errno == EINTR);
	close(report);
	return n == sizeof(err) ? err : 0;
}

static int build_argv(char *argv[], const char *vmm, const char *config, char *const extra[],
		      int nextra, const char *monitor, const char *control)
{
	int argc = 0;

	argv[argc++] = (char *)vmm;
	argv[argc++] = "-config";
	argv[argc++] = (char *)config;
	for (int i = 0; i < nextra; i++)
		argv[argc++] = extra[i];
	if (monitor[0]) {   /* where the manager asks for screendumps (display/display.h) */
		argv[argc++] = "-monitor";
		argv[argc++] = (char *)monitor;
	}
	if (control[0]) {   /* where snapshot and migrate requests go (migration/migrate.h) */
		argv[argc++] = "-control";
		argv[argc++] = (char *)control;
	}
	argv[argc] = NULL;
	return argc;
}

/* Start VM (name and config already filled in): `VMM -config CONFIG EXTRA...` on a new pty. */
int vm_start(struct vm *vm, const char *vmm, char *const extra[], int nextra, char *why,
	     size_t why_len)
{
	char *argv[MGR_ARGS_MAX + 8];
	int slave, report[2], err;

	build_argv(argv, vmm, vm->config, extra, nextra, vm->monitor, vm->control);
	vm->console_fd = open_pty(&slave);
	if (vm->console_fd < 0)
		return refuse(why, why_len, "cannot open a pty: %s", strerror(errno));
	if (pipe2(report, O_CLOEXEC) < 0)
		goto fail_pty;
	pid_t manager = getpid();
	vm->pid = fork();
	if (vm->pid == 0)
		child_exec(slave, report[1], argv, manager);
	close(slave);
	close(report[1]);
	if (vm->pid < 0) {
		close(report[0]);
		goto fail_master;
	}
	err = exec_result(report[0]);
	if (err) {
		/* The child is exiting with 127: reaped by the SIGCHLD handler like any other. */
		close(vm->console_fd);
		return refuse(why, why_len, "cannot run %s: %s", vmm, strerror(err));
	}
	ring_init(&vm->scrollback, vm->scrollback_buf, sizeof(vm->scrollback_buf));
	vm->state = VM_RUNNING;
	vm->started = now_s();
	return 0;
fail_pty:
	close(slave);
fail_master:
	err = errno;
	close(vm->console_fd);
	return refuse(why, why_len, "cannot start a VM: %s", strerror(err));
}

/* Ask the VMM to end (SIGTERM); if it is still there after GRACE_S, the main loop kills it. */
void vm_stop(struct vm *vm, double grace_s)
{
	if (vm->state != VM_RUNNING)
		return;
	kill(vm->pid, SIGTERM);
	vm->state = VM_STOPPING;
	vm->kill_at = now_s() + grace_s;
}

void vm_reaped(struct vm *vm, int wstatus)
{
	vm->state = VM_STOPPED;
	vm->wstatus = wstatus;
	vm->ended = now_s();
}

/*
 * Read the console into BUF and the scrollback. Returns bytes read, 0 when there is nothing
 * now, -1 when the VM's side is gone (a pty master reads EIO once every slave fd is closed).
 */
ssize_t vm_read_console(struct vm *vm, char *buf, size_t len)
{
	ssize_t n = read(vm->console_fd, buf, len);

	if (n > 0) {
		ring_write(&vm->scrollback, buf, n);
		return n;
	}
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return 0;
	close(vm->console_fd);
	vm->console_fd = -1;
	return -1;
}

/* "running", "stopping", "stopped (exit 0)", "stopped (signal 9, Killed)" */
const char *vm_state_text(const struct vm *vm, char *buf, size_t len)
{
	int st = vm->wstatus;

	if (vm->state == VM_RUNNING)
		snprintf(buf, len, "running");
	else if (vm->state == VM_STOPPING)
		snprintf(buf, len, "stopping");
	else if (WIFSIGNALED(st))
		snprintf(buf, len, "stopped (signal %d, %s)", WTERMSIG(st),
			 strsignal(WTERMSIG(st)));
	else
		snprintf(buf, len, "stopped (exit %d)", WEXITSTATUS(st));
	return buf;
}
