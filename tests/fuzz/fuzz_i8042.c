/*
 * fuzz_i8042.c - stage 5's keyboard controller and its PS/2 devices (input/i8042.c, ps2.c)
 * and the host side that VNC drives (input.c, keymap.c): the guest's ports 0x60/0x64
 * (controller commands, the command byte, the output port, keyboard and mouse commands with
 * their arguments) interleaved with key and pointer events (op 3).
 *
 * Teaches: VNC's protocol itself is parsed by libvncserver; what reaches this VMM's code from
 * a client is a keysym or a pointer position and mask, which are fuzzed here, against the
 * same queues the guest drains.
 */
#include <pthread.h>
#include <stdlib.h>

#include "fuzz_ops.h"
#include "input/input.h"

#define RAM_SIZE 4096

struct rig {
	struct i8042 c;
	struct ps2_pointer pointer;
	pthread_mutex_t lock;
	bool reset;
};

/* Op 3: what a VNC client's KeyEvent or PointerEvent becomes. */
static void host_event(void *ctx, struct fuzz_input *in)
{
	struct rig *r = ctx;
	switch (fi_u8(in) % 3) {
	case 0: {
		uint32_t keysym = fi_u8(in) & 1 ? 0xff00 | fi_u8(in) : fi_u32(in);
		ps2_kbd_keysym(&r->c, keysym, fi_u8(in) & 1);
		break;
	}
	case 1:
		ps2_mouse_pointer(&r->c, &r->pointer, (int16_t)fi_u16(in), (int16_t)fi_u16(in),
				  fi_u8(in));
		break;
	case 2:
		ps2_mouse_move(&r->c, (int32_t)fi_u32(in), (int32_t)fi_u32(in), (int8_t)fi_u8(in),
			       fi_u8(in));
		break;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct rig r;
	static struct io_bus bus;
	struct fuzz_input in = { data, size };

	struct guest_memory *mem = fuzz_ram(RAM_SIZE);
	bus_init(&bus);
	pthread_mutex_init(&r.lock, NULL);
	r.pointer = (struct ps2_pointer){ 0 };
	i8042_init(&r.c, -1, &r.reset, &r.lock);
	if (i8042_attach(&r.c, &bus))
		abort();
	fuzz_ops_run(&bus, mem, &in, host_event, &r, 4096);
	fuzz_ram_free(mem);
	return 0;
}
