/*
 * fuzz_std_vga.c - stage 5's standard VGA (display/std_vga.c, vga.c) and the picture drawn
 * from it (vga_render.c): the VGA ports (sequencer, graphics controller, CRTC, attribute
 * controller, DAC), the Bochs VBE ports, BAR2's MMIO copy of both, the 0xa0000 window in
 * every planar and chain mode; op 3 draws the frame as the display thread would.
 *
 * Teaches: a display adapter's registers describe how to read VRAM (start address, line
 * offset, resolution, bank); the renderer must clip every one of them to VRAM's size.
 */
#include <stdlib.h>

#include "display/std_vga.h"
#include "display/vga_render.h"
#include "fuzz_ops.h"

#define RAM_SIZE 4096

static struct vga_renderer renderer;

/* The display thread would send these rectangles to VNC clients. */
static void damage(void *opaque, unsigned x, unsigned y, unsigned w, unsigned h)
{
	(void)opaque, (void)x, (void)y, (void)w, (void)h;
}

static void draw(void *ctx, struct fuzz_input *in)
{
	struct vga *v = ctx;
	static unsigned frames;
	if (frames++ % 4)   /* a frame costs a lot next to a register write */
		return;
	vga_render(&renderer, &v->s, v->vram, v->vram_size, v->dirty, fi_u8(in) & 1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct std_vga sv;
	static struct io_bus bus;
	static struct pci_host pci;
	struct fuzz_input in = { data, size };
	char why[256];

	if (!renderer.pixels && vga_renderer_init(&renderer, damage, NULL))
		abort();
	struct guest_memory *mem = fuzz_ram(RAM_SIZE);
	bus_init(&bus);
	if (pci_host_attach(&pci, &bus, -1) ||
	    std_vga_attach(&sv, &bus, &pci, -1, 5, 2, why, sizeof(why)))
		abort();
	fuzz_pci_firmware(&pci);
	fuzz_ops_run(&bus, mem, &in, draw, &sv.vga, 2048);
	std_vga_detach(&sv);
	fuzz_ram_free(mem);
	return 0;
}
