/*
 * sched.h - who runs next, and how much each VM has had: the scheduler's arithmetic.
 *
 * Nothing here touches KVM. The three schedulers of stage 3 differ only in when they ask
 * "who is next" and in which of the two answers below they take:
 *
 *   round robin    the next runnable VM after the current one (matrix-a, matrix-b)
 *   fair share     the runnable VM that is furthest behind its share (matrix)
 *
 * "Behind its share" is measured in host CPU time actually spent running the VM, divided by its
 * weight (the idea of stride scheduling and of Linux's CFS "virtual runtime"). A VM that gave
 * the CPU back early - it halted, or its slice was cut short - is charged only what it used,
 * so it is neither over- nor under-charged, as it would be if we counted timer ticks.
 *
 * Kept free of KVM so that tests/unit/test_stage3.c can check it with made-up times.
 */
#ifndef SCHED_H
#define SCHED_H

#include <stdbool.h>
#include <stdint.h>

#define SCHED_MAX_VMS    8
#define SCHED_MAX_WEIGHT 10000

struct sched_vm {
	unsigned weight;   /* its share of the CPU is weight / total weight */
	bool runnable;     /* false once it halted or failed: off the schedule */
	uint64_t ran_ns;   /* host time charged to it */
	uint64_t slices;   /* how many times it was given the CPU */
	uint64_t work;     /* work units the guest reported (HC_REPORT_WORK) */
};

struct sched {
	int n;
	struct sched_vm vm[SCHED_MAX_VMS];
};

/* n VMs, all runnable; weights may be NULL (all equal). n must be 1..SCHED_MAX_VMS. */
void sched_init(struct sched *s, const unsigned *weights, int n);

/* The first runnable VM after current (wrapping; current itself last), or -1 if none. */
int sched_next_round_robin(const struct sched *s, int current);

/* The runnable VM with the least ran_ns / weight (the lowest index on a tie), or -1. */
int sched_pick_fair(const struct sched *s);

/* Charge ns of host time to VM i for one slice. */
void sched_charge(struct sched *s, int i, uint64_t ns);

/* Take VM i off the schedule. Returns how many VMs are still runnable. */
int sched_remove(struct sched *s, int i);
int sched_runnable_count(const struct sched *s);

/*
 * Shares in percent (0 when there is nothing to divide). The target share is the VM's
 * weight over the total weight; the others are its part of all time charged or of all work.
 */
double sched_target_share(const struct sched *s, int i);
double share_percent(uint64_t part, uint64_t total);
uint64_t sched_total_ran(const struct sched *s);
uint64_t sched_total_work(const struct sched *s);

/*
 * Parse a comma-separated list of positive integers, such as "--share 70,30" or
 * "--lines 2,5", into values[] (at most max of them, each 1..limit).
 * Returns how many, or -1 with a one-line reason in why[].
 */
int parse_uint_list(const char *text, unsigned *values, int max, unsigned limit, char *why,
		    int why_len);

#endif
