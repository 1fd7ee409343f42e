/*
 * sched.c - round robin, fair share by virtual runtime, and share arithmetic (see sched.h).
 */
#include "sched.h"

#include <stdio.h>
#include <string.h>

void sched_init(struct sched *s, const unsigned *weights, int n)
{
	memset(s, 0, sizeof(*s));
	s->n = n;
	for (int i = 0; i < n; i++) {
		s->vm[i].weight = weights ? weights[i] : 1;
		s->vm[i].runnable = true;
	}
}

int sched_next_round_robin(const struct sched *s, int current)
{
	for (int step = 1; step <= s->n; step++) {
		int i = (current + step) % s->n;
		if (s->vm[i].runnable)
			return i;
	}
	return -1;
}

/*
 * a is behind b when ran_a / weight_a < ran_b / weight_b. Cross-multiplied, so no division
 * and no rounding: ran_ns < 2^42 (an hour) times a weight < 2^14 fits in 64 bits.
 */
static bool behind(const struct sched_vm *a, const struct sched_vm *b)
{
	return a->ran_ns * b->weight < b->ran_ns * a->weight;
}

int sched_pick_fair(const struct sched *s)
{
	int best = -1;
	for (int i = 0; i < s->n; i++) {
		if (!s->vm[i].runnable)
			continue;
		if (best < 0 || behind(&s->vm[i], &s->vm[best]))
			best = i;
	}
	return best;
}

void sched_charge(struct sched *s, int i, uint64_t ns)
{
	s->vm[i].ran_ns += ns;
	s->vm[i].slices++;
}

int sched_runnable_count(const struct sched *s)
{
	int count = 0;
	for (int i = 0; i < s->n; i++)
		count += s->vm[i].runnable;
	return count;
}

int sched_remove(struct sched *s, int i)
{
	s->vm[i].runnable = false;
	return sched_runnable_count(s);
}

double share_percent(uint64_t part, uint64_t total)
{
	return total ? 100.0 * (double)part / (double)total : 0.0;
}

double sched_target_share(const struct sched *s, int i)
{
	uint64_t total = 0;
	for (int j = 0; j < s->n; j++)
		total += s->vm[j].weight;
	return share_percent(s->vm[i].weight, total);
}

uint64_t sched_total_ran(const struct sched *s)
{
	uint64_t total = 0;
	for (int i = 0; i < s->n; i++)
		total += s->vm[i].ran_ns;
	return total;
}

uint64_t sched_total_work(const struct sched *s)
{
	uint64_t total = 0;
	for (int i = 0; i < s->n; i++)
		total += s->vm[i].work;
	return total;
}

/* One list item: digits only, 1..limit. Returns its value or 0. */
static unsigned parse_item(const char *item, size_t len, unsigned limit)
{
	unsigned long value = 0;
	if (len == 0 || len > 9)
		return 0;
	for (size_t i = 0; i < len; i++) {
		if (item[i] < '0' || item[i] > '9')
			return 0;
		value = value * 10 + (unsigned long)(item[i] - '0');
	}
	return value <= limit ? (unsigned)value : 0;
}

int parse_uint_list(const char *text, unsigned *values, int max, unsigned limit, char *why,
		    int why_len)
{
	int n = 0;
	const char *p = text;

	for (;;) {
		size_t len = strcspn(p, ",");
		if (n == max) {
			snprintf(why, why_len, "'%s': at most %d values", text, max);
			return -1;
		}
		values[n] = parse_item(p, len, limit);
		if (!values[n]) {
			snprintf(why, why_len, "'%s': each must be a whole number 1..%u", text,
				 limit);
			return -1;
		}
		n++;
		if (p[len] == '\0')
			return n;
		p += len + 1;
	}
}
