/*
 * test_stage5_display.c - unit tests of the display family (stage5-full-machine/display/):
 * the VGA's register files and memory modes (vga.c), the Bochs VBE registers and their checks,
 * the renderer (vga_render.c: text, planar, 256-colour, VBE 8/15/16/24/32 bpp, redrawing only
 * dirty pages), the -vnc argument, the screendump writers. No KVM, no guest: the tests play
 * the VGA BIOS, writing the registers the way SeaBIOS's vgasrc does.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "display/screendump.h"
#include "display/vga.h"
#include "display/vga_render.h"
#include "display/vnc.h"

static uint8_t *vram;
static struct vga vga;
static struct vga_renderer rend;
static unsigned damage_calls, damage_area;

static void on_damage(void *opaque, unsigned x, unsigned y, unsigned w, unsigned h)
{
	(void)opaque;
	(void)x;
	(void)y;
	damage_calls++;
	damage_area += w * h;
}

static int setup(void **state)
{
	(void)state;
	vram = calloc(1, VGA_VRAM_SIZE);
	vga_init(&vga, vram, VGA_VRAM_SIZE);
	damage_calls = damage_area = 0;
	return vram && !vga_renderer_init(&rend, on_damage, NULL) ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	vga_renderer_free(&rend);
	free(vram);
	return 0;
}

static void outb(uint16_t port, uint8_t v)
{
	vga_port_write(&vga, port, v);
}

static uint8_t inb(uint16_t port)
{
	return vga_port_read(&vga, port);
}

static void set_reg(uint16_t index_port, uint8_t index, uint8_t value)
{
	outb(index_port, index);
	outb(index_port + 1, value);
}

static void render(bool full)
{
	damage_calls = damage_area = 0;
	vga_render(&rend, &vga.s, vram, vga.vram_size, vga.dirty, full);
	memset(vga.dirty, 0, sizeof(vga.dirty));
}

/* Mode 3 as the VGA BIOS sets it: 80x25 text, 9x16 cells, odd/even, palette on. */
static void mode3(void)
{
	static const uint8_t seq[] = { 0x03, 0x00, 0x03, 0x00, 0x02 };
	static const uint8_t crtc[] = { 0x5f, 0x4f, 0x50, 0x82, 0x55, 0x81, 0xbf, 0x1f, 0x00,
					0x4f, 0x0d, 0x0e, 0x00, 0x00, 0x00, 0x00, 0x9c, 0x8e,
					0x8f, 0x28, 0x1f, 0x96, 0xb9, 0xa3, 0xff };
	static const uint8_t gc[] = { 0, 0, 0, 0, 0, 0x10, 0x0e, 0x0f, 0xff };
	outb(0x3c2, 0x67);
	for (unsigned i = 0; i < sizeof(seq); i++)
		set_reg(0x3c4, i, seq[i]);
	for (unsigned i = 0; i < sizeof(crtc); i++)
		set_reg(0x3d4, i, crtc[i]);
	for (unsigned i = 0; i < sizeof(gc); i++)
		set_reg(0x3ce, i, gc[i]);
	inb(0x3da);
	for (unsigned i = 0; i < 16; i++) {
		outb(0x3c0, i);
		outb(0x3c0, i < 8 ? i : i + 0x30);   /* the EGA palette: 8-15 -> 0x38-0x3f */
	}
	static const uint8_t ac_rest[] = { 0x0c, 0x00, 0x0f, 0x08, 0x00 };
	for (unsigned i = 0; i < sizeof(ac_rest); i++) {
		outb(0x3c0, 0x10 + i);
		outb(0x3c0, ac_rest[i]);
	}
	outb(0x3c0, 0x20);   /* palette address source: the screen is on */
	/* DAC: entry 7 light grey, 0 black, 0x3f white. */
	outb(0x3c8, 7);
	outb(0x3c9, 0x2a); outb(0x3c9, 0x2a); outb(0x3c9, 0x2a);
	outb(0x3c8, 0x3f);
	outb(0x3c9, 0x3f); outb(0x3c9, 0x3f); outb(0x3c9, 0x3f);
}

/* Load glyph ch (16 rows) into font 0 of plane 2 as the BIOS does: planar, plane 2 only. */
static void load_glyph(uint8_t ch, const uint8_t rows[16])
{
	set_reg(0x3c4, 2, 0x04);   /* write plane 2 */
	set_reg(0x3c4, 4, 0x07);   /* odd/even off */
	set_reg(0x3ce, 5, 0x00);
	set_reg(0x3ce, 6, 0x04);   /* 0xa0000, 64 KiB */
	for (unsigned r = 0; r < 16; r++)
		vga_mem_write(&vga, ch * 32 + r, rows[r]);
	set_reg(0x3c4, 2, 0x03);
	set_reg(0x3c4, 4, 0x02);
	set_reg(0x3ce, 5, 0x10);
	set_reg(0x3ce, 6, 0x0e);
}

/* A character at (row, col) through the window at 0xb8000, as a text-mode program writes. */
static void put_char(unsigned row, unsigned col, uint8_t ch, uint8_t attr)
{
	uint32_t at = 0x18000 + (row * 80 + col) * 2;
	vga_mem_write(&vga, at, ch);
	vga_mem_write(&vga, at + 1, attr);
}

/* ---- registers --------------------------------------------------------------------------- */

static void test_register_files(void **state)
{
	(void)state;
	set_reg(0x3c4, 2, 0x0a);
	outb(0x3c4, 2);
	assert_int_equal(inb(0x3c5), 0x0a);
	set_reg(0x3ce, 8, 0x81);
	outb(0x3ce, 8);
	assert_int_equal(inb(0x3cf), 0x81);

	/* Indexes past each file: refused, counted, nothing stored anywhere. */
	unsigned before = vga.refused;
	set_reg(0x3c4, 0x55, 0xaa);
	set_reg(0x3ce, 0xee, 0xaa);
	set_reg(0x3d4, 0x7f, 0xaa);
	assert_int_equal(vga.refused, before + 3);
	assert_non_null(strstr(vga.why, "sequencer index 0x55 refused"));
	outb(0x3c4, 0x55);
	assert_int_equal(inb(0x3c5), 0);

	/* CR11 bit 7 protects CR0-CR7 but CR7's bit 4. */
	set_reg(0x3d4, 0x11, 0x80);
	set_reg(0x3d4, 0x01, 0x33);
	set_reg(0x3d4, 0x07, 0xff);
	outb(0x3d4, 1);
	assert_int_equal(inb(0x3d5), 0);
	outb(0x3d4, 7);
	assert_int_equal(inb(0x3d5), 0x10);

	/* Mono addressing: the CRTC moves to 0x3b4, 0x3d4 reads nothing. */
	outb(0x3c2, 0x00);
	assert_int_equal(inb(0x3d4), 0xff);
	outb(0x3c2, 0x01);
}

static void test_attribute_flipflop_and_dac(void **state)
{
	(void)state;
	inb(0x3da);                 /* reset: the next write is an index */
	outb(0x3c0, 0x05);
	outb(0x3c0, 0x3f);
	outb(0x3c0, 0x25);          /* index again (flip-flop), with the palette on */
	assert_int_equal(inb(0x3c0), 0x25);
	assert_int_equal(inb(0x3c1), 0x3f);
	inb(0x3da);
	outb(0x3c0, 0x1f);          /* AC index 0x1f: past the 21 registers */
	unsigned before = vga.refused;
	outb(0x3c0, 0x12);
	assert_int_equal(vga.refused, before + 1);

	/* DAC: three writes per entry, auto-increment; reads likewise from the read index. */
	outb(0x3c8, 10);
	for (int i = 0; i < 6; i++)
		outb(0x3c9, 0x10 + i);
	outb(0x3c7, 11);
	assert_int_equal(inb(0x3c9), 0x13);
	assert_int_equal(inb(0x3c9), 0x14);
	assert_int_equal(inb(0x3c9), 0x15);
	assert_int_equal(inb(0x3c7), 3);
	/* Reading past entry 255 wraps to 0 (an 8-bit index), never past the palette. */
	outb(0x3c7, 255);
	for (int i = 0; i < 6; i++)
		inb(0x3c9);
	assert_int_equal(vga.s.dac_read_index, 1);
}

/* ---- memory modes -------------------------------------------------------------------------- */

static void test_memory_modes(void **state)
{
	(void)state;
	/* Chain 4 (mode 13h): a byte address is a VRAM byte. */
	set_reg(0x3c4, 4, 0x0e);
	set_reg(0x3c4, 2, 0x0f);
	set_reg(0x3ce, 6, 0x05);
	vga_mem_write(&vga, 0x1235, 0x77);
	assert_int_equal(vram[0x1235], 0x77);
	assert_int_equal(vga_mem_read(&vga, 0x1235), 0x77);
	assert_true(vga_page_dirty(vga.dirty, 0x1235 >> 12));
	/* GC6 map 1 is 0xa0000-0xaffff: 0xb0000 is outside the window. */
	vga_mem_write(&vga, 0x10000, 0x55);
	assert_int_equal(vram[0x10000], 0);
	assert_int_equal(vga_mem_read(&vga, 0x10000), 0xff);

	/* Odd/even (text): character i in word i, plane 0; attribute plane 1. */
	mode3();
	put_char(0, 3, 'X', 0x1e);
	assert_int_equal(vram[3 * 4], 'X');
	assert_int_equal(vram[3 * 4 + 1], 0x1e);
	assert_int_equal(vga_mem_read(&vga, 0x18000 + 7), 0x1e);
}

static void test_planar_write_modes(void **state)
{
	(void)state;
	set_reg(0x3c4, 4, 0x06);    /* planar: odd/even off, no chain 4 */
	set_reg(0x3c4, 2, 0x0f);
	set_reg(0x3ce, 6, 0x05);
	set_reg(0x3ce, 5, 0x00);    /* write mode 0, read mode 0 */
	set_reg(0x3ce, 8, 0xff);
	/* Set/reset on planes 0 and 2 (colour 5), the CPU's byte on planes 1 and 3. */
	set_reg(0x3ce, 0, 0x05);
	set_reg(0x3ce, 1, 0x05);
	vga_mem_write(&vga, 0x10, 0x3c);
	assert_int_equal(vram[0x40], 0xff);
	assert_int_equal(vram[0x41], 0x3c);
	assert_int_equal(vram[0x42], 0xff);
	assert_int_equal(vram[0x43], 0x3c);
	/* A read loads the latches; write mode 1 copies them elsewhere. */
	set_reg(0x3ce, 4, 1);
	assert_int_equal(vga_mem_read(&vga, 0x10), 0x3c);
	set_reg(0x3ce, 5, 0x01);
	vga_mem_write(&vga, 0x20, 0x00);
	assert_memory_equal(&vram[0x80], &vram[0x40], 4);
	/* Write mode 2 with a bit mask: colour 0xa in the top nibble only, XOR-free. */
	set_reg(0x3ce, 5, 0x02);
	set_reg(0x3ce, 8, 0xf0);
	vga_mem_read(&vga, 0x30);   /* latches: zeros */
	vga_mem_write(&vga, 0x30, 0x0a);
	assert_int_equal(vram[0xc0], 0x00);
	assert_int_equal(vram[0xc1], 0xf0);
	assert_int_equal(vram[0xc2], 0x00);
	assert_int_equal(vram[0xc3], 0xf0);
	/* Read mode 1: where do planes equal colour 0xa (planes 1 and 3 set)? */
	set_reg(0x3ce, 5, 0x08);
	set_reg(0x3ce, 2, 0x0a);
	set_reg(0x3ce, 7, 0x0f);
	assert_int_equal(vga_mem_read(&vga, 0x30), 0xf0);
	/* Plane mask: plane 0 only. */
	set_reg(0x3ce, 5, 0x00);
	set_reg(0x3ce, 1, 0x00);
	set_reg(0x3ce, 8, 0xff);
	set_reg(0x3c4, 2, 0x01);
	vga_mem_write(&vga, 0x40, 0x99);
	assert_int_equal(vram[0x100], 0x99);
	assert_int_equal(vram[0x101], 0x00);
}

/* ---- VBE -------------------------------------------------------------------------------- */

static void test_vbe_registers(void **state)
{
	(void)state;
	assert_int_equal(vbe_read(&vga, VBE_ID), VBE_ID5);
	assert_int_equal(vbe_read(&vga, VBE_VIDEO_MEMORY_64K), VGA_VRAM_SIZE >> 16);
	vbe_write(&vga, VBE_ENABLE, VBE_GETCAPS);
	assert_int_equal(vbe_read(&vga, VBE_XRES), VBE_MAX_XRES);
	assert_int_equal(vbe_read(&vga, VBE_BPP), VBE_MAX_BPP);
	vbe_write(&vga, VBE_ENABLE, 0);

	/* bochs-drm's sequence for 1024x768x32. */
	vbe_write(&vga, VBE_XRES, 1024);
	vbe_write(&vga, VBE_YRES, 768);
	vbe_write(&vga, VBE_BPP, 32);
	vbe_write(&vga, VBE_ENABLE, VBE_ENABLED | VBE_LFB_ENABLED);
	assert_true(vbe_enabled(&vga.s));
	assert_int_equal(vbe_read(&vga, VBE_VIRT_WIDTH), 1024);
	assert_int_equal(vbe_read(&vga, VBE_VIRT_HEIGHT), VGA_VRAM_SIZE / 4096);
	assert_int_equal(vga.s.vbe_line, 4096);
	assert_int_equal(vga.refused, 0);

	/* Panning: y offset 768 is the second page. */
	vbe_write(&vga, VBE_Y_OFFSET, 768);
	assert_int_equal(vga.s.vbe_start, 768 * 4096);
	/* Past VRAM: refused, back to 0. */
	vbe_write(&vga, VBE_Y_OFFSET, 0xffff);
	assert_int_equal(vga.s.vbe_start, 0);
	assert_int_equal(vbe_read(&vga, VBE_Y_OFFSET), 0);
	/* A virtual width whose frame does not fit. */
	vbe_write(&vga, VBE_VIRT_WIDTH, 0xffff);
	assert_int_equal(vbe_read(&vga, VBE_VIRT_WIDTH), 1024);
	/* Banks: in range moves the window, past VRAM keeps the old one. */
	vbe_write(&vga, VBE_BANK, 3);
	vga_mem_write(&vga, 0x10, 0x42);
	assert_int_equal(vram[3 * 0x10000 + 0x10], 0x42);
	vbe_write(&vga, VBE_BANK, 0x100);
	assert_int_equal(vbe_read(&vga, VBE_BANK), 3);
	assert_non_null(strstr(vga.why, "VBE bank 0x100 refused"));
	/* Bits per pixel no mode has. */
	vbe_write(&vga, VBE_BPP, 99);
	assert_int_equal(vbe_read(&vga, VBE_BPP), 8);
	/* Unknown index. */
	unsigned before = vga.refused;
	vbe_write(&vga, 0x40, 1);
	assert_int_equal(vga.refused, before + 1);
	assert_int_equal(vbe_read(&vga, 0x40), 0);
}

static void test_vbe_small_vram(void **state)
{
	(void)state;
	/* 1 MiB of VRAM: 1024x768x32 (3 MiB) cannot fit; only the lines that fit are kept. */
	vga_init(&vga, vram, 1u << 20);
	vbe_write(&vga, VBE_XRES, 1024);
	vbe_write(&vga, VBE_YRES, 768);
	vbe_write(&vga, VBE_BPP, 32);
	vbe_write(&vga, VBE_ENABLE, VBE_ENABLED | VBE_NOCLEARMEM);
	assert_int_equal(vbe_read(&vga, VBE_YRES), 256);
	assert_true((uint64_t)vga.s.vbe_line * vbe_read(&vga, VBE_YRES) <= vga.vram_size);
	/* VRAM below the planes' 512 KiB: unusable, and nothing is ever touched. */
	vga_init(&vga, vram, 256u << 10);
	assert_int_equal(vga.vram_size, 0);
	vga_mem_write(&vga, 0x100, 1);
	assert_int_equal(vga_mem_read(&vga, 0x100), 0xff);
}

/* ---- the renderer ------------------------------------------------------------------------ */

static const uint8_t glyph_a[16] = { 0, 0, 0x10, 0x38, 0x6c, 0xc6, 0xc6, 0xfe,
				     0xc6, 0xc6, 0xc6, 0xc6, 0, 0, 0, 0 };

static void test_render_text(void **state)
{
	(void)state;
	mode3();
	load_glyph('A', glyph_a);
	put_char(1, 2, 'A', 0x07);
	render(false);
	assert_int_equal(rend.g.mode, RENDER_TEXT);
	assert_int_equal(rend.g.width, 720);
	assert_int_equal(rend.g.height, 400);
	assert_int_equal(rend.g.cols, 80);
	assert_int_equal(rend.g.rows, 25);
	/* Row 7 of the glyph is 0xfe: pixels 0-6 foreground (light grey), 7 and 8 background. */
	uint32_t *line = rend.pixels + (16 + 7) * 720 + 2 * 9;
	assert_int_equal(line[0], 0xaaaaaa);
	assert_int_equal(line[6], 0xaaaaaa);
	assert_int_equal(line[7], 0x000000);
	assert_int_equal(line[8], 0x000000);
	/* The cursor (at 0, scan lines 13-14) shows in cell 0 of row 0. */
	assert_int_equal(rend.pixels[13 * 720], 0);   /* attribute 0: black on black */

	/* Nothing written: nothing drawn. */
	render(false);
	assert_int_equal(rend.lines_drawn, 0);
	assert_int_equal(damage_calls, 0);
	/* One character in row 10: one cell redrawn, one rectangle. */
	put_char(10, 40, 'A', 0x0f);
	render(false);
	assert_int_equal(damage_calls, 1);
	assert_int_equal(damage_area, 9 * 16);
	assert_int_equal(rend.pixels[(160 + 7) * 720 + 360], 0xffffff);
	/* Screen off (palette address source clear): black. */
	inb(0x3da);
	outb(0x3c0, 0x00);
	render(false);
	assert_int_equal(rend.g.mode, RENDER_BLANK);
	assert_int_equal(rend.pixels[(160 + 7) * 720 + 360], 0);
}

static void test_render_text_cursor_moves(void **state)
{
	(void)state;
	mode3();
	render(false);
	/* Move the cursor to row 5, column 0 (address 400): rows 0 and 5 are redrawn. */
	set_reg(0x3d4, 0x0e, 400 >> 8);
	set_reg(0x3d4, 0x0f, 400 & 0xff);
	render(false);
	assert_int_equal(damage_calls, 2);
	/* A start address past VRAM: every read is checked, nothing breaks. */
	set_reg(0x3d4, 0x0c, 0xff);
	set_reg(0x3d4, 0x0d, 0xff);
	vga.vram_size = 1u << 20;
	render(false);
	assert_int_equal(rend.g.mode, RENDER_TEXT);
}

static void test_render_mode13(void **state)
{
	(void)state;
	mode3();
	/* Mode 13h: 256 colours, chain 4, double scan of 200 lines. */
	set_reg(0x3c4, 4, 0x0e);
	set_reg(0x3ce, 5, 0x40);
	set_reg(0x3ce, 6, 0x05);
	set_reg(0x3d4, 0x09, 0x41);
	set_reg(0x3d4, 0x12, 0x8f);
	set_reg(0x3d4, 0x07, 0x1f);
	outb(0x3c8, 200);
	outb(0x3c9, 0x3f); outb(0x3c9, 0x00); outb(0x3c9, 0x00);
	vga_mem_write(&vga, 320 * 10 + 5, 200);
	render(false);
	assert_int_equal(rend.g.mode, RENDER_VGA256);
	assert_int_equal(rend.g.width, 320);
	assert_int_equal(rend.g.height, 200);
	assert_int_equal(rend.pixels[10 * 320 + 5], 0xff0000);
}

static void test_render_planar(void **state)
{
	(void)state;
	mode3();
	/* Mode 12h-like: graphics, planar, 640 wide, 480 lines. */
	set_reg(0x3ce, 6, 0x05);
	set_reg(0x3ce, 5, 0x00);
	set_reg(0x3c4, 4, 0x06);
	set_reg(0x3d4, 0x09, 0x40);
	set_reg(0x3d4, 0x12, 0xdf);
	set_reg(0x3d4, 0x07, 0x3e);
	set_reg(0x3c4, 2, 0x0f);
	set_reg(0x3ce, 1, 0x0f);
	set_reg(0x3ce, 0, 0x0f);      /* colour 15 (white: palette entry 0x3f) */
	set_reg(0x3ce, 8, 0x80);      /* leftmost pixel of the byte only */
	vga_mem_read(&vga, 80 * 3);
	vga_mem_write(&vga, 80 * 3, 0);
	render(false);
	assert_int_equal(rend.g.mode, RENDER_PLANAR);
	assert_int_equal(rend.g.width, 640);
	assert_int_equal(rend.g.height, 480);
	assert_int_equal(rend.pixels[3 * 640], 0xffffff);
	assert_int_equal(rend.pixels[3 * 640 + 1], 0x000000);
}

static void vbe_mode(unsigned w, unsigned h, unsigned bpp)
{
	vbe_write(&vga, VBE_ENABLE, 0);
	vbe_write(&vga, VBE_XRES, w);
	vbe_write(&vga, VBE_YRES, h);
	vbe_write(&vga, VBE_BPP, bpp);
	vbe_write(&vga, VBE_ENABLE, VBE_ENABLED | VBE_LFB_ENABLED);
}

static void test_render_vbe_depths(void **state)
{
	(void)state;
	vbe_mode(64, 32, 32);
	/* 32 bpp: B, G, R, X. */
	uint8_t *p = vram + 5 * 256 + 3 * 4;
	p[0] = 0x11; p[1] = 0x22; p[2] = 0x33;
	vga_mark_dirty(&vga, 0, 1);
	render(false);
	assert_int_equal(rend.g.mode, RENDER_VBE);
	assert_int_equal(rend.pixels[5 * 64 + 3], 0x332211);

	vbe_mode(64, 32, 24);
	p = vram + 2 * 192 + 1 * 3;
	p[0] = 0x01; p[1] = 0x02; p[2] = 0x03;
	render(false);
	assert_int_equal(rend.pixels[2 * 64 + 1], 0x030201);

	vbe_mode(64, 32, 16);
	vram[0] = 0x1f; vram[1] = 0xf8;   /* red 31, green 0, blue 31 */
	render(false);
	assert_int_equal(rend.pixels[0], 0xff00ff);

	vbe_mode(64, 32, 15);
	vram[0] = 0xe0; vram[1] = 0x03;   /* green 31 */
	render(false);
	assert_int_equal(rend.pixels[0], 0x00ff00);

	vbe_mode(64, 32, 8);
	vbe_write(&vga, VBE_ENABLE, VBE_ENABLED | VBE_LFB_ENABLED | VBE_8BIT_DAC | VBE_NOCLEARMEM);
	outb(0x3c8, 9);
	outb(0x3c9, 0x80); outb(0x3c9, 0x40); outb(0x3c9, 0x20);
	vram[64 + 1] = 9;
	vga_mark_dirty(&vga, 0, 4096);
	render(false);
	assert_int_equal(rend.pixels[64 + 1], 0x804020);
}

static void test_render_dirty_lines(void **state)
{
	(void)state;
	vbe_mode(1024, 768, 32);
	render(false);
	assert_int_equal(rend.lines_drawn, 768);      /* a new mode: everything */
	render(false);
	assert_int_equal(rend.lines_drawn, 0);        /* nothing written */
	/* One 4 KiB page is exactly line 100 at 1024 x 4 bytes. */
	vram[100 * 4096 + 10] = 0xff;   /* pixel 2's red byte */
	vga_mark_dirty(&vga, 100 * 4096 + 10, 1);
	render(false);
	assert_int_equal(rend.lines_drawn, 1);
	assert_int_equal(damage_calls, 1);
	assert_int_equal(damage_area, 1024);
	assert_int_equal(rend.pixels[100 * 1024 + 2], 0xff0000);
	/* A KVM-style bitmap from outside: pages 200-201 -> lines 200 and 201. */
	vga.dirty[200 / 64] |= 3ull << (200 % 64);
	render(false);
	assert_int_equal(rend.lines_drawn, 2);
}

/* ---- -vnc and screendumps ------------------------------------------------------------------ */

static void test_vnc_parse(void **state)
{
	(void)state;
	struct vnc_address a;
	char why[256];
	assert_int_equal(vnc_parse(":0", &a, why, sizeof(why)), 0);
	assert_string_equal(a.host, "127.0.0.1");
	assert_int_equal(a.port, 5900);
	assert_int_equal(vnc_parse("10.0.0.2:3,password-file=/tmp/p", &a, why, sizeof(why)), 0);
	assert_string_equal(a.host, "10.0.0.2");
	assert_int_equal(a.port, 5903);
	assert_string_equal(a.password_file, "/tmp/p");
	assert_int_equal(vnc_parse("localhost:1", &a, why, sizeof(why)), 0);
	assert_string_equal(a.host, "127.0.0.1");
	assert_int_equal(vnc_parse("5900", &a, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "expected [HOST]:DISPLAY"));
	assert_int_equal(vnc_parse(":x", &a, why, sizeof(why)), -1);
	assert_int_equal(vnc_parse(":99999", &a, why, sizeof(why)), -1);
	assert_int_equal(vnc_parse("nohost:1", &a, why, sizeof(why)), -1);
	assert_int_equal(vnc_parse(":2,novnc=6080", &a, why, sizeof(why)), 0);
	assert_int_equal(a.novnc_port, 6080);
	assert_int_equal(vnc_parse(":2,novnc=0", &a, why, sizeof(why)), -1);
	assert_int_equal(vnc_parse(":1,share=on", &a, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "unknown option 'share=on'"));
}

static void test_screendumps(void **state)
{
	(void)state;
	char why[256], path[] = "/tmp/test-display-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	uint32_t px[4 * 2] = { 0xff0000, 0x00ff00, 0x0000ff, 0xffffff, 0, 0, 0, 0x123456 };
	assert_int_equal(screendump_png(path, px, 4, 2, why, sizeof(why)), 0);
	uint8_t sig[8];
	FILE *f = fopen(path, "rb");
	assert_non_null(f);
	assert_int_equal(fread(sig, 1, 8, f), 8);
	fclose(f);
	assert_memory_equal(sig, "\x89PNG\r\n\x1a\n", 8);
	unlink(path);
	assert_true(screendump_png("/nonexistent-dir/x.png", px, 4, 2, why, sizeof(why)) < 0);
	assert_string_equal(why, "screendump: /nonexistent-dir/x.png: cannot write: No such file "
			    "or directory");

	/* The text form of a text screen. */
	mode3();
	put_char(0, 0, 'h', 7);
	put_char(0, 1, 'i', 7);
	render(false);
	assert_int_equal(screendump_text(path, &rend.g, vram, vga.vram_size, why, sizeof(why)), 0);
	char line[128];
	f = fopen(path, "r");
	assert_non_null(f);
	assert_non_null(fgets(line, sizeof(line), f));
	fclose(f);
	unlink(path);
	assert_string_equal(line, "hi\n");
	vbe_mode(64, 32, 32);
	render(false);
	assert_int_equal(screendump_text(path, &rend.g, vram, vga.vram_size, why, sizeof(why)),
			 -EINVAL);
}

/* A migration stream's VGA registers: a DAC component counter past R, G, B is refused. */
static void test_loaded_state_is_checked(void **state)
{
	(void)state;
	struct vga_state s;
	memset(&s, 0, sizeof(s));
	s.dac_component = 2;
	assert_true(vga_state_valid(&s));
	s.dac_component = 3;
	assert_false(vga_state_valid(&s));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_loaded_state_is_checked),
		cmocka_unit_test_setup_teardown(test_register_files, setup, teardown),
		cmocka_unit_test_setup_teardown(test_attribute_flipflop_and_dac, setup, teardown),
		cmocka_unit_test_setup_teardown(test_memory_modes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_planar_write_modes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_vbe_registers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_vbe_small_vram, setup, teardown),
		cmocka_unit_test_setup_teardown(test_render_text, setup, teardown),
		cmocka_unit_test_setup_teardown(test_render_text_cursor_moves, setup, teardown),
		cmocka_unit_test_setup_teardown(test_render_mode13, setup, teardown),
		cmocka_unit_test_setup_teardown(test_render_planar, setup, teardown),
		cmocka_unit_test_setup_teardown(test_render_vbe_depths, setup, teardown),
		cmocka_unit_test_setup_teardown(test_render_dirty_lines, setup, teardown),
		cmocka_unit_test_setup_teardown(test_vnc_parse, setup, teardown),
		cmocka_unit_test_setup_teardown(test_screendumps, setup, teardown),
	};
	return cmocka_run_group_tests_name("stage 5 display", tests, NULL, NULL);
}
