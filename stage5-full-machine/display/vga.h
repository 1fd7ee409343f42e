/*
 * vga.h - the VGA register model and its memory, plus the Bochs VBE extension ("dispi").
 *
 * Teaches: how a 1987 display adapter is programmed - five register files behind a handful of
 * I/O ports, four memory planes behind a 128 KiB window - and how the Bochs/QEMU "dispi"
 * registers add linear high-resolution modes on top. Models the IBM VGA as documented in the
 * "IBM VGA XGA Technical Reference Manual" (registers, read and write modes) and the Bochs VBE
 * interface (bochs vbe.h, the register numbers QEMU's hw/display/vga.c answers to).
 *
 *   0x3c0/0x3c1  attribute controller: index and data share 0x3c0 through a flip-flop that a
 *                read of input status 1 (0x3da, or 0x3ba on a monochrome setup) resets
 *   0x3c2        misc output (write), input status 0 (read); 0x3cc reads misc output back
 *   0x3c4/0x3c5  sequencer (plane write mask, memory mode)
 *   0x3c6-0x3c9  DAC: pel mask, read index / state, write index, data (R, G, B in turn)
 *   0x3ce/0x3cf  graphics controller (read/write modes, set/reset, bit mask, memory map)
 *   0x3d4/0x3d5  CRT controller (timings, start address, offset, cursor; 0x3b4/0x3b5 mono)
 *   0x1ce/0x1cf  Bochs VBE index and data (16-bit registers)
 *
 * Memory model. VRAM is one byte array. VGA planar memory is stored interleaved, as QEMU
 * stores it: plane p of 32-bit word w is vram[4 * w + p]. So chain-4 mode (mode 13h: each
 * byte address picks a plane by its low two bits) is simply vram[addr]; odd/even mode (text)
 * puts character cell i in word i (plane 0 the character, plane 1 the attribute) and the
 * font in plane 2 of words 32 * char + row. Bochs VBE modes use vram as a linear frame buffer.
 *
 * The state is one plain struct (struct vga_state, no pointers): it can be saved and restored.
 * struct vga adds the host side: where VRAM is, and which of its pages were written.
 */
#ifndef DISPLAY_VGA_H
#define DISPLAY_VGA_H

#include <stdbool.h>
#include <stdint.h>

#define VGA_VRAM_SIZE     (16u << 20)   /* 16 MiB, as QEMU's -vga std */
#define VGA_PAGE_SHIFT    12
#define VGA_PAGES         (VGA_VRAM_SIZE >> VGA_PAGE_SHIFT)

#define VGA_WINDOW_BASE   0xa0000u      /* the legacy memory window, 128 KiB */
#define VGA_WINDOW_SIZE   0x20000u
#define VGA_PORT_BASE     0x3b0u        /* ports 0x3b0-0x3df */
#define VGA_PORT_COUNT    0x30u
#define VBE_PORT_INDEX    0x1ceu
#define VBE_PORT_DATA     0x1cfu

/* Register file sizes. */
#define VGA_SEQ_REGS  5
#define VGA_GC_REGS   9
#define VGA_AC_REGS   21
#define VGA_CRTC_REGS 25

/* Bochs VBE "dispi" registers (index written to 0x1ce, value read/written at 0x1cf). */
enum vbe_index {
	VBE_ID, VBE_XRES, VBE_YRES, VBE_BPP, VBE_ENABLE, VBE_BANK, VBE_VIRT_WIDTH,
	VBE_VIRT_HEIGHT, VBE_X_OFFSET, VBE_Y_OFFSET, VBE_VIDEO_MEMORY_64K, VBE_REGS
};
#define VBE_ID5            0xb0c5
#define VBE_ENABLED        0x01
#define VBE_GETCAPS        0x02
#define VBE_8BIT_DAC       0x20
#define VBE_LFB_ENABLED    0x40
#define VBE_NOCLEARMEM     0x80
#define VBE_MAX_XRES       2560
#define VBE_MAX_YRES       1600
#define VBE_MAX_BPP        32

/* The registers, as a guest sees them. Plain data: this is what a snapshot saves. */
struct vga_state {
	uint8_t misc;                      /* misc output register */
	uint8_t seq_index, seq[VGA_SEQ_REGS];
	uint8_t gc_index, gc[VGA_GC_REGS];
	uint8_t ac_index, ac[VGA_AC_REGS];
	bool ac_flipflop;                  /* false: the next 0x3c0 write is an index */
	uint8_t crtc_index, crtc[VGA_CRTC_REGS];
	uint8_t dac_mask, dac_state;       /* dac_state: 0 = write mode, 3 = read mode */
	uint8_t dac_read_index, dac_write_index, dac_component;
	uint8_t dac_latch[3];
	uint8_t palette[256 * 3];          /* 6-bit (or, with VBE_8BIT_DAC, 8-bit) R, G, B */
	uint8_t feature;
	uint8_t status_toggle;             /* input status 1's retrace bits flip on each read */
	uint8_t latch[4];                  /* the four planes' bytes of the last read */
	uint16_t vbe_index;
	uint16_t vbe[VBE_REGS];
	uint32_t vbe_start;                /* byte offset of the visible frame in VRAM */
	uint32_t vbe_line;                 /* bytes per scan line */
	uint32_t vbe_bank_offset;          /* where the 64 KiB window at 0xa0000 points */
};

/* Host side: the state, VRAM, and which 4 KiB pages of VRAM changed (bit per page). */
struct vga {
	struct vga_state s;
	uint8_t *vram;
	uint32_t vram_size;                /* a multiple of 64 KiB, at most VGA_VRAM_SIZE */
	uint64_t dirty[VGA_PAGES / 64];    /* written through the window (KVM logs the BAR) */
	bool regs_changed;                 /* a register that changes the picture was written */
	char why[240];                     /* refused requests not yet reported, for one line */
	unsigned refused;                  /* how many were refused (tests look at it) */
};

void vga_init(struct vga *v, uint8_t *vram, uint32_t vram_size);
/* Whether registers from outside (a migration stream) hold what the ports use as indexes
 * without a check of their own (the DAC's component counter), and a bool 0 or 1. */
bool vga_state_valid(const struct vga_state *s);

/* Ports 0x3b0-0x3df (port is the absolute number), one byte. */
uint8_t vga_port_read(struct vga *v, uint16_t port);
void vga_port_write(struct vga *v, uint16_t port, uint8_t value);

/* The Bochs VBE registers: 16 bits through 0x1ce (index) and 0x1cf (data). */
uint16_t vbe_read(struct vga *v, unsigned index);
void vbe_write(struct vga *v, unsigned index, uint16_t value);

/* The legacy window: offset from 0xa0000, one byte. */
uint8_t vga_mem_read(struct vga *v, uint32_t offset);
void vga_mem_write(struct vga *v, uint32_t offset, uint8_t value);

/* Is the Bochs VBE mode on (a linear mode), and its geometry. */
bool vbe_enabled(const struct vga_state *s);

/* Mark VRAM bytes [offset, offset + len) as changed. */
void vga_mark_dirty(struct vga *v, uint32_t offset, uint32_t len);
bool vga_page_dirty(const uint64_t *bitmap, uint32_t page);

#endif
