/*
 * user_none.c - minivisor.static's user back end: none. Debian ships libslirp as a shared
 * library only, so the static build (the nested test host's) refuses -netdev user in one line;
 * the dynamic minivisor has it (user.c). See net.h.
 */
#include "net.h"

#include <errno.h>
#include <stdio.h>

int user_open(struct netdev *d, char *why, size_t why_len)
{
	snprintf(why, why_len, "-netdev %s: user-mode networking is not in this static build "
		 "(libslirp is a shared library only): use the dynamic minivisor", d->cfg->id);
	return -ENOTSUP;
}

void user_input(struct netdev *d, const uint8_t *frame, size_t len)
{
	(void)d;
	(void)frame;
	(void)len;
}

uint32_t user_fill(struct netdev *d, struct net_poll_set *set, uint32_t timeout)
{
	(void)d;
	(void)set;
	return timeout;
}

void user_poll(struct netdev *d, struct net_poll_set *set, bool poll_failed)
{
	(void)d;
	(void)set;
	(void)poll_failed;
}

void user_close(struct netdev *d)
{
	(void)d;
}

/* No user back end here, so no state of it to move (user_open refused it already). */
int user_state_save(struct netdev *d, uint8_t **out, uint32_t *len, char *why, size_t why_len)
{
	(void)d;
	*out = NULL;
	*len = 0;
	snprintf(why, why_len, "no user-mode networking in this build");
	return -ENOTSUP;
}

int user_state_load(struct netdev *d, const uint8_t *p, uint32_t len, char *why, size_t why_len)
{
	(void)d;
	(void)p;
	(void)len;
	snprintf(why, why_len, "no user-mode networking in this build");
	return -ENOTSUP;
}
