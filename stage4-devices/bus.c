/*
 * bus.c - dispatch port and MMIO accesses to the device that registered the address.
 * See bus.h. The table is small (a dozen ranges), so a linear search is the clearest choice.
 */
#include "bus.h"

#include <stdio.h>
#include <string.h>

void bus_init(struct io_bus *bus)
{
	memset(bus, 0, sizeof(*bus));
	pthread_mutex_init(&bus->lock, NULL);
}

static bool overlaps(const struct bus_range *r, enum bus_space space, uint64_t base, uint64_t len)
{
	return r->enabled && r->space == space && base < r->base + r->len && r->base < base + len;
}

struct bus_range *bus_register(struct io_bus *bus, enum bus_space space, uint64_t base,
			       uint64_t len, const struct bus_ops *ops, void *dev, const char *name)
{
	if (bus->count == BUS_MAX_RANGES || len == 0)
		return NULL;
	for (int i = 0; i < bus->count; i++)
		if (overlaps(&bus->ranges[i], space, base, len))
			return NULL;
	struct bus_range *r = &bus->ranges[bus->count++];
	*r = (struct bus_range){ space, base, len, true, ops, dev, name };
	return r;
}

void bus_move(struct bus_range *range, uint64_t base, bool enabled)
{
	range->base = base;
	range->enabled = enabled;
}

struct bus_range *bus_find(struct io_bus *bus, enum bus_space space, uint64_t addr, unsigned len)
{
	for (int i = 0; i < bus->count; i++) {
		struct bus_range *r = &bus->ranges[i];
		if (r->enabled && r->space == space && addr >= r->base &&
		    addr - r->base + len <= r->len)
			return r;
	}
	return NULL;
}

/* One access, under the bus lock. Unclaimed: reads give all ones, writes are dropped. */
static int bus_access(struct io_bus *bus, enum bus_space space, uint64_t addr, bool write,
		      uint8_t *data, unsigned len)
{
	int ret = 0;

	pthread_mutex_lock(&bus->lock);
	struct bus_range *r = bus_find(bus, space, addr, len);
	if (!r) {
		if (!write)
			memset(data, 0xff, len);
		if (bus->trace)
			fprintf(stderr, "bus: %s %s of %u byte(s) at 0x%llx: nothing there\n",
				space == BUS_PIO ? "port" : "MMIO", write ? "write" : "read", len,
				(unsigned long long)addr);
	} else if (write) {
		ret = r->ops->write ? r->ops->write(r->dev, addr - r->base, data, len) : 0;
	} else if (r->ops->read) {
		ret = r->ops->read(r->dev, addr - r->base, data, len);
	} else {
		memset(data, 0xff, len);
	}
	pthread_mutex_unlock(&bus->lock);
	return ret;
}

int bus_pio(void *ctx, struct vcpu *vcpu, uint16_t port, bool out, uint8_t *data, unsigned size)
{
	(void)vcpu;
	return bus_access(ctx, BUS_PIO, port, out, data, size);
}

int bus_mmio(void *ctx, struct vcpu *vcpu, uint64_t addr, bool write, uint8_t *data, unsigned len)
{
	(void)vcpu;
	return bus_access(ctx, BUS_MMIO, addr, write, data, len);
}

uint64_t bytes_to_u64(const uint8_t *data, unsigned len)
{
	uint64_t v = 0;
	for (unsigned i = 0; i < len && i < 8; i++)
		v |= (uint64_t)data[i] << (8 * i);
	return v;
}

void u64_to_bytes(uint64_t value, uint8_t *data, unsigned len)
{
	for (unsigned i = 0; i < len && i < 8; i++)
		data[i] = value >> (8 * i);
}
