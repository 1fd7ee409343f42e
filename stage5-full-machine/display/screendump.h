/*
 * screendump.h - the screen as a file: a PNG picture (libpng), or the text of a text-mode
 * screen, one line per row (what a test can compare without OCR).
 *
 * Teaches: the smallest honest way to look at a VM's screen from a script. Models QEMU's
 * monitor command "screendump" (which writes PPM or PNG); the text form is ours.
 */
#ifndef DISPLAY_SCREENDUMP_H
#define DISPLAY_SCREENDUMP_H

#include <stddef.h>
#include <stdint.h>

#include "vga_render.h"

/* pixels: width * height 0x00RRGGBB. 0, or a negative errno with one line in why. */
int screendump_png(const char *path, const uint32_t *pixels, unsigned width, unsigned height,
		   char *why, size_t why_len);

/* The characters of a text-mode screen (g from render_geometry), as ASCII (others: '.'). */
int screendump_text(const char *path, const struct render_geometry *g, const uint8_t *vram,
		    uint32_t vram_size, char *why, size_t why_len);

#endif
