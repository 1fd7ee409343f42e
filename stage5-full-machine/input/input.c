/*
 * input.c - host input into the PS/2 devices, under the bus lock; the -input-script test hook.
 * See input.h (models a key's way from the keyboard's buffer to IRQ 1).
 */
#include "input.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "keymap.h"

static void lock(struct i8042 *c)
{
	if (c->lock)
		pthread_mutex_lock(c->lock);
}

static void unlock(struct i8042 *c)
{
	if (c->lock)
		pthread_mutex_unlock(c->lock);
}

static const struct ps2_key left_shift = { 0x12, 0x12, false };

/* One key event, lock held. */
static int kbd_event(struct i8042 *c, const struct keymap_entry *e, bool down)
{
	struct ps2_kbd *k = &c->state.kbd;
	int err = 0;
	uint8_t bit = e->keysym == XK_SHIFT_L ? 1 : e->keysym == XK_SHIFT_R ? 2 : 0;
	if (bit)
		k->shifts = down ? k->shifts | bit : k->shifts & ~bit;
	if (down && e->shifted && !k->shifts) {   /* '!' with no Shift held: add one */
		err = ps2_kbd_key(k, &left_shift, true);
		if (!err)
			err = ps2_kbd_key(k, &e->key, true);
		if (!err)
			err = ps2_kbd_key(k, &left_shift, false);
	} else {
		err = ps2_kbd_key(k, &e->key, down);
	}
	if (err == -ENOSPC && !(c->state.said & I8042_SAID_KBD_FULL)) {
		c->state.said |= I8042_SAID_KBD_FULL;
		fprintf(stderr, "i8042: keyboard: the guest does not read; its %d-byte queue is "
			"full: keys dropped, overrun code sent (said once; the VMM goes on)\n",
			PS2_QUEUE_SIZE);
	}
	i8042_update(c);
	return err;
}

int ps2_kbd_keysym(struct i8042 *c, uint32_t keysym, bool down)
{
	struct keymap_entry e;
	if (!keymap_lookup(keysym, &e))
		return -ENOENT;
	lock(c);
	int err = kbd_event(c, &e, down);
	unlock(c);
	return err;
}

/* X11's mask (left 1, middle 2, right 4) -> the PS/2 packet's (left 1, right 2, middle 4). */
static uint8_t ps2_buttons(unsigned x11)
{
	return (x11 & 1 ? PS2_MOUSE_LEFT : 0) | (x11 & 2 ? PS2_MOUSE_MIDDLE : 0) |
	       (x11 & 4 ? PS2_MOUSE_RIGHT : 0);
}

int ps2_mouse_move(struct i8042 *c, int dx, int dy, int dz, unsigned buttons)
{
	/* Screen directions in, PS/2 directions (y grows upwards) out. An input script may say
	 * INT_MIN, whose negation is no int: it goes up as far as an int goes (ps2.c clamps). */
	int up = dy == INT_MIN ? INT_MAX : -dy;
	lock(c);
	ps2_mouse_event(&c->state.mouse, dx, up, dz, ps2_buttons(buttons));
	i8042_update(c);
	unlock(c);
	return 0;
}

int ps2_mouse_pointer(struct i8042 *c, struct ps2_pointer *p, int x, int y, unsigned mask)
{
	int dx = p->seen ? x - p->x : 0, dy = p->seen ? y - p->y : 0, dz = 0;
	unsigned pressed = mask & ~p->mask;
	if (pressed & 0x08)      /* button 4: wheel up, away from the user */
		dz--;
	if (pressed & 0x10)      /* button 5: wheel down */
		dz++;
	bool changed = dx || dy || dz || ((mask ^ p->mask) & 7) || !p->seen;
	p->x = x;
	p->y = y;
	p->mask = mask;
	p->seen = true;
	return changed ? ps2_mouse_move(c, dx, dy, dz, mask & 7) : 0;
}

/* ---- the test script -------------------------------------------------------------------- */

enum script_op { OP_KEY, OP_MOUSE, OP_FLOOD, OP_WAIT_LEDS };

struct script_event {
	enum script_op op;
	struct keymap_entry key;
	bool down;
	int dx, dy, dz;
	unsigned buttons;
	unsigned count;
};

struct input_script {
	struct script_event *events;
	unsigned n, cap;
	struct i8042 *c;
	pthread_t thread;
	bool started;
	volatile bool stop;
	struct input_sink sink;   /* USB HID devices that hear the same events; may be empty */
};

static struct script_event *add_event(struct input_script *s)
{
	if (s->n == s->cap) {
		unsigned cap = s->cap ? 2 * s->cap : 64;
		struct script_event *e = realloc(s->events, cap * sizeof(*e));
		if (!e)
			return NULL;
		s->events = e;
		s->cap = cap;
	}
	memset(&s->events[s->n], 0, sizeof(s->events[0]));
	return &s->events[s->n++];
}

static bool key_by_word(const char *word, struct keymap_entry *e)
{
	char *end;
	if (word[0] == '0' && word[1] == 'x') {
		unsigned long keysym = strtoul(word, &end, 16);
		return *end == 0 && keymap_lookup(keysym, e);
	}
	return keymap_by_name(word, e);
}

/* One line; a message in why when it is wrong. */
static int parse_line(struct input_script *s, char *line, char *why, size_t why_len)
{
	char word[4][64];
	struct script_event *ev;
	char *hash = strchr(line, '#');
	if (hash && strncmp(line, "type", 4) != 0)
		*hash = 0;
	line[strcspn(line, "\n")] = 0;
	int n = sscanf(line, "%63s %63s %63s %63s", word[0], word[1], word[2], word[3]);
	if (n <= 0)
		return 0;
	if (strcmp(word[0], "key") == 0 && n == 3) {
		bool down = strcmp(word[2], "down") == 0;
		if (!down && strcmp(word[2], "up") != 0)
			return snprintf(why, why_len, "'%s': down or up?", word[2]), -EINVAL;
		if (!(ev = add_event(s)))
			return -ENOMEM;
		ev->op = OP_KEY;
		ev->down = down;
		if (!key_by_word(word[1], &ev->key))
			return snprintf(why, why_len, "no key types '%s'", word[1]), -EINVAL;
		return 0;
	}
	if (strcmp(word[0], "type") == 0) {
		const char *text = line + 4 + strspn(line + 4, " \t");
		for (const char *p = text; *p; p++) {
			char one[2] = { *p, 0 };
			for (int down = 1; down >= 0; down--) {
				if (!(ev = add_event(s)))
					return -ENOMEM;
				ev->op = OP_KEY;
				ev->down = down;
				if (!(*p == ' ' ? keymap_lookup(' ', &ev->key) :
				      keymap_by_name(one, &ev->key)))
					return snprintf(why, why_len, "no key types '%c'", *p), -EINVAL;
			}
		}
		return 0;
	}
	if (strcmp(word[0], "mouse") == 0) {
		if (!(ev = add_event(s)))
			return -ENOMEM;
		ev->op = OP_MOUSE;
		if (sscanf(line, "mouse %d %d %d %u", &ev->dx, &ev->dy, &ev->dz, &ev->buttons) != 4)
			return snprintf(why, why_len, "mouse DX DY DZ BUTTONS"), -EINVAL;
		return 0;
	}
	if (strcmp(word[0], "wait") == 0 && n == 3 && strcmp(word[1], "leds") == 0) {
		char *end;
		unsigned long leds = strtoul(word[2], &end, 0);
		if (*end || leds > 7)
			return snprintf(why, why_len, "wait leds N: N from 0 to 7"), -EINVAL;
		if (!(ev = add_event(s)))
			return -ENOMEM;
		ev->op = OP_WAIT_LEDS;
		ev->count = leds;
		return 0;
	}
	if (strcmp(word[0], "flood") == 0 && n == 3) {
		char *end;
		unsigned long count = strtoul(word[1], &end, 0);
		if (*end || count == 0 || count > 100000)
			return snprintf(why, why_len, "flood N NAME: N from 1 to 100000"), -EINVAL;
		if (!(ev = add_event(s)))
			return -ENOMEM;
		ev->op = OP_FLOOD;
		ev->count = count;
		if (!key_by_word(word[2], &ev->key))
			return snprintf(why, why_len, "no key types '%s'", word[2]), -EINVAL;
		return 0;
	}
	return snprintf(why, why_len, "'%s': expected key, type, mouse, flood or wait", word[0]), -EINVAL;
}

struct input_script *input_script_open(const char *path, char *why, size_t why_len)
{
	char line[512], what[160];
	unsigned lineno = 0;
	FILE *f = fopen(path, "r");
	if (!f) {
		snprintf(why, why_len, "%s: cannot open the input script: %s", path, strerror(errno));
		return NULL;
	}
	struct input_script *s = calloc(1, sizeof(*s));
	while (s && fgets(line, sizeof(line), f)) {
		lineno++;
		what[0] = 0;
		int err = parse_line(s, line, what, sizeof(what));
		if (err) {
			snprintf(why, why_len, "%s:%u: %s", path, lineno,
				 err == -ENOMEM ? "out of memory" : what);
			input_script_close(s);
			s = NULL;
		}
	}
	fclose(f);
	if (!s && lineno == 0)
		snprintf(why, why_len, "%s: out of memory", path);
	return s;
}

/* Lock held: may this event go in now? With a sink that takes moves (a USB tablet, always
 * ready: it queues), a move goes at once; the PS/2 mouse queues it as it does VNC's moves,
 * or ignores it while it is not reporting. */
static bool ready(const struct i8042 *c, const struct script_event *ev,
		  const struct input_sink *sink)
{
	const struct i8042_state *st = &c->state;
	bool buffer_free = !st->out_full && !st->ctl_full;
	if (ev->op == OP_WAIT_LEDS)
		return st->kbd.leds == ev->count;
	if (ev->op == OP_MOUSE && sink->move)
		return true;
	if (ev->op == OP_MOUSE)
		return st->mouse.reporting && !st->mouse.remote && !ps2_mouse_has_data(&st->mouse) &&
		       !(st->mouse.dx || st->mouse.dy || st->mouse.dz) && buffer_free;
	return st->kbd.scanning && !ps2_kbd_has_data(&st->kbd) && buffer_free &&
	       !st->kbd.param_for;
}

/* The sink hears each key and move too (the USB keyboard and tablet), lock held. */
static void play_sink(const struct input_sink *k, const struct script_event *ev)
{
	if (ev->op == OP_MOUSE && k->move)
		k->move(k->opaque, ev->dx, ev->dy, ev->dz, ev->buttons);
	else if (ev->op == OP_KEY && k->key)
		k->key(k->opaque, &ev->key.key, ev->key.shifted, ev->down);
	for (unsigned i = 0; ev->op == OP_FLOOD && k->key && i < ev->count; i++) {
		k->key(k->opaque, &ev->key.key, ev->key.shifted, true);
		k->key(k->opaque, &ev->key.key, ev->key.shifted, false);
	}
}

static void play(struct i8042 *c, const struct script_event *ev)
{
	if (ev->op == OP_MOUSE) {
		ps2_mouse_event(&c->state.mouse, ev->dx, -ev->dy, ev->dz, ps2_buttons(ev->buttons));
		i8042_update(c);
	} else if (ev->op == OP_WAIT_LEDS) {
		return;                   /* the guest is ready: the next line may follow */
	} else if (ev->op == OP_KEY) {
		kbd_event(c, &ev->key, ev->down);
	} else {
		for (unsigned i = 0; i < ev->count; i++) {
			kbd_event(c, &ev->key, true);
			kbd_event(c, &ev->key, false);
		}
	}
}

static void *script_thread(void *arg)
{
	struct input_script *s = arg;
	const struct timespec tick = { 0, 1000000 };   /* 1 ms */
	for (unsigned i = 0; i < s->n && !s->stop;) {
		lock(s->c);
		bool go = ready(s->c, &s->events[i], &s->sink);
		if (go) {
			play(s->c, &s->events[i]);
			play_sink(&s->sink, &s->events[i]);
		}
		unlock(s->c);
		if (go)
			i++;
		else
			nanosleep(&tick, NULL);
	}
	return NULL;
}

void input_script_set_sink(struct input_script *s, const struct input_sink *sink)
{
	s->sink = *sink;
}

int input_script_start(struct input_script *s, struct i8042 *c)
{
	s->c = c;
	int err = pthread_create(&s->thread, NULL, script_thread, s);
	s->started = err == 0;
	return -err;
}

void input_script_close(struct input_script *s)
{
	if (!s)
		return;
	if (s->started) {
		s->stop = true;
		pthread_join(s->thread, NULL);
	}
	free(s->events);
	free(s);
}
