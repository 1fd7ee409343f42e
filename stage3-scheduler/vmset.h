/*
 * vmset.h - several VMs, one host thread: what the three schedulers share.
 *
 * A vCPU is only a file descriptor. Nothing ties it to a host thread: one thread may call
 * KVM_RUN on Neo's vCPU, handle the exit, then call KVM_RUN on Morpheus's. Switching VMs is
 * choosing which fd to pass to the next KVM_RUN; the kernel saves and loads the guest state.
 * So a user-space VM scheduler is a loop around stage 1's vcpu_step() that picks the vCPU.
 *
 * Each VM here is a separate KVM VM (its own vm fd, RAM and copy of the guest image) with:
 *   - a console on the debug port 0xE9, collected into lines printed as "Neo: <line>";
 *   - the stage 3 hypercall HC_REPORT_WORK (guests/include/hypercall.h), which adds to the
 *     work units the scheduler shows beside the host time;
 *   - the registers a guest starts with: RDI = its index (0 = Neo), RSI = its argument.
 * A VM that halts or fails is taken off the schedule; the others keep running.
 */
#ifndef VMSET_H
#define VMSET_H

#include <stdbool.h>
#include <stdint.h>

#include "kick.h"
#include "options.h"
#include "run_loop.h"
#include "sched.h"

#define CONSOLE_LINE_MAX 100
#define PROGRESS_GPA RESULT_GPA   /* compute guests keep a 64-bit loop counter here */

struct matrix_vm {
	struct vm vm;
	struct vcpu vcpu;
	struct exit_stats stats;
	struct exit_handlers handlers;   /* ctx = this struct */
	struct vmset *set;
	int index;
	uint64_t preempted;              /* slices the timer ended */
	uint32_t hc_result;              /* what the next hypercall IN reads */
	unsigned line_len;
	char line[CONSOLE_LINE_MAX + 1];
};

struct vmset {
	int n;
	struct matrix_vm vm[SCHED_MAX_VMS];
	struct sched sched;
	struct kick *kick;               /* NULL without preemption (matrix-a) */
	int cpu;                         /* the one host CPU all VMs run on */
	int last;                        /* the VM that ran last, -1 before the first */
	uint64_t switches;               /* times the CPU went from one VM to another */
	bool failed;                     /* some VM was taken off for failing, not halting */
};

/* Neo, Morpheus, Trinity, ...: the VM names, by index. */
extern const char *const vm_names[SCHED_MAX_VMS];

/*
 * Pin this thread to one CPU, create opt->vms VMs and boot each with its guest. With kick
 * (matrix-b, matrix), also set up the slice timer and attach it to every vCPU. Prints the
 * reason and returns a negative errno on failure. vmset_destroy() undoes it all.
 */
int vmset_create(struct vmset *set, const struct matrix_options *opt, struct kick *kick);
void vmset_destroy(struct vmset *set);

/*
 * Give VM i the CPU for one slice and charge it the CPU time the slice took. With a
 * quantum (ns), the slice lasts until the kick; without (0), it ends at the next VM exit.
 * I/O exits inside a slice are handled and the VM goes on. A VM that halts or fails is
 * taken off the schedule with a message. Returns the vCPU's last status.
 */
enum vcpu_status vmset_run_slice(struct vmset *set, int i, uint64_t quantum_ns);

/* The guest's loop counter at PROGRESS_GPA (compute guests), read from its RAM. */
uint64_t vmset_progress(const struct vmset *set, int i);

#endif
