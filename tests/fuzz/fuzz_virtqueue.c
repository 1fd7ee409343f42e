/*
 * fuzz_virtqueue.c - stage 4's virtqueue (virtqueue.c): descriptor chains, indirect tables,
 * ring indexes, all read from guest RAM the fuzzer writes.
 *
 * Teaches: the split virtqueue is three guest-owned tables the device must distrust: a chain
 * may loop, point outside RAM, nest indirect tables, or claim more buffers than the queue has.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz_ops.h"
#include "virtqueue.h"

#define RAM_SIZE (64 * 1024)

struct rig {
	struct guest_memory *mem;
	struct virtq vq;
	struct virtq_chain chain;
};

/* The device's side: take a chain, touch each buffer as a device would, give it back. */
static void serve(void *ctx, struct fuzz_input *in)
{
	struct rig *r = ctx;
	char why[128];
	if (!virtq_has_work(r->mem, &r->vq))
		return;
	if (virtq_pop(r->mem, &r->vq, &r->chain, why, sizeof(why)) <= 0)
		return;
	uint32_t written = 0;
	for (unsigned i = 0; i < r->chain.count; i++) {
		struct virtq_seg *s = &r->chain.seg[i];
		if (s->writable) {
			memset(s->hva, 0xa5, s->len);
			written += s->len;
		} else if (s->len) {
			volatile uint8_t sink = s->hva[s->len - 1];
			(void)sink;
		}
	}
	if (fi_u8(in) & 1)
		virtq_unpop(&r->vq);
	else
		virtq_push(r->mem, &r->vq, r->chain.head, written);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct rig r;
	struct fuzz_input in = { data, size };
	struct io_bus bus;   /* no device: op 1/2 do nothing, the hook is the device */
	bus_init(&bus);
	r.mem = fuzz_ram(RAM_SIZE);
	virtq_reset(&r.vq);
	r.vq.size = fi_u16(&in) % (VIRTQ_MAX_SIZE + 1);
	r.vq.desc_gpa = fi_u32(&in) % RAM_SIZE;
	r.vq.avail_gpa = fi_u32(&in) % RAM_SIZE;
	r.vq.used_gpa = fi_u32(&in) % RAM_SIZE;
	char why[128];
	if (virtq_validate(r.mem, &r.vq, why, sizeof(why)) == 0) {
		r.vq.ready = true;
		fuzz_ops_run(&bus, r.mem, &in, serve, &r, 4096);
	}
	fuzz_ram_free(r.mem);
	return 0;
}
