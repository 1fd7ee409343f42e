/*
 * keymap.h - X11 keysyms (what a VNC client sends) to PS/2 keys (what a keyboard sends).
 *
 * Teaches the gap between a character and a key. A VNC client sends keysyms, X11's names for
 * symbols (RFC 6143 7.5.4; X11 keysymdef.h): 'a' is 0x61, 'A' is 0x41, Return is 0xff0d. A
 * keyboard sends scan codes, numbers for places on the keyboard: the key left of 'S' is 0x1c
 * in set 2 whether the user means 'a' or 'A'. This table maps each keysym of a US 101-key
 * layout to the key that types it and says whether Shift must be held: '!' is Shift + '1'.
 *
 * Models: the US PC keyboard layout and IBM's scan code sets 2 and 3 (ps2.h derives set 1).
 */
#ifndef KEYMAP_H
#define KEYMAP_H

#include <stdbool.h>
#include <stdint.h>

#include "ps2.h"

/* Keysyms the keyboard treats as modifiers it tracks (for shifted characters). */
#define XK_SHIFT_L 0xffe1
#define XK_SHIFT_R 0xffe2

struct keymap_entry {
	uint32_t keysym;
	const char *name;      /* X11's name, without XK_ ("Return", "F1", "a") */
	struct ps2_key key;
	bool shifted;          /* typed with Shift held ('A', '!') */
};

/* The entry for a keysym; false for one that no key of this layout types. */
bool keymap_lookup(uint32_t keysym, struct keymap_entry *out);
/* By X11 name ("Return", "F12", "exclam", "a") or as a single printable character ("!");
 * false when unknown. For test scripts. */
bool keymap_by_name(const char *name, struct keymap_entry *out);

#endif
