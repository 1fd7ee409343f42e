/*
 * kick.c - the slice timer and the signal mask that makes its kick impossible to lose.
 *
 * POSIX timers (timer_create, CLOCK_MONOTONIC, SIGEV_SIGNAL) and KVM_SET_SIGNAL_MASK as in
 * the kernel's Documentation/virt/kvm/api.rst. See kick.h for why the signal is blocked.
 */
#include "kick.h"

#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>

uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/*
 * Never called: the signal is blocked whenever the thread is outside KVM_RUN, and it is
 * taken with sigtimedwait(). It exists so that a stray SIGALRM does nothing rather than
 * kill the process (the default action).
 */
static void ignore_kick(int sig)
{
	(void)sig;
}

int kick_init(struct kick *k)
{
	struct sigaction sa = { .sa_handler = ignore_kick };
	struct sigevent ev = { .sigev_notify = SIGEV_SIGNAL, .sigev_signo = KICK_SIGNAL };

	memset(k, 0, sizeof(*k));
	sigemptyset(&k->signal);
	sigaddset(&k->signal, KICK_SIGNAL);
	if (sigaction(KICK_SIGNAL, &sa, NULL) < 0 ||
	    sigprocmask(SIG_BLOCK, &k->signal, NULL) < 0)
		return -errno;
	return timer_create(CLOCK_MONOTONIC, &ev, &k->timer) < 0 ? -errno : 0;
}

void kick_destroy(struct kick *k)
{
	timer_delete(k->timer);
}

int kick_attach(struct kick *k, struct vcpu *vcpu)
{
	/* The kernel's sigset is 64 bits; glibc's sigset_t is larger, so copy the first 8 bytes. */
	struct {
		struct kvm_signal_mask head;
		uint8_t bits[8];
	} mask = { .head.len = 8 };
	sigset_t during_run;

	(void)k;
	if (sigprocmask(SIG_BLOCK, NULL, &during_run) < 0)
		return -errno;
	sigdelset(&during_run, KICK_SIGNAL);
	memcpy(mask.bits, &during_run, sizeof(mask.bits));
	return ioctl(vcpu->fd, KVM_SET_SIGNAL_MASK, &mask) < 0 ? -errno : 0;
}

void kick_arm(struct kick *k, uint64_t ns)
{
	struct itimerspec slice = {
		.it_value = { .tv_sec = ns / 1000000000ull, .tv_nsec = ns % 1000000000ull },
	};
	k->deadline_ns = now_ns() + ns;
	timer_settime(k->timer, 0, &slice, NULL);
}

void kick_disarm(struct kick *k, bool kicked)
{
	static const struct itimerspec stop;
	static const struct timespec no_wait;
	uint64_t now = now_ns();

	/*
	 * A signal that fired stays pending (blocked) until taken; left there, it would cut the
	 * next slice short. POSIX leaves open whether disarming the timer drops it (Linux 6.18
	 * does, kernels have kept it), so: stop the timer, then take whatever is pending.
	 */
	timer_settime(k->timer, 0, &stop, NULL);
	sigtimedwait(&k->signal, NULL, &no_wait);
	if (kicked) {
		uint64_t late = now > k->deadline_ns ? now - k->deadline_ns : 0;
		k->kicks++;
		k->latency_sum_ns += late;
		if (late > k->latency_max_ns)
			k->latency_max_ns = late;
	}
}
