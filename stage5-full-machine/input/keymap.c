/*
 * keymap.c - the US layout: keysym -> key (set 2 and set 3 codes) and Shift. See keymap.h.
 *
 * Teaches: one table, read top to bottom like the keyboard itself. Models the US 101-key PC
 * keyboard with IBM's scan code sets 2 and 3.
 */
#include "keymap.h"

#include <string.h>

#define E0 true

/* Keys, by keysym; one line each. {set 2, set 3, extended}. */
static const struct keymap_entry keys[] = {
	/* the row of digits, unshifted and shifted */
	{ '`', "grave", { 0x0e, 0x0e, 0 }, 0 },       { '~', "asciitilde", { 0x0e, 0x0e, 0 }, 1 },
	{ '1', "1", { 0x16, 0x16, 0 }, 0 },           { '!', "exclam", { 0x16, 0x16, 0 }, 1 },
	{ '2', "2", { 0x1e, 0x1e, 0 }, 0 },           { '@', "at", { 0x1e, 0x1e, 0 }, 1 },
	{ '3', "3", { 0x26, 0x26, 0 }, 0 },           { '#', "numbersign", { 0x26, 0x26, 0 }, 1 },
	{ '4', "4", { 0x25, 0x25, 0 }, 0 },           { '$', "dollar", { 0x25, 0x25, 0 }, 1 },
	{ '5', "5", { 0x2e, 0x2e, 0 }, 0 },           { '%', "percent", { 0x2e, 0x2e, 0 }, 1 },
	{ '6', "6", { 0x36, 0x36, 0 }, 0 },           { '^', "asciicircum", { 0x36, 0x36, 0 }, 1 },
	{ '7', "7", { 0x3d, 0x3d, 0 }, 0 },           { '&', "ampersand", { 0x3d, 0x3d, 0 }, 1 },
	{ '8', "8", { 0x3e, 0x3e, 0 }, 0 },           { '*', "asterisk", { 0x3e, 0x3e, 0 }, 1 },
	{ '9', "9", { 0x46, 0x46, 0 }, 0 },           { '(', "parenleft", { 0x46, 0x46, 0 }, 1 },
	{ '0', "0", { 0x45, 0x45, 0 }, 0 },           { ')', "parenright", { 0x45, 0x45, 0 }, 1 },
	{ '-', "minus", { 0x4e, 0x4e, 0 }, 0 },       { '_', "underscore", { 0x4e, 0x4e, 0 }, 1 },
	{ '=', "equal", { 0x55, 0x55, 0 }, 0 },       { '+', "plus", { 0x55, 0x55, 0 }, 1 },
	{ 0xff08, "BackSpace", { 0x66, 0x66, 0 }, 0 },
	/* the top row of letters */
	{ 0xff09, "Tab", { 0x0d, 0x0d, 0 }, 0 },
	{ 'q', "q", { 0x15, 0x15, 0 }, 0 },           { 'w', "w", { 0x1d, 0x1d, 0 }, 0 },
	{ 'e', "e", { 0x24, 0x24, 0 }, 0 },           { 'r', "r", { 0x2d, 0x2d, 0 }, 0 },
	{ 't', "t", { 0x2c, 0x2c, 0 }, 0 },           { 'y', "y", { 0x35, 0x35, 0 }, 0 },
	{ 'u', "u", { 0x3c, 0x3c, 0 }, 0 },           { 'i', "i", { 0x43, 0x43, 0 }, 0 },
	{ 'o', "o", { 0x44, 0x44, 0 }, 0 },           { 'p', "p", { 0x4d, 0x4d, 0 }, 0 },
	{ '[', "bracketleft", { 0x54, 0x54, 0 }, 0 }, { '{', "braceleft", { 0x54, 0x54, 0 }, 1 },
	{ ']', "bracketright", { 0x5b, 0x5b, 0 }, 0 }, { '}', "braceright", { 0x5b, 0x5b, 0 }, 1 },
	{ '\\', "backslash", { 0x5d, 0x5c, 0 }, 0 },  { '|', "bar", { 0x5d, 0x5c, 0 }, 1 },
	/* the middle row */
	{ 0xffe5, "Caps_Lock", { 0x58, 0x14, 0 }, 0 },
	{ 'a', "a", { 0x1c, 0x1c, 0 }, 0 },           { 's', "s", { 0x1b, 0x1b, 0 }, 0 },
	{ 'd', "d", { 0x23, 0x23, 0 }, 0 },           { 'f', "f", { 0x2b, 0x2b, 0 }, 0 },
	{ 'g', "g", { 0x34, 0x34, 0 }, 0 },           { 'h', "h", { 0x33, 0x33, 0 }, 0 },
	{ 'j', "j", { 0x3b, 0x3b, 0 }, 0 },           { 'k', "k", { 0x42, 0x42, 0 }, 0 },
	{ 'l', "l", { 0x4b, 0x4b, 0 }, 0 },
	{ ';', "semicolon", { 0x4c, 0x4c, 0 }, 0 },   { ':', "colon", { 0x4c, 0x4c, 0 }, 1 },
	{ '\'', "apostrophe", { 0x52, 0x52, 0 }, 0 }, { '"', "quotedbl", { 0x52, 0x52, 0 }, 1 },
	{ 0xff0d, "Return", { 0x5a, 0x5a, 0 }, 0 },
	/* the bottom row */
	{ XK_SHIFT_L, "Shift_L", { 0x12, 0x12, 0 }, 0 },
	{ 'z', "z", { 0x1a, 0x1a, 0 }, 0 },           { 'x', "x", { 0x22, 0x22, 0 }, 0 },
	{ 'c', "c", { 0x21, 0x21, 0 }, 0 },           { 'v', "v", { 0x2a, 0x2a, 0 }, 0 },
	{ 'b', "b", { 0x32, 0x32, 0 }, 0 },           { 'n', "n", { 0x31, 0x31, 0 }, 0 },
	{ 'm', "m", { 0x3a, 0x3a, 0 }, 0 },
	{ ',', "comma", { 0x41, 0x41, 0 }, 0 },       { '<', "less", { 0x41, 0x41, 0 }, 1 },
	{ '.', "period", { 0x49, 0x49, 0 }, 0 },      { '>', "greater", { 0x49, 0x49, 0 }, 1 },
	{ '/', "slash", { 0x4a, 0x4a, 0 }, 0 },       { '?', "question", { 0x4a, 0x4a, 0 }, 1 },
	{ XK_SHIFT_R, "Shift_R", { 0x59, 0x59, 0 }, 0 },
	/* the space bar row */
	{ 0xffe3, "Control_L", { 0x14, 0x11, 0 }, 0 },
	{ 0xffeb, "Super_L", { 0x1f, 0x8b, E0 }, 0 },
	{ 0xffe9, "Alt_L", { 0x11, 0x19, 0 }, 0 },
	{ ' ', "space", { 0x29, 0x29, 0 }, 0 },
	{ 0xffea, "Alt_R", { 0x11, 0x39, E0 }, 0 },
	{ 0xfe03, "ISO_Level3_Shift", { 0x11, 0x39, E0 }, 0 },   /* AltGr */
	{ 0xffec, "Super_R", { 0x27, 0x8c, E0 }, 0 },
	{ 0xff67, "Menu", { 0x2f, 0x8d, E0 }, 0 },
	{ 0xffe4, "Control_R", { 0x14, 0x58, E0 }, 0 },
	/* Escape and the function keys */
	{ 0xff1b, "Escape", { 0x76, 0x08, 0 }, 0 },
	{ 0xffbe, "F1", { 0x05, 0x07, 0 }, 0 },       { 0xffbf, "F2", { 0x06, 0x0f, 0 }, 0 },
	{ 0xffc0, "F3", { 0x04, 0x17, 0 }, 0 },       { 0xffc1, "F4", { 0x0c, 0x1f, 0 }, 0 },
	{ 0xffc2, "F5", { 0x03, 0x27, 0 }, 0 },       { 0xffc3, "F6", { 0x0b, 0x2f, 0 }, 0 },
	{ 0xffc4, "F7", { 0x83, 0x37, 0 }, 0 },       { 0xffc5, "F8", { 0x0a, 0x3f, 0 }, 0 },
	{ 0xffc6, "F9", { 0x01, 0x47, 0 }, 0 },       { 0xffc7, "F10", { 0x09, 0x4f, 0 }, 0 },
	{ 0xffc8, "F11", { 0x78, 0x56, 0 }, 0 },      { 0xffc9, "F12", { 0x07, 0x5e, 0 }, 0 },
	{ 0xff14, "Scroll_Lock", { 0x7e, 0x5f, 0 }, 0 },
	/* the editing block and the arrows: the extended keys */
	{ 0xff63, "Insert", { 0x70, 0x67, E0 }, 0 },  { 0xffff, "Delete", { 0x71, 0x64, E0 }, 0 },
	{ 0xff50, "Home", { 0x6c, 0x6e, E0 }, 0 },    { 0xff57, "End", { 0x69, 0x65, E0 }, 0 },
	{ 0xff55, "Prior", { 0x7d, 0x6f, E0 }, 0 },   { 0xff56, "Next", { 0x7a, 0x6d, E0 }, 0 },
	{ 0xff52, "Up", { 0x75, 0x63, E0 }, 0 },      { 0xff54, "Down", { 0x72, 0x60, E0 }, 0 },
	{ 0xff51, "Left", { 0x6b, 0x61, E0 }, 0 },    { 0xff53, "Right", { 0x74, 0x6a, E0 }, 0 },
	/* the numeric keypad */
	{ 0xff7f, "Num_Lock", { 0x77, 0x76, 0 }, 0 },
	{ 0xffaf, "KP_Divide", { 0x4a, 0x77, E0 }, 0 },
	{ 0xffaa, "KP_Multiply", { 0x7c, 0x7e, 0 }, 0 },
	{ 0xffad, "KP_Subtract", { 0x7b, 0x84, 0 }, 0 },
	{ 0xffab, "KP_Add", { 0x79, 0x7c, 0 }, 0 },
	{ 0xff8d, "KP_Enter", { 0x5a, 0x79, E0 }, 0 },
	{ 0xffae, "KP_Decimal", { 0x71, 0x71, 0 }, 0 },
	{ 0xffb0, "KP_0", { 0x70, 0x70, 0 }, 0 },     { 0xffb1, "KP_1", { 0x69, 0x69, 0 }, 0 },
	{ 0xffb2, "KP_2", { 0x72, 0x72, 0 }, 0 },     { 0xffb3, "KP_3", { 0x7a, 0x7a, 0 }, 0 },
	{ 0xffb4, "KP_4", { 0x6b, 0x6b, 0 }, 0 },     { 0xffb5, "KP_5", { 0x73, 0x73, 0 }, 0 },
	{ 0xffb6, "KP_6", { 0x74, 0x74, 0 }, 0 },     { 0xffb7, "KP_7", { 0x6c, 0x6c, 0 }, 0 },
	{ 0xffb8, "KP_8", { 0x75, 0x75, 0 }, 0 },     { 0xffb9, "KP_9", { 0x7d, 0x7d, 0 }, 0 },
	/* what X11 sends for Shift+Tab */
	{ 0xfe20, "ISO_Left_Tab", { 0x0d, 0x0d, 0 }, 1 },
};

#define NKEYS (sizeof(keys) / sizeof(keys[0]))

/* Upper-case letters are their lower-case key with Shift. */
bool keymap_lookup(uint32_t keysym, struct keymap_entry *out)
{
	bool upper = keysym >= 'A' && keysym <= 'Z';
	uint32_t want = upper ? keysym - 'A' + 'a' : keysym;
	for (unsigned i = 0; i < NKEYS; i++) {
		if (keys[i].keysym == want) {
			*out = keys[i];
			out->keysym = keysym;
			out->shifted |= upper;
			return true;
		}
	}
	return false;
}

bool keymap_by_name(const char *name, struct keymap_entry *out)
{
	if (name[0] > ' ' && name[0] < 0x7f && name[1] == 0)
		return keymap_lookup((unsigned char)name[0], out);
	for (unsigned i = 0; i < NKEYS; i++) {
		if (strcmp(keys[i].name, name) == 0) {
			*out = keys[i];
			return true;
		}
	}
	return false;
}
