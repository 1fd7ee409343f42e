/*
 * vga_render.h - from VGA state and VRAM to a picture: an array of 0x00RRGGBB pixels.
 *
 * Teaches: what a display adapter's scan-out does - read memory in the order the CRT
 * controller says, turn each byte or bit group into a colour through the attribute
 * controller and the DAC - and how a VMM avoids doing it all sixty times a second: only the
 * lines (graphics) or character cells (text) whose VRAM pages changed are drawn again.
 * Models the VGA's text mode (IBM VGA reference: character/attribute pairs, fonts in plane
 * 2, the cursor), its 16-colour planar and 256-colour modes, and the Bochs VBE linear modes
 * at 8, 15, 16, 24 and 32 bits per pixel.
 *
 * What changed is reported through a callback, one rectangle at a time (a VNC server marks
 * them for its clients). A mode change redraws everything and reports the new size.
 */
#ifndef DISPLAY_VGA_RENDER_H
#define DISPLAY_VGA_RENDER_H

#include <stdbool.h>
#include <stdint.h>

#include "vga.h"

#define RENDER_MAX_WIDTH  VBE_MAX_XRES
#define RENDER_MAX_HEIGHT VBE_MAX_YRES
#define RENDER_MAX_CELLS  (132 * 64)
#define RENDER_FONT_BYTES (256 * 32)   /* a font in plane 2: 32 bytes a character */

enum render_mode { RENDER_BLANK, RENDER_TEXT, RENDER_PLANAR, RENDER_VGA256, RENDER_VBE };

/* The geometry the registers describe (computed by render_geometry(); tests use it). */
struct render_geometry {
	enum render_mode mode;
	unsigned width, height;       /* pixels */
	unsigned bpp;                 /* VBE only */
	uint32_t start, stride;       /* VRAM byte offset of the first line, bytes per line */
	unsigned cols, rows, cell_w, cell_h;   /* text only */
	uint32_t font_a, font_b;      /* text: the two fonts' first word in plane 2 */
	uint8_t cursor_top, cursor_bottom;     /* text: the cursor's scan lines in a cell */
	uint8_t line_graphics;        /* text: 9th column repeats the 8th for 0xc0-0xdf */
};

typedef void (*render_damage_fn)(void *opaque, unsigned x, unsigned y, unsigned w,
				 unsigned h);

struct vga_renderer {
	uint32_t *pixels;             /* width * height, row after row (RENDER_MAX_* allocated) */
	struct render_geometry g;
	bool valid;                   /* pixels hold a full picture of mode g */
	uint16_t cells[RENDER_MAX_CELLS];   /* text: what each cell shows now */
	uint8_t fonts[2][RENDER_FONT_BYTES];   /* text: fonts A and B as last drawn */
	unsigned cursor_cell;         /* text: the cell the cursor was drawn in (or ~0u) */
	uint32_t palette[256];        /* the DAC as 0x00RRGGBB */
	uint32_t colors16[16];        /* text, planar: attribute controller + DAC, resolved */
	unsigned lines_drawn;         /* statistics: how much work the last call did */
	render_damage_fn damage;
	void *opaque;
};

/* 0, or -ENOMEM. */
int vga_renderer_init(struct vga_renderer *r, render_damage_fn damage, void *opaque);
void vga_renderer_free(struct vga_renderer *r);

void render_geometry(const struct vga_state *s, uint32_t vram_size, struct render_geometry *g);

/*
 * Bring r->pixels up to date. dirty: one bit per 4 KiB page of VRAM written since the last
 * call; full: registers changed (palette, mode, cursor), so compare or draw everything.
 * Returns true when the size changed (r->g.width/height hold the new one).
 */
bool vga_render(struct vga_renderer *r, const struct vga_state *s, const uint8_t *vram,
		uint32_t vram_size, const uint64_t *dirty, bool full);

#endif
