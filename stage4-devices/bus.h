/*
 * bus.h - the I/O bus: which device answers at which port or MMIO address.
 *
 * A PC's CPU reaches devices in two address spaces: the 64 KiB of I/O ports (IN/OUT
 * instructions) and memory-mapped I/O (loads and stores to addresses where no RAM is). KVM
 * hands every such access it does not handle itself to us as KVM_EXIT_IO or KVM_EXIT_MMIO.
 *
 * The bus is a table of ranges. A device registers [base, base + len) in one space with an
 * ops table; an access is sent to the range that holds it, with the offset inside the range.
 * The run loop (stage 1) knows only bus_pio() and bus_mmio(); it never names a device.
 *
 * Unclaimed addresses behave as on a real PC: reads return all ones, writes vanish. Linux
 * probes many legacy ports (floppy, VGA, more serial ports) and must find nothing there.
 */
#ifndef BUS_H
#define BUS_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "run_loop.h"

enum bus_space { BUS_PIO, BUS_MMIO };

/*
 * A device's callbacks. offset is relative to the range's base; len is 1, 2, 4 or 8.
 * Return 0, or EXIT_HANDLER_STOP to stop the machine (reset, power-off). The bus lock is
 * held during the call: devices need no locks of their own.
 */
struct bus_ops {
	int (*read)(void *dev, uint64_t offset, uint8_t *data, unsigned len);
	int (*write)(void *dev, uint64_t offset, const uint8_t *data, unsigned len);
};

struct bus_range {
	enum bus_space space;
	uint64_t base, len;
	bool enabled;             /* a PCI BAR is off while the guest sizes or moves it */
	const struct bus_ops *ops;
	void *dev;
	const char *name;         /* for messages: "serial", "virtio-blk" */
};

#define BUS_MAX_RANGES 32

struct io_bus {
	struct bus_range ranges[BUS_MAX_RANGES];
	int count;
	/* One lock for all device state: vCPU threads, the terminal and the network thread. */
	pthread_mutex_t lock;
	bool trace;               /* print accesses to unclaimed addresses (--trace-io) */
};

void bus_init(struct io_bus *bus);

/* Claim a range. Returns its handle, or NULL if it overlaps an enabled range or the table
 * is full. */
struct bus_range *bus_register(struct io_bus *bus, enum bus_space space, uint64_t base,
			       uint64_t len, const struct bus_ops *ops, void *dev,
			       const char *name);

/* Move a range (a PCI BAR the guest reprogrammed) or switch it off. */
void bus_move(struct bus_range *range, uint64_t base, bool enabled);

/* The range that holds [addr, addr + len) in space, or NULL. Takes no lock. */
struct bus_range *bus_find(struct io_bus *bus, enum bus_space space, uint64_t addr, unsigned len);

/* exit_handlers callbacks for the run loop; ctx is the struct io_bus. */
int bus_pio(void *ctx, struct vcpu *vcpu, uint16_t port, bool out, uint8_t *data, unsigned size);
int bus_mmio(void *ctx, struct vcpu *vcpu, uint64_t addr, bool write, uint8_t *data,
	     unsigned len);

/* Little-endian helpers for register files: devices see guest data as bytes. */
uint64_t bytes_to_u64(const uint8_t *data, unsigned len);
void u64_to_bytes(uint64_t value, uint8_t *data, unsigned len);

#endif
