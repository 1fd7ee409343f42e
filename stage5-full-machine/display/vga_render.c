/*
 * vga_render.c - scan-out: VGA state + VRAM -> 0x00RRGGBB pixels, redrawing only what changed.
 * See vga_render.h. Models the VGA's CRT controller timing registers as far as a picture
 * needs them (display end, character width and height, start address, offset, cursor), the
 * attribute controller's palette and the DAC, and the Bochs VBE linear modes.
 *
 * Every VRAM read goes through vram_byte() or a line whose whole span was checked against
 * the VRAM size first: registers are guest data, and a start address or an offset can point
 * anywhere.
 */
#include "vga_render.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static uint8_t vram_byte(const uint8_t *vram, uint32_t size, uint64_t offset)
{
	return offset < size ? vram[offset] : 0;
}

static bool span_in_vram(uint64_t offset, uint64_t len, uint32_t size)
{
	return offset <= size && len <= size - offset;
}

/* Was any page of VRAM bytes [offset, offset + len) written? */
static bool span_dirty(const uint64_t *dirty, uint64_t offset, uint64_t len)
{
	if (len == 0)
		return false;
	uint64_t last = (offset + len - 1) >> VGA_PAGE_SHIFT;
	for (uint64_t p = offset >> VGA_PAGE_SHIFT; p <= last && p < VGA_PAGES; p++)
		if (vga_page_dirty(dirty, p))
			return true;
	return false;
}

int vga_renderer_init(struct vga_renderer *r, render_damage_fn damage, void *opaque)
{
	memset(r, 0, sizeof(*r));
	r->pixels = calloc((size_t)RENDER_MAX_WIDTH * RENDER_MAX_HEIGHT, sizeof(uint32_t));
	if (!r->pixels)
		return -ENOMEM;
	r->damage = damage;
	r->opaque = opaque;
	r->cursor_cell = ~0u;
	return 0;
}

void vga_renderer_free(struct vga_renderer *r)
{
	free(r->pixels);
	r->pixels = NULL;
}

/* ---- geometry from the registers --------------------------------------------------------- */

/* Plane-2 word where font n (0-7, as the sequencer's character map select numbers them) starts. */
static uint32_t font_start(unsigned n)
{
	static const uint32_t start[8] = { 0x0000, 0x4000, 0x8000, 0xc000,
					   0x2000, 0x6000, 0xa000, 0xe000 };
	return start[n & 7];
}

void render_geometry(const struct vga_state *s, uint32_t vram_size, struct render_geometry *g)
{
	memset(g, 0, sizeof(*g));
	if (vbe_enabled(s)) {
		g->mode = RENDER_VBE;
		g->width = s->vbe[VBE_XRES];
		g->height = s->vbe[VBE_YRES];
		g->bpp = s->vbe[VBE_BPP];
		g->start = s->vbe_start;
		g->stride = s->vbe_line;
	} else {
		const uint8_t *cr = s->crtc;
		unsigned lines = (cr[0x12] | (cr[7] & 0x02) << 7 | (cr[7] & 0x40) << 3) + 1;
		unsigned cols = cr[1] + 1;
		g->start = ((uint32_t)cr[0x0c] << 8 | cr[0x0d]) * 4;
		g->stride = cr[0x13] * 8;
		if (s->gc[6] & 1) {
			unsigned scan = (cr[9] & 0x1f) + 1;
			if (cr[9] & 0x80)
				scan *= 2;   /* double scan */
			g->height = lines / scan;
			if (s->gc[5] & 0x40) {
				g->mode = RENDER_VGA256;   /* two dot clocks per pixel */
				g->width = cols * 4;
			} else {
				g->mode = RENDER_PLANAR;
				g->width = cols * 8;
			}
		} else {
			g->mode = RENDER_TEXT;
			g->cell_h = (cr[9] & 0x1f) + 1;
			g->cell_w = s->seq[1] & 1 ? 8 : 9;
			g->cols = cols;
			g->rows = lines / g->cell_h;
			if (g->cols * g->rows > RENDER_MAX_CELLS)
				g->rows = RENDER_MAX_CELLS / g->cols;
			g->width = g->cols * g->cell_w;
			g->height = g->rows * g->cell_h;
			uint8_t sr3 = s->seq[3];
			g->font_a = font_start((sr3 >> 3 & 4) | (sr3 >> 2 & 3));
			g->font_b = font_start((sr3 >> 2 & 4) | (sr3 & 3));
			g->cursor_top = cr[0x0a] & 0x1f;
			g->cursor_bottom = cr[0x0b] & 0x1f;
			g->line_graphics = !!(s->ac[0x10] & 0x04);
		}
	}
	if (g->width > RENDER_MAX_WIDTH)
		g->width = RENDER_MAX_WIDTH;
	if (g->height > RENDER_MAX_HEIGHT)
		g->height = RENDER_MAX_HEIGHT;
	/* Screen off (the attribute controller's palette is detached, or the sequencer's
	 * screen-off bit), no VRAM, or registers not set up yet: a black screen. */
	bool off = !vbe_enabled(s) && (!(s->ac_index & 0x20) || (s->seq[1] & 0x20));
	if (off || !vram_size || g->width < 8 || g->height < 8) {
		if (g->width < 8 || g->height < 8) {
			g->width = 640;
			g->height = 480;
		}
		unsigned w = g->width, h = g->height;
		memset(g, 0, sizeof(*g));
		g->mode = RENDER_BLANK;
		g->width = w;
		g->height = h;
	}
}

/* ---- colours ------------------------------------------------------------------------------ */

static uint32_t dac_rgb(const struct vga_state *s, unsigned i)
{
	const uint8_t *p = &s->palette[i * 3];
	if (s->vbe[VBE_ENABLE] & VBE_8BIT_DAC)
		return (uint32_t)p[0] << 16 | p[1] << 8 | p[2];
	/* 6-bit DAC values: 0x3f must become 0xff */
	uint32_t r = p[0] & 0x3f, g = p[1] & 0x3f, b = p[2] & 0x3f;
	return (r << 2 | r >> 4) << 16 | (g << 2 | g >> 4) << 8 | (b << 2 | b >> 4);
}

/* A 4-bit colour through the attribute controller's palette to a DAC entry. */
static unsigned ac_dac_index(const struct vga_state *s, unsigned color)
{
	unsigned v = s->ac[color & s->ac[0x12] & 0x0f];
	if (s->ac[0x10] & 0x80)
		v = (v & 0x0f) | (s->ac[0x14] & 0x03) << 4;
	v |= (s->ac[0x14] & 0x0c) << 4;
	return v & s->dac_mask;
}

/* Update the colour tables; true if any entry changed. */
static bool update_colors(struct vga_renderer *r, const struct vga_state *s)
{
	uint32_t pal[256], c16[16];
	for (unsigned i = 0; i < 256; i++)
		pal[i] = dac_rgb(s, i & s->dac_mask);
	for (unsigned i = 0; i < 16; i++)
		c16[i] = pal[ac_dac_index(s, i)];
	bool changed = memcmp(pal, r->palette, sizeof(pal)) ||
		       memcmp(c16, r->colors16, sizeof(c16));
	memcpy(r->palette, pal, sizeof(pal));
	memcpy(r->colors16, c16, sizeof(c16));
	return changed;
}

/* ---- text mode ----------------------------------------------------------------------------- */

static void draw_cell(struct vga_renderer *r, const struct vga_state *s, const uint8_t *vram,
		      uint32_t vram_size, unsigned row, unsigned col, uint8_t ch, uint8_t attr,
		      bool cursor)
{
	const struct render_geometry *g = &r->g;
	unsigned fg = attr & 0x0f, bg = attr >> 4;
	if (s->ac[0x10] & 0x08)
		bg &= 7;   /* bit 7 means blink, not a bright background; nothing blinks here */
	uint32_t fgc = r->colors16[fg], bgc = r->colors16[bg];
	/* Attribute bit 3 selects font A, else font B (the same font unless two are loaded). */
	uint32_t font = (attr & 0x08 ? g->font_a : g->font_b) + ch * 32u;
	bool ninth = g->cell_w == 9 && g->line_graphics && ch >= 0xc0 && ch <= 0xdf;
	for (unsigned y = 0; y < g->cell_h; y++) {
		uint8_t bits = vram_byte(vram, vram_size, (uint64_t)(font + y) * 4 + 2);
		if (cursor && y >= g->cursor_top && y <= g->cursor_bottom)
			bits = 0xff;
		size_t line = (size_t)row * g->cell_h + y;
		uint32_t *px = r->pixels + line * g->width + col * g->cell_w;
		for (unsigned x = 0; x < 8; x++)
			px[x] = bits & (0x80 >> x) ? fgc : bgc;
		if (g->cell_w == 9)
			px[8] = (ninth || cursor) && (bits & 1) ? fgc : bgc;
	}
}

static void render_text(struct vga_renderer *r, const struct vga_state *s, const uint8_t *vram,
			uint32_t vram_size, const uint64_t *dirty, bool full)
{
	const struct render_geometry *g = &r->g;
	uint32_t start_word = g->start / 4, stride_cells = g->stride / 4;
	/*
	 * A changed font changes every cell. The font is plane 2, interleaved with the text's
	 * planes 0 and 1 in the same pages: a dirty page says "maybe", the copy says "yes".
	 */
	const uint32_t fonts[2] = { g->font_a, g->font_b };
	for (int f = 0; f < 2; f++) {
		if (!full && !span_dirty(dirty, (uint64_t)fonts[f] * 4, RENDER_FONT_BYTES * 4))
			continue;
		for (unsigned i = 0; i < RENDER_FONT_BYTES; i++) {
			uint8_t b = vram_byte(vram, vram_size, (uint64_t)(fonts[f] + i) * 4 + 2);
			if (b != r->fonts[f][i]) {
				r->fonts[f][i] = b;
				full = true;
			}
		}
	}
	unsigned cursor = ~0u;
	uint32_t pos = (uint32_t)s->crtc[0x0e] << 8 | s->crtc[0x0f];
	if (!(s->crtc[0x0a] & 0x20) && g->cursor_top <= g->cursor_bottom && pos >= start_word &&
	    stride_cells) {
		uint32_t at = pos - start_word;
		uint32_t row = at / stride_cells, col = at % stride_cells;
		if (row < g->rows && col < g->cols)
			cursor = row * g->cols + col;
	}
	/* A cursor that moved is drawn again in both cells (its shape is in g: a change of
	 * shape is a full redraw). */
	unsigned old_cursor = r->cursor_cell;
	bool moved = cursor != old_cursor;
	for (unsigned row = 0; row < g->rows; row++) {
		uint64_t row_at = g->start + (uint64_t)row * g->stride;
		bool cursor_row = moved && ((cursor != ~0u && cursor / g->cols == row) ||
					    (old_cursor != ~0u && old_cursor / g->cols == row));
		if (!full && !cursor_row && !span_dirty(dirty, row_at, g->cols * 4))
			continue;
		unsigned first = ~0u, last = 0;
		for (unsigned col = 0; col < g->cols; col++) {
			unsigned cell = row * g->cols + col;
			uint8_t ch = vram_byte(vram, vram_size, row_at + col * 4);
			uint8_t attr = vram_byte(vram, vram_size, row_at + col * 4 + 1);
			uint16_t key = ch | attr << 8;
			if (!full && key == r->cells[cell] &&
			    !(moved && (cell == cursor || cell == old_cursor)))
				continue;
			draw_cell(r, s, vram, vram_size, row, col, ch, attr, cell == cursor);
			r->cells[cell] = key;
			if (first == ~0u)
				first = col;
			last = col;
		}
		if (first != ~0u) {
			r->lines_drawn += g->cell_h;
			r->damage(r->opaque, first * g->cell_w, row * g->cell_h,
				  (last - first + 1) * g->cell_w, g->cell_h);
		}
	}
	r->cursor_cell = cursor;
}

/* ---- graphics modes: one scan line at a time ---------------------------------------------- */

static uint64_t line_bytes(const struct render_geometry *g)
{
	switch (g->mode) {
	case RENDER_PLANAR: return (uint64_t)g->width / 8 * 4;
	case RENDER_VGA256: return g->width;
	default: return (uint64_t)g->width * ((g->bpp + 7) / 8);
	}
}

static void draw_line(struct vga_renderer *r, const uint8_t *vram, uint32_t vram_size,
		      unsigned y)
{
	const struct render_geometry *g = &r->g;
	uint32_t *px = r->pixels + (size_t)y * g->width;
	uint64_t at = g->start + (uint64_t)y * g->stride;
	if (g->mode == RENDER_PLANAR) {
		/* Pixel x: bit 7 - x % 8 of plane p's byte in word x / 8 is colour bit p. */
		for (unsigned x = 0; x < g->width; x += 8) {
			uint8_t plane[4];
			for (int p = 0; p < 4; p++)
				plane[p] = vram_byte(vram, vram_size, at + x / 8 * 4 + p);
			for (unsigned b = 0; b < 8; b++) {
				unsigned bit = 7 - b, c = 0;
				for (int p = 0; p < 4; p++)
					c |= ((plane[p] >> bit) & 1) << p;
				px[x + b] = r->colors16[c];
			}
		}
		return;
	}
	if (g->mode == RENDER_VGA256 || g->bpp == 8) {
		for (unsigned x = 0; x < g->width; x++)
			px[x] = r->palette[vram_byte(vram, vram_size, at + x)];
		return;
	}
	unsigned bytes = (g->bpp + 7) / 8;
	if (!span_in_vram(at, (uint64_t)g->width * bytes, vram_size)) {
		memset(px, 0, g->width * sizeof(*px));
		return;
	}
	const uint8_t *src = vram + at;
	for (unsigned x = 0; x < g->width; x++, src += bytes) {
		uint32_t v, red, green, blue;
		switch (g->bpp) {
		case 15:
			v = src[0] | src[1] << 8;
			red = v >> 10 & 0x1f; green = v >> 5 & 0x1f; blue = v & 0x1f;
			px[x] = (red << 3 | red >> 2) << 16 | (green << 3 | green >> 2) << 8 |
				(blue << 3 | blue >> 2);
			break;
		case 16:
			v = src[0] | src[1] << 8;
			red = v >> 11; green = v >> 5 & 0x3f; blue = v & 0x1f;
			px[x] = (red << 3 | red >> 2) << 16 | (green << 2 | green >> 4) << 8 |
				(blue << 3 | blue >> 2);
			break;
		default:   /* 24 and 32: blue, green, red in memory order */
			px[x] = (uint32_t)src[2] << 16 | src[1] << 8 | src[0];
			break;
		}
	}
}

static void render_lines(struct vga_renderer *r, const uint8_t *vram, uint32_t vram_size,
			 const uint64_t *dirty, bool full)
{
	const struct render_geometry *g = &r->g;
	uint64_t len = line_bytes(g);
	unsigned band = 0, band_start = 0;   /* consecutive redrawn lines: one rectangle */
	for (unsigned y = 0; y <= g->height; y++) {
		bool draw = y < g->height &&
			    (full || span_dirty(dirty, g->start + (uint64_t)y * g->stride, len));
		if (draw) {
			draw_line(r, vram, vram_size, y);
			r->lines_drawn++;
			if (!band++)
				band_start = y;
		} else if (band) {
			r->damage(r->opaque, 0, band_start, g->width, band);
			band = 0;
		}
	}
}

bool vga_render(struct vga_renderer *r, const struct vga_state *s, const uint8_t *vram,
		uint32_t vram_size, const uint64_t *dirty, bool full)
{
	struct render_geometry g;
	render_geometry(s, vram_size, &g);
	bool resized = !r->valid || g.width != r->g.width || g.height != r->g.height;
	if (!r->valid || memcmp(&g, &r->g, sizeof(g)))
		full = true;
	r->g = g;
	/* A palette change repaints everything that goes through the palette. */
	if (update_colors(r, s) && (g.mode != RENDER_VBE || g.bpp == 8))
		full = true;
	r->lines_drawn = 0;
	switch (g.mode) {
	case RENDER_BLANK:
		if (full) {
			memset(r->pixels, 0, (size_t)g.width * g.height * sizeof(uint32_t));
			r->damage(r->opaque, 0, 0, g.width, g.height);
		}
		break;
	case RENDER_TEXT:
		render_text(r, s, vram, vram_size, dirty, full);
		break;
	default:
		render_lines(r, vram, vram_size, dirty, full);
		break;
	}
	r->valid = true;
	return resized;
}
