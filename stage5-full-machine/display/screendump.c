/*
 * screendump.c - PNG (libpng's write API: png_create_write_struct, png_write_row) and text
 * screendumps. See screendump.h. The PNG is 8-bit RGB, no alpha, no interlace.
 */
#include "screendump.h"

#include <errno.h>
#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int screendump_png(const char *path, const uint32_t *pixels, unsigned width, unsigned height,
		   char *why, size_t why_len)
{
	FILE *f = fopen(path, "wb");
	if (!f) {
		int err = -errno;
		snprintf(why, why_len, "screendump: %s: cannot write: %s", path, strerror(errno));
		return err;
	}
	png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
	png_infop info = png ? png_create_info_struct(png) : NULL;
	uint8_t *row = malloc((size_t)width * 3);
	if (!png || !info || !row) {
		png_destroy_write_struct(&png, &info);
		free(row);
		fclose(f);
		snprintf(why, why_len, "screendump: %s: out of memory", path);
		return -ENOMEM;
	}
	if (setjmp(png_jmpbuf(png))) {   /* libpng reports errors by longjmp */
		png_destroy_write_struct(&png, &info);
		free(row);
		fclose(f);
		snprintf(why, why_len, "screendump: %s: libpng failed to write it", path);
		return -EIO;
	}
	png_init_io(png, f);
	png_set_IHDR(png, info, width, height, 8, PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE,
		     PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
	png_write_info(png, info);
	for (unsigned y = 0; y < height; y++) {
		for (unsigned x = 0; x < width; x++) {
			uint32_t p = pixels[(size_t)y * width + x];
			row[3 * x] = p >> 16;
			row[3 * x + 1] = p >> 8;
			row[3 * x + 2] = p;
		}
		png_write_row(png, row);
	}
	png_write_end(png, NULL);
	png_destroy_write_struct(&png, &info);
	free(row);
	if (fclose(f) != 0) {
		snprintf(why, why_len, "screendump: %s: cannot write: %s", path, strerror(errno));
		return -EIO;
	}
	return 0;
}

int screendump_text(const char *path, const struct render_geometry *g, const uint8_t *vram,
		    uint32_t vram_size, char *why, size_t why_len)
{
	if (g->mode != RENDER_TEXT) {
		snprintf(why, why_len, "screendump: %s: the screen is not in text mode", path);
		return -EINVAL;
	}
	FILE *f = fopen(path, "w");
	if (!f) {
		int err = -errno;
		snprintf(why, why_len, "screendump: %s: cannot write: %s", path, strerror(errno));
		return err;
	}
	for (unsigned row = 0; row < g->rows; row++) {
		char line[RENDER_MAX_CELLS + 1];
		unsigned n = 0;
		for (unsigned col = 0; col < g->cols && n < sizeof(line) - 1; col++) {
			uint64_t at = g->start + (uint64_t)row * g->stride + col * 4;
			uint8_t ch = at < vram_size ? vram[at] : 0;
			line[n++] = ch == 0 ? ' ' : ch >= 0x20 && ch < 0x7f ? ch : '.';
		}
		while (n && line[n - 1] == ' ')
			n--;   /* trailing blanks carry nothing */
		line[n] = '\0';
		fprintf(f, "%s\n", line);
	}
	if (fclose(f) != 0) {
		snprintf(why, why_len, "screendump: %s: cannot write: %s", path, strerror(errno));
		return -EIO;
	}
	return 0;
}
