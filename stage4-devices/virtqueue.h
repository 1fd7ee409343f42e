/*
 * virtqueue.h - the split virtqueue: how a virtio driver and device pass buffers.
 *
 * Virtio 1.1 (OASIS, section 2.6) puts three rings in guest RAM for each queue:
 *
 *   descriptor table  size entries of { addr, len, flags, next }: one buffer each; NEXT
 *                     chains buffers into one request, WRITE marks the device-writable ones
 *   available ring    { flags, idx, ring[size] }: heads of chains the driver offers
 *   used ring         { flags, idx, ring[size] of { id, len } }: chains the device is done
 *                     with, and how many bytes it wrote into them
 *
 * The device keeps its own counter, last_avail: while it differs from avail->idx there is
 * work. Everything in those rings comes from the guest, so a hostile or buggy driver can
 * point descriptors outside RAM, chain them into a loop, or claim a queue size that is not
 * a power of two. virtq_pop() checks every index and every buffer (through gpa_to_hva) and
 * answers with an error that names the descriptor and the address; the device then stops
 * using that queue and the VMM keeps running.
 *
 * Event index (VIRTIO_RING_F_EVENT_IDX, 2.6.7 and 2.6.10): each side tells the other from
 * which index on it wants to hear. The device writes avail_event (after the used ring's
 * entries): "kick me once avail->idx passes this"; the driver writes used_event (after the
 * available ring's entries): "interrupt me once used->idx passes this". A device busy with
 * a batch gets no kicks for the requests added meanwhile, a driver busy with completions
 * gets no interrupts: fewer exits both ways.
 */
#ifndef VIRTQUEUE_H
#define VIRTQUEUE_H

#include <stdbool.h>
#include <stdint.h>

#include "guest_memory.h"

#define VIRTQ_DESC_F_NEXT     1
#define VIRTQ_DESC_F_WRITE    2
#define VIRTQ_DESC_F_INDIRECT 4
#define VIRTQ_MAX_SIZE        256
#define VIRTIO_RING_F_INDIRECT_DESC (1ull << 28)
#define VIRTIO_RING_F_EVENT_IDX (1ull << 29)

/* Guest-RAM layouts (little-endian; x86 is too). */
struct virtq_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};

struct virtq_used_elem {
	uint32_t id;
	uint32_t len;
};

/* One queue's device-side state: plain data. */
struct virtq {
	uint16_t size;            /* the driver may lower it from VIRTQ_MAX_SIZE */
	bool ready;               /* queue_enable was written with valid rings */
	bool broken;              /* the driver broke the rules: ignore until reset */
	uint64_t desc_gpa, avail_gpa, used_gpa;
	uint16_t last_avail;      /* the next available-ring entry to take */
	uint16_t used_idx;        /* our copy of used->idx */
	bool event_idx;           /* VIRTIO_RING_F_EVENT_IDX negotiated (see virtq_pop) */
	bool indirect;            /* VIRTIO_RING_F_INDIRECT_DESC negotiated */
	uint16_t signalled_used;  /* used_idx when virtq_needs_interrupt last decided */
};

/* One buffer of a chain, already translated to a host pointer. */
struct virtq_seg {
	uint8_t *hva;
	uint32_t len;
	bool writable;            /* device writes into it (the guest reads it) */
};

struct virtq_chain {
	uint16_t head;
	unsigned count;
	struct virtq_desc *indirect;   /* the indirect table the chain came from, or NULL */
	struct virtq_seg seg[VIRTQ_MAX_SIZE];
	uint64_t readable_bytes, writable_bytes;
};

/* Reset to "not set up", with the device's maximum size. */
void virtq_reset(struct virtq *vq);

/*
 * Check the queue before it is enabled: size a power of two in [1, VIRTQ_MAX_SIZE], the
 * three rings inside RAM and aligned as the spec asks (16, 2, 4 bytes). 0 or -EINVAL with
 * a message in why.
 */
int virtq_validate(const struct guest_memory *mem, const struct virtq *vq, char *why,
		   unsigned why_len);

/*
 * A queue from outside (a migration stream): a live one must have what virtq_validate()
 * accepted when it was enabled - its size and its rings' alignment, which virtq_pop() and
 * virtq_push() rely on without a check of their own (RAM they check again at every use). A
 * queue not enabled yet holds whatever the driver wrote. Its flags must be 0 or 1
 * (state_check.h).
 */
bool virtq_state_valid(const struct virtq *vq);

/*
 * Take the next available chain. Returns 1 with *chain filled, 0 when there is none, or
 * -EINVAL with a message in why (the queue is then marked broken).
 */
int virtq_pop(const struct guest_memory *mem, struct virtq *vq, struct virtq_chain *chain,
	      char *why, unsigned why_len);

/* Give an available chain back (the device could not use it yet: no packet to receive). */
void virtq_unpop(struct virtq *vq);

/* Return a chain to the driver with the number of bytes written into it. 0 or -EFAULT. */
int virtq_push(const struct guest_memory *mem, struct virtq *vq, uint16_t head, uint32_t len);

/*
 * After pushing chains: does the driver want an interrupt for them? Always, unless EVENT_IDX
 * was negotiated; then only when used->idx passed the used_event the driver wrote at the end
 * of the available ring (virtio 1.1, 2.6.7.2): a driver still busy with earlier completions
 * asks for none.
 */
bool virtq_needs_interrupt(const struct guest_memory *mem, struct virtq *vq);

/* Is there an available chain? (false when the queue is not ready or broken) */
bool virtq_has_work(const struct guest_memory *mem, const struct virtq *vq);

#endif
