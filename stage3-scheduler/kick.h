/*
 * kick.h - preemption: a host timer whose signal kicks the vCPU out of KVM_RUN.
 *
 * A guest that computes without I/O never exits on its own, so the host must take the CPU
 * back. KVM_RUN returns as soon as a signal is pending for the thread that runs it (with
 * -EINTR, or with exit reason KVM_EXIT_INTR), so a POSIX timer that sends a signal when the
 * slice is over is all the "interrupt" a user-space scheduler needs.
 *
 * The catch is the moment between two KVM_RUNs: a signal that lands while the host is busy in
 * user space (handling an I/O exit) would be handled there and forgotten, and the next KVM_RUN
 * would run the guest to the end of time. So the kick signal is BLOCKED in the thread at all
 * times and UNBLOCKED only inside KVM_RUN, by KVM_SET_SIGNAL_MASK: a signal that comes early
 * stays pending and makes the next KVM_RUN return at once. After the kick the signal is
 * still pending (KVM restores the blocking mask before returning) and the host takes it with
 * sigtimedwait(). docs/stage3.md tells the story, and the other cure (immediate_exit).
 */
#ifndef KICK_H
#define KICK_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "kvm.h"

#define KICK_SIGNAL SIGALRM

struct kick {
	timer_t timer;
	sigset_t signal;         /* just KICK_SIGNAL */
	uint64_t deadline_ns;    /* when the armed slice ends (CLOCK_MONOTONIC) */
	uint64_t kicks;          /* slices that the timer ended */
	uint64_t latency_sum_ns; /* from the deadline to KVM_RUN's return, summed over kicks */
	uint64_t latency_max_ns;
};

/* Block the signal in this thread and create the timer. 0 or a negative errno. */
int kick_init(struct kick *k);
void kick_destroy(struct kick *k);

/* Tell KVM to unblock the kick signal while this vCPU is inside KVM_RUN. */
int kick_attach(struct kick *k, struct vcpu *vcpu);

/* Start a slice of ns nanoseconds. */
void kick_arm(struct kick *k, uint64_t ns);

/*
 * End the slice: stop the timer and take a pending kick signal, if any. kicked says that
 * the slice ended because KVM_RUN was interrupted: then the kick latency is counted.
 */
void kick_disarm(struct kick *k, bool kicked);

/* CLOCK_MONOTONIC in nanoseconds: the wall clock of slice deadlines and run lengths. */
uint64_t now_ns(void);

#endif
