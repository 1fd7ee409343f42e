/*
 * vga.c - the VGA's registers, its four planes behind the legacy window, and the Bochs VBE
 * registers. See vga.h. Models the IBM VGA (sequencer, graphics controller, attribute
 * controller, CRT controller, DAC; read modes 0-1, write modes 0-3) and the Bochs "dispi"
 * interface; behaviour checked against what SeaBIOS's VGA BIOS (vgasrc/stdvga.c,
 * vgasrc/bochsvga.c) and Linux's vgacon and bochs-drm expect.
 *
 * Every guest-supplied index, bank, offset and resolution is checked here, in one place: an
 * out-of-range register index is ignored, a VBE mode or offset that would reach past VRAM is
 * refused (the old value stays, or the nearest one that fits is taken) and the refusal is
 * recorded in v->why for the device to report in one line. Nothing computed from guest values
 * is used as an index without passing one of those checks.
 */
#include "vga.h"
#include "state_check.h"

#include <stdio.h>
#include <string.h>

/* Register numbers used below (IBM's names). */
#define SEQ_CLOCKING    1
#define SEQ_MAP_MASK    2
#define SEQ_MEMORY_MODE 4
#define SEQ_MM_ODD_EVEN_OFF 0x04
#define SEQ_MM_CHAIN4   0x08
#define GC_SET_RESET    0
#define GC_ENABLE_SR    1
#define GC_COLOR_CMP    2
#define GC_ROTATE       3
#define GC_READ_MAP     4
#define GC_MODE         5
#define GC_MISC         6
#define GC_DONT_CARE    7
#define GC_BIT_MASK     8
#define CRTC_PROTECT    0x11

/* Note a refused request; several in one access (a mode switch) are joined with "; ". */
static void refuse(struct vga *v, const char *what, unsigned long value)
{
	size_t n = strlen(v->why);
	if (n < sizeof(v->why) - 1)
		snprintf(v->why + n, sizeof(v->why) - n, "%s%s 0x%lx refused", n ? "; " : "",
			 what, value);
	v->refused++;
}

void vga_mark_dirty(struct vga *v, uint32_t offset, uint32_t len)
{
	if (offset >= v->vram_size || len == 0)
		return;
	if (len > v->vram_size - offset)
		len = v->vram_size - offset;
	for (uint32_t p = offset >> VGA_PAGE_SHIFT; p <= (offset + len - 1) >> VGA_PAGE_SHIFT; p++)
		v->dirty[p / 64] |= 1ull << (p % 64);
}

bool vga_page_dirty(const uint64_t *bitmap, uint32_t page)
{
	return page < VGA_PAGES && (bitmap[page / 64] >> (page % 64)) & 1;
}

bool vga_state_valid(const struct vga_state *s)
{
	return s->dac_component < 3 && STATE_BOOL_OK(s, struct vga_state, ac_flipflop);
}

void vga_init(struct vga *v, uint8_t *vram, uint32_t vram_size)
{
	memset(v, 0, sizeof(*v));
	v->vram = vram;
	/* The planes of the whole 128 KiB window (512 KiB) must fit; more is VBE's. */
	v->vram_size = vram_size > VGA_VRAM_SIZE ? VGA_VRAM_SIZE : vram_size & ~0xffffu;
	if (v->vram_size < 4 * VGA_WINDOW_SIZE)
		v->vram_size = 0;   /* unusable: the window and the renderer see nothing */
	struct vga_state *s = &v->s;
	s->misc = 0x01;               /* colour: CRTC at 0x3d4 */
	s->dac_mask = 0xff;
	s->seq[SEQ_MAP_MASK] = 0x0f;
	s->gc[GC_BIT_MASK] = 0xff;
	s->vbe[VBE_ID] = VBE_ID5;
	s->vbe[VBE_XRES] = 640;
	s->vbe[VBE_YRES] = 480;
	s->vbe[VBE_BPP] = 8;
	v->regs_changed = true;
}

/* ---- ports 0x3b0-0x3df ------------------------------------------------------------------ */

/* The CRTC and input status 1 answer at 0x3dx (colour) or 0x3bx (mono), per misc bit 0. */
static bool port_active(const struct vga_state *s, uint16_t port)
{
	bool color = s->misc & 1;
	if (port >= 0x3b0 && port <= 0x3bf)
		return !color;
	if (port >= 0x3d0 && port <= 0x3df)
		return color;
	return true;
}

uint8_t vga_port_read(struct vga *v, uint16_t port)
{
	struct vga_state *s = &v->s;
	if (!port_active(s, port))
		return 0xff;
	switch (port) {
	case 0x3c0:
		return s->ac_index;
	case 0x3c1:
		return (s->ac_index & 0x1f) < VGA_AC_REGS ? s->ac[s->ac_index & 0x1f] : 0;
	case 0x3c2:
		return 0x10;          /* input status 0: the switch sense line reads "colour" */
	case 0x3c4:
		return s->seq_index;
	case 0x3c5:
		return s->seq_index < VGA_SEQ_REGS ? s->seq[s->seq_index] : 0;
	case 0x3c6:
		return s->dac_mask;
	case 0x3c7:
		return s->dac_state;
	case 0x3c8:
		return s->dac_write_index;
	case 0x3c9: {
		uint8_t value = s->palette[s->dac_read_index * 3 + s->dac_component];
		if (++s->dac_component == 3) {
			s->dac_component = 0;
			s->dac_read_index++;
		}
		return value;
	}
	case 0x3ca:
		return s->feature;
	case 0x3cc:
		return s->misc;
	case 0x3ce:
		return s->gc_index;
	case 0x3cf:
		return s->gc_index < VGA_GC_REGS ? s->gc[s->gc_index] : 0;
	case 0x3b4: case 0x3d4:
		return s->crtc_index;
	case 0x3b5: case 0x3d5:
		return s->crtc_index < VGA_CRTC_REGS ? s->crtc[s->crtc_index] : 0;
	case 0x3ba: case 0x3da:
		/*
		 * Input status 1. Reading it resets the attribute controller's flip-flop. Programs
		 * wait for the vertical retrace (bit 3) and the display-enable gap (bit 0) to come
		 * and go: there is no beam here, so the bits flip on every read.
		 */
		s->ac_flipflop = false;
		s->status_toggle ^= 0x09;
		return s->status_toggle;
	}
	return 0xff;
}

static void ac_write(struct vga *v, uint8_t value)
{
	struct vga_state *s = &v->s;
	if (!s->ac_flipflop) {
		s->ac_index = value & 0x3f;   /* bit 5: the palette drives the screen */
	} else {
		unsigned i = s->ac_index & 0x1f;
		if (i < 16)
			s->ac[i] = value & 0x3f;
		else if (i == 0x14)
			s->ac[i] = value & 0x0f;
		else if (i < VGA_AC_REGS)
			s->ac[i] = value;
		else
			refuse(v, "attribute controller index", i);
	}
	s->ac_flipflop = !s->ac_flipflop;
}

static void crtc_write(struct vga *v, uint8_t value)
{
	struct vga_state *s = &v->s;
	unsigned i = s->crtc_index;
	if (i >= VGA_CRTC_REGS) {
		refuse(v, "CRT controller index", i);
		return;
	}
	/* CR11 bit 7 write-protects CR0-CR7, all but CR7's line-compare bit 4. */
	if ((s->crtc[CRTC_PROTECT] & 0x80) && i <= 7) {
		if (i == 7)
			s->crtc[7] = (s->crtc[7] & ~0x10) | (value & 0x10);
		return;
	}
	s->crtc[i] = value;
}

void vga_port_write(struct vga *v, uint16_t port, uint8_t value)
{
	struct vga_state *s = &v->s;
	if (!port_active(s, port))
		return;
	v->regs_changed = true;
	switch (port) {
	case 0x3c0:
		ac_write(v, value);
		break;
	case 0x3c2:
		s->misc = value;
		break;
	case 0x3c4:
		s->seq_index = value;
		break;
	case 0x3c5:
		if (s->seq_index < VGA_SEQ_REGS)
			s->seq[s->seq_index] = value;
		else
			refuse(v, "sequencer index", s->seq_index);
		break;
	case 0x3c6:
		s->dac_mask = value;
		break;
	case 0x3c7:
		s->dac_read_index = value;
		s->dac_component = 0;
		s->dac_state = 3;
		break;
	case 0x3c8:
		s->dac_write_index = value;
		s->dac_component = 0;
		s->dac_state = 0;
		break;
	case 0x3c9:
		s->dac_latch[s->dac_component++] = value;
		if (s->dac_component == 3) {
			memcpy(&s->palette[s->dac_write_index * 3], s->dac_latch, 3);
			s->dac_component = 0;
			s->dac_write_index++;
		}
		break;
	case 0x3ce:
		s->gc_index = value;
		break;
	case 0x3cf:
		if (s->gc_index < VGA_GC_REGS)
			s->gc[s->gc_index] = value;
		else
			refuse(v, "graphics controller index", s->gc_index);
		break;
	case 0x3b4: case 0x3d4:
		s->crtc_index = value;
		break;
	case 0x3b5: case 0x3d5:
		crtc_write(v, value);
		break;
	case 0x3ba: case 0x3da:
		s->feature = value;
		break;
	}
}

/* ---- Bochs VBE --------------------------------------------------------------------------- */

bool vbe_enabled(const struct vga_state *s)
{
	return s->vbe[VBE_ENABLE] & VBE_ENABLED;
}

static unsigned bytes_per_pixel(unsigned bpp)
{
	return (bpp + 7) / 8;
}

/*
 * Make the enabled mode's geometry fit in VRAM, and compute where the visible frame starts.
 * This is the check every VBE value passes before the renderer or the window uses it.
 */
static void vbe_fit(struct vga *v)
{
	uint16_t *r = v->s.vbe;
	unsigned bpp = r[VBE_BPP];
	if (bpp != 8 && bpp != 15 && bpp != 16 && bpp != 24 && bpp != 32) {
		refuse(v, "VBE bits per pixel", bpp);
		bpp = r[VBE_BPP] = 8;
	}
	unsigned bytes = bytes_per_pixel(bpp);
	if (r[VBE_XRES] < 8 || r[VBE_XRES] > VBE_MAX_XRES || r[VBE_XRES] % 8) {
		refuse(v, "VBE x resolution", r[VBE_XRES]);
		r[VBE_XRES] = r[VBE_XRES] < 8 ? 8 : r[VBE_XRES] > VBE_MAX_XRES ? VBE_MAX_XRES :
			      r[VBE_XRES] & ~7u;
	}
	if (r[VBE_YRES] < 1 || r[VBE_YRES] > VBE_MAX_YRES) {
		refuse(v, "VBE y resolution", r[VBE_YRES]);
		r[VBE_YRES] = r[VBE_YRES] < 1 ? 1 : VBE_MAX_YRES;
	}
	if (r[VBE_VIRT_WIDTH] < r[VBE_XRES])
		r[VBE_VIRT_WIDTH] = r[VBE_XRES];
	uint64_t line = (uint64_t)r[VBE_VIRT_WIDTH] * bytes;
	if (line * r[VBE_YRES] > v->vram_size) {
		refuse(v, "VBE virtual width", r[VBE_VIRT_WIDTH]);
		r[VBE_VIRT_WIDTH] = r[VBE_XRES];
		line = (uint64_t)r[VBE_XRES] * bytes;
	}
	if (line * r[VBE_YRES] > v->vram_size) {
		/* the visible frame alone is larger than VRAM: keep the lines that fit */
		refuse(v, "VBE mode larger than VRAM, lines", r[VBE_YRES]);
		r[VBE_YRES] = v->vram_size / line;
	}
	r[VBE_VIRT_HEIGHT] = v->vram_size / line > 0xffff ? 0xffff : v->vram_size / line;
	uint64_t start = (uint64_t)r[VBE_Y_OFFSET] * line + (uint64_t)r[VBE_X_OFFSET] * bytes;
	if (r[VBE_X_OFFSET] + r[VBE_XRES] > r[VBE_VIRT_WIDTH] ||
	    start + line * r[VBE_YRES] > v->vram_size) {
		refuse(v, "VBE display offset", start);
		r[VBE_X_OFFSET] = r[VBE_Y_OFFSET] = 0;
		start = 0;
	}
	v->s.vbe_line = line;
	v->s.vbe_start = start;
}

uint16_t vbe_read(struct vga *v, unsigned index)
{
	const uint16_t *r = v->s.vbe;
	if (index >= VBE_REGS)
		return 0;
	if (r[VBE_ENABLE] & VBE_GETCAPS) {
		/* "What is the most you can do?": the limits instead of the settings. */
		if (index == VBE_XRES)
			return VBE_MAX_XRES;
		if (index == VBE_YRES)
			return VBE_MAX_YRES;
		if (index == VBE_BPP)
			return VBE_MAX_BPP;
	}
	if (index == VBE_VIDEO_MEMORY_64K)
		return v->vram_size >> 16;
	return r[index];
}

void vbe_write(struct vga *v, unsigned index, uint16_t value)
{
	uint16_t *r = v->s.vbe;
	v->regs_changed = true;
	switch (index) {
	case VBE_ID:
		if (value >= 0xb0c0 && value <= VBE_ID5)
			r[VBE_ID] = value;
		return;
	case VBE_XRES: case VBE_YRES: case VBE_BPP: case VBE_VIRT_WIDTH:
	case VBE_X_OFFSET: case VBE_Y_OFFSET:
		r[index] = value;
		break;
	case VBE_BANK:
		if (((uint32_t)value << 16) >= v->vram_size) {
			refuse(v, "VBE bank", value);
			return;
		}
		r[VBE_BANK] = value;
		v->s.vbe_bank_offset = (uint32_t)value << 16;
		return;
	case VBE_ENABLE: {
		bool was = vbe_enabled(&v->s);
		r[VBE_ENABLE] = value & (VBE_ENABLED | VBE_GETCAPS | VBE_8BIT_DAC |
					 VBE_LFB_ENABLED | VBE_NOCLEARMEM);
		if (!(value & VBE_ENABLED) || was)
			break;
		/* Switching on: the virtual screen starts as the visible one, at offset 0. */
		r[VBE_VIRT_WIDTH] = 0;   /* vbe_fit() makes it the (checked) x resolution */
		r[VBE_X_OFFSET] = r[VBE_Y_OFFSET] = 0;
		vbe_fit(v);
		if (!(value & VBE_NOCLEARMEM)) {
			uint64_t size = (uint64_t)v->s.vbe_line * r[VBE_YRES];
			memset(v->vram, 0, size);
			vga_mark_dirty(v, 0, size);
		}
		return;
	}
	default:
		if (index >= VBE_REGS)
			refuse(v, "VBE index", index);
		return;   /* VIRT_HEIGHT and VIDEO_MEMORY_64K are computed, not set */
	}
	if (vbe_enabled(&v->s))
		vbe_fit(v);
}

/* ---- the legacy window at 0xa0000 ------------------------------------------------------ */

/* Where the graphics controller's memory map (GC6 bits 3:2) puts the window; -1: outside. */
static int64_t window_address(const struct vga_state *s, uint32_t offset)
{
	static const uint32_t base[4] = { 0, 0, 0x10000, 0x18000 };
	static const uint32_t size[4] = { 0x20000, 0x10000, 0x8000, 0x8000 };
	unsigned map = (s->gc[GC_MISC] >> 2) & 3;
	if (offset < base[map] || offset - base[map] >= size[map])
		return -1;
	return offset - base[map];
}

/* A VBE mode sees the first 64 KiB of the window as a bank of the linear frame buffer. */
static int64_t bank_address(const struct vga *v, uint32_t offset)
{
	if (offset >= 0x10000)
		return -1;
	uint32_t addr = v->s.vbe_bank_offset + offset;
	return addr < v->vram_size ? (int64_t)addr : -1;
}

uint8_t vga_mem_read(struct vga *v, uint32_t offset)
{
	struct vga_state *s = &v->s;
	if (vbe_enabled(s)) {
		int64_t a = bank_address(v, offset);
		return a < 0 ? 0xff : v->vram[a];
	}
	int64_t a = window_address(s, offset);
	if (a < 0 || !v->vram_size)
		return 0xff;
	/* vga_init() keeps VRAM >= 512 KiB: 4 * any window address is inside it. */
	if (s->seq[SEQ_MEMORY_MODE] & SEQ_MM_CHAIN4)
		return v->vram[a];
	if (s->gc[GC_MODE] & 0x10) {   /* odd/even: A0 picks the plane */
		unsigned plane = (s->gc[GC_READ_MAP] & 2) | (a & 1);
		return v->vram[(a >> 1) * 4 + plane];
	}
	/* Planar: a read loads all four latches; read mode picks what comes back. */
	memcpy(s->latch, &v->vram[a * 4], 4);
	if (!(s->gc[GC_MODE] & 0x08))
		return s->latch[s->gc[GC_READ_MAP] & 3];
	/* Read mode 1: a bit is 1 where each cared-for plane equals the compare colour. */
	uint8_t result = 0xff;
	for (int p = 0; p < 4; p++)
		if (s->gc[GC_DONT_CARE] & (1 << p))
			result &= ~(s->latch[p] ^ ((s->gc[GC_COLOR_CMP] >> p) & 1 ? 0xff : 0));
	return result;
}

static uint8_t rotate(uint8_t value, unsigned count)
{
	count &= 7;
	return (uint8_t)((value >> count) | (value << ((8 - count) & 7)));
}

/* Write modes 0-3: what each plane receives, before the plane mask. */
static void planar_write(struct vga *v, uint32_t word, uint8_t value)
{
	struct vga_state *s = &v->s;
	const uint8_t *gc = s->gc;
	uint8_t out[4], bit_mask = gc[GC_BIT_MASK];
	unsigned mode = gc[GC_MODE] & 3;

	for (int p = 0; p < 4; p++) {
		uint8_t sr = (gc[GC_SET_RESET] >> p) & 1 ? 0xff : 0;
		switch (mode) {
		case 0:
			out[p] = (gc[GC_ENABLE_SR] >> p) & 1 ? sr : rotate(value, gc[GC_ROTATE]);
			break;
		case 1:
			out[p] = s->latch[p];   /* the latches, unchanged (copying screen areas) */
			break;
		case 2:
			out[p] = (value >> p) & 1 ? 0xff : 0;
			break;
		default:
			out[p] = sr;
			break;
		}
	}
	if (mode != 1) {
		if (mode == 3)
			bit_mask &= rotate(value, gc[GC_ROTATE]);
		for (int p = 0; p < 4; p++) {
			switch ((gc[GC_ROTATE] >> 3) & 3) {
			case 1: out[p] &= s->latch[p]; break;
			case 2: out[p] |= s->latch[p]; break;
			case 3: out[p] ^= s->latch[p]; break;
			}
			out[p] = (out[p] & bit_mask) | (s->latch[p] & ~bit_mask);
		}
	}
	for (int p = 0; p < 4; p++)
		if (s->seq[SEQ_MAP_MASK] & (1 << p))
			v->vram[word * 4 + p] = out[p];
	vga_mark_dirty(v, word * 4, 4);
}

void vga_mem_write(struct vga *v, uint32_t offset, uint8_t value)
{
	struct vga_state *s = &v->s;
	if (vbe_enabled(s)) {
		int64_t a = bank_address(v, offset);
		if (a >= 0) {
			v->vram[a] = value;
			vga_mark_dirty(v, a, 1);
		}
		return;
	}
	int64_t a = window_address(s, offset);
	if (a < 0 || !v->vram_size)
		return;
	if (s->seq[SEQ_MEMORY_MODE] & SEQ_MM_CHAIN4) {
		if (s->seq[SEQ_MAP_MASK] & (1 << (a & 3))) {
			v->vram[a] = value;
			vga_mark_dirty(v, a, 1);
		}
	} else if (!(s->seq[SEQ_MEMORY_MODE] & SEQ_MM_ODD_EVEN_OFF)) {
		unsigned plane = (s->gc[GC_READ_MAP] & 2) | (a & 1);
		if (s->seq[SEQ_MAP_MASK] & (1 << plane)) {
			v->vram[(a >> 1) * 4 + plane] = value;
			vga_mark_dirty(v, (a >> 1) * 4, 4);
		}
	} else {
		planar_write(v, a, value);
	}
}
