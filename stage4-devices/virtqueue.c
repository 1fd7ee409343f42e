/*
 * virtqueue.c - split virtqueue, device side, with every guest value checked. See virtqueue.h.
 *
 * Memory ordering: the driver writes a descriptor, then the ring entry, then avail->idx. We
 * read avail->idx with acquire semantics before reading what it publishes, and publish our
 * used entries with a release store of used->idx. (virtio 1.1, 2.6.13 and 2.6.8)
 */
#include "virtqueue.h"
#include "state_check.h"

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

void virtq_reset(struct virtq *vq)
{
	memset(vq, 0, sizeof(*vq));
	vq->size = VIRTQ_MAX_SIZE;
}

static uint64_t desc_table_bytes(const struct virtq *vq)
{
	return 16ull * vq->size;
}

static uint64_t avail_ring_bytes(const struct virtq *vq)
{
	return 6 + 2ull * vq->size;   /* flags, idx, ring[size], used_event */
}

static uint64_t used_ring_bytes(const struct virtq *vq)
{
	return 6 + 8ull * vq->size;   /* flags, idx, ring[size], avail_event */
}

/* Size and alignment: 0, or -EINVAL with the problem in why. RAM is the caller's. */
static int check_layout(const struct virtq *vq, char *why, unsigned why_len)
{
	if (vq->size == 0 || vq->size > VIRTQ_MAX_SIZE || (vq->size & (vq->size - 1))) {
		snprintf(why, why_len, "queue size %u is not a power of two up to %u", vq->size,
			 VIRTQ_MAX_SIZE);
		return -EINVAL;
	}
	const struct { const char *name; uint64_t gpa, align; } rings[] = {
		{ "descriptor table", vq->desc_gpa, 16 },
		{ "available ring", vq->avail_gpa, 2 },
		{ "used ring", vq->used_gpa, 4 },
	};
	for (unsigned i = 0; i < 3; i++) {
		if (rings[i].gpa & (rings[i].align - 1)) {
			snprintf(why, why_len, "%s at 0x%llx is not %llu-byte aligned",
				 rings[i].name, (unsigned long long)rings[i].gpa,
				 (unsigned long long)rings[i].align);
			return -EINVAL;
		}
	}
	return 0;
}

int virtq_validate(const struct guest_memory *mem, const struct virtq *vq, char *why,
		   unsigned why_len)
{
	int err = check_layout(vq, why, why_len);
	if (err)
		return err;
	const struct { const char *name; uint64_t gpa, bytes; } rings[] = {
		{ "descriptor table", vq->desc_gpa, desc_table_bytes(vq) },
		{ "available ring", vq->avail_gpa, avail_ring_bytes(vq) },
		{ "used ring", vq->used_gpa, used_ring_bytes(vq) },
	};
	for (unsigned i = 0; i < 3; i++) {
		if (!gpa_to_hva(mem, rings[i].gpa, rings[i].bytes)) {
			snprintf(why, why_len, "%s at 0x%llx (%llu bytes) is outside guest RAM",
				 rings[i].name, (unsigned long long)rings[i].gpa,
				 (unsigned long long)rings[i].bytes);
			return -EINVAL;
		}
	}
	return 0;
}

bool virtq_state_valid(const struct virtq *vq)
{
	char why[120];
	if (!STATE_BOOL_OK(vq, struct virtq, ready) || !STATE_BOOL_OK(vq, struct virtq, broken) ||
	    !STATE_BOOL_OK(vq, struct virtq, event_idx) ||
	    !STATE_BOOL_OK(vq, struct virtq, indirect))
		return false;   /* (before ready is read as a bool) */
	return !vq->ready || check_layout(vq, why, sizeof(why)) == 0;
}

/* Ring pointers: validated when the queue was enabled, checked again (RAM may not shrink,
 * but one rule, one helper). */
static uint16_t *avail_ring(const struct guest_memory *mem, const struct virtq *vq)
{
	return gpa_to_hva(mem, vq->avail_gpa, avail_ring_bytes(vq));
}

bool virtq_has_work(const struct guest_memory *mem, const struct virtq *vq)
{
	uint16_t *avail = vq->ready && !vq->broken ? avail_ring(mem, vq) : NULL;
	return avail && __atomic_load_n(&avail[1], __ATOMIC_ACQUIRE) != vq->last_avail;
}

/* Describe what the driver did wrong, and stop using the queue until the device is reset. */
__attribute__((format(printf, 4, 5)))
static int chain_error(struct virtq *vq, char *why, unsigned why_len, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, why_len, fmt, ap);
	va_end(ap);
	vq->broken = true;
	return -EINVAL;
}

/*
 * VIRTIO_RING_F_INDIRECT_DESC (virtio 1.1, 2.6.5.3): a head descriptor may point at a table
 * of descriptors in guest RAM instead of a buffer, so a request of many buffers takes one
 * ring entry. Only as the head and alone (QEMU's rule too), a whole number of entries that
 * fit our chain, and never nested; the table is then walked like the ring's.
 */
static int enter_indirect(const struct guest_memory *mem, struct virtq *vq,
			  struct virtq_chain *chain, const struct virtq_desc *d, uint16_t index,
			  char *why, unsigned why_len)
{
	if (!vq->indirect)
		return chain_error(vq, why, why_len,
				   "descriptor %u is indirect, a feature not offered", index);
	if (chain->count || chain->indirect || (d->flags & VIRTQ_DESC_F_NEXT))
		return chain_error(vq, why, why_len,
				   "descriptor %u: an indirect table must be the whole chain",
				   index);
	if (d->len == 0 || d->len % sizeof(*d) || d->len / sizeof(*d) > VIRTQ_MAX_SIZE)
		return chain_error(vq, why, why_len,
				   "descriptor %u: indirect table of %u bytes (a multiple of "
				   "16, at most %u entries)", index, d->len, VIRTQ_MAX_SIZE);
	chain->indirect = gpa_to_hva(mem, d->addr, d->len);
	if (!chain->indirect)
		return chain_error(vq, why, why_len,
				   "descriptor %u: indirect table at 0x%llx, %u bytes, is outside "
				   "guest RAM", index, (unsigned long long)d->addr, d->len);
	return 0;
}

int virtq_pop(const struct guest_memory *mem, struct virtq *vq, struct virtq_chain *chain,
	      char *why, unsigned why_len)
{
	if (!vq->ready || vq->broken)
		return 0;
	uint16_t *avail = avail_ring(mem, vq);
	struct virtq_desc *table = gpa_to_hva(mem, vq->desc_gpa, desc_table_bytes(vq));
	if (!avail || !table)
		return chain_error(vq, why, why_len, "rings outside guest RAM");

	uint16_t avail_idx = __atomic_load_n(&avail[1], __ATOMIC_ACQUIRE);
	if (avail_idx == vq->last_avail && !vq->event_idx)
		return 0;
	if (avail_idx == vq->last_avail) {
		/*
		 * Idle: ask for a kick at the next request (avail_event = last_avail). The driver
		 * may have added one just before it could see that: look again after a full fence
		 * (its side: write avail->idx, fence, read avail_event).
		 */
		uint8_t *used = gpa_to_hva(mem, vq->used_gpa, used_ring_bytes(vq));
		if (!used)
			return chain_error(vq, why, why_len, "rings outside guest RAM");
		__atomic_store_n((uint16_t *)(used + 4 + 8 * vq->size), vq->last_avail,
				 __ATOMIC_RELAXED);
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		avail_idx = __atomic_load_n(&avail[1], __ATOMIC_ACQUIRE);
		if (avail_idx == vq->last_avail)
			return 0;
	}
	/* The driver can be at most one ring ahead of us. */
	if ((uint16_t)(avail_idx - vq->last_avail) > vq->size)
		return chain_error(vq, why, why_len,
				   "available index jumped by %u (queue size %u)",
				   (uint16_t)(avail_idx - vq->last_avail), vq->size);

	uint16_t head = avail[2 + vq->last_avail % vq->size];
	memset(chain, 0, offsetof(struct virtq_chain, seg));
	chain->readable_bytes = chain->writable_bytes = 0;   /* (after seg[]: not in the memset) */
	chain->head = head;

	uint16_t index = head;
	unsigned limit = vq->size;   /* entries in the table being walked */
	for (;;) {
		if (index >= limit)
			return chain_error(vq, why, why_len,
					   "descriptor index %u out of range (%s size %u)", index,
					   chain->indirect ? "indirect table" : "queue", limit);
		/* A chain visits each descriptor at most once, so more than limit is a loop. */
		if (chain->count == limit)
			return chain_error(vq, why, why_len,
					   "descriptor chain from head %u loops (more than %u "
					   "descriptors)", head, limit);
		struct virtq_desc d = table[index];
		if (d.flags & VIRTQ_DESC_F_INDIRECT) {
			int err = enter_indirect(mem, vq, chain, &d, index, why, why_len);
			if (err)
				return err;
			table = chain->indirect;
			limit = d.len / sizeof(d);
			index = 0;
			continue;
		}
		uint8_t *hva = gpa_to_hva(mem, d.addr, d.len);
		if (!hva || d.len == 0)
			return chain_error(
			    vq, why, why_len,
			    "descriptor %u: buffer at 0x%llx, %u bytes, is outside guest "
			    "RAM",
			    index, (unsigned long long)d.addr, d.len);
		bool writable = d.flags & VIRTQ_DESC_F_WRITE;
		chain->seg[chain->count++] = (struct virtq_seg){ hva, d.len, writable };
		if (writable)
			chain->writable_bytes += d.len;
		else
			chain->readable_bytes += d.len;
		if (!(d.flags & VIRTQ_DESC_F_NEXT))
			break;
		index = d.next;
	}
	vq->last_avail++;
	return 1;
}

bool virtq_needs_interrupt(const struct guest_memory *mem, struct virtq *vq)
{
	uint16_t old = vq->signalled_used, now = vq->used_idx;
	uint16_t *avail = avail_ring(mem, vq);

	vq->signalled_used = now;
	if (!vq->event_idx || !avail)
		return true;
	/* Our used->idx store before the read of used_event (the driver fences the other way). */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	uint16_t event = __atomic_load_n(&avail[2 + vq->size], __ATOMIC_RELAXED);
	/* Did used->idx step over event on its way from old to now? (mod 2^16) */
	return (uint16_t)(now - event - 1) < (uint16_t)(now - old);
}

void virtq_unpop(struct virtq *vq)
{
	vq->last_avail--;
}

int virtq_push(const struct guest_memory *mem, struct virtq *vq, uint16_t head, uint32_t len)
{
	uint8_t *used = gpa_to_hva(mem, vq->used_gpa, used_ring_bytes(vq));
	if (!used)
		return -EFAULT;
	struct virtq_used_elem *ring = (struct virtq_used_elem *)(used + 4);
	ring[vq->used_idx % vq->size] = (struct virtq_used_elem){ head, len };
	vq->used_idx++;
	__atomic_store_n((uint16_t *)(used + 2), vq->used_idx, __ATOMIC_RELEASE);
	return 0;
}
