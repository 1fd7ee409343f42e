/*
 * hpet.h - the High Precision Event Timer (IA-PC HPET specification 1.0a) at 0xfed00000.
 *
 * Teaches: a timer device whose counter is not stored but computed from the host clock, and
 * whose interrupts come from a host timer (a timerfd) instead of from a vCPU's access.
 *
 * The block is 1 KiB of 64-bit registers:
 *   0x000 capabilities (RO): revision, timers - 1, 64-bit counter, legacy routing capable,
 *         vendor 8086, and in the high half the counter's period in femtoseconds
 *   0x010 configuration: ENABLE_CNF (bit 0) runs the main counter; LEG_RT_CNF (bit 1) wires
 *         timer 0 to IRQ 0 and timer 1 to IRQ 8 (the PIT's and the RTC's lines) and
 *         disconnects the in-kernel PIT (KVM_PIT_FLAGS_HPET_LEGACY)
 *   0x020 general interrupt status: for level-triggered timers; write 1 to clear
 *   0x0f0 main counter: 100 MHz (10 ns), from CLOCK_MONOTONIC; writable while stopped
 *   0x100 + 0x20 * N (N = 0..2): timer N's configuration and capabilities (level/edge,
 *         enable, periodic, VAL_SET, 32-bit mode, the I/O APIC input; RO: periodic capable,
 *         64-bit capable, which inputs it may use), +0x08 its comparator, +0x10 FSB route
 *         (no FSB/MSI delivery here: the capability bit is clear)
 *
 * A timer fires when the main counter passes its comparator (in 32-bit mode: the low 32 bits,
 * so a 32-bit timer fires again each time they wrap); a periodic timer then adds its period
 * to the comparator. ISA IRQ n is GSI n in this machine (the MADT has no IRQ 0 -> GSI 2
 * override, unlike QEMU's), so legacy routing drives GSI 0 and GSI 8.
 *
 * Threads: registers are read and written on vCPU threads under the bus lock; a thread of the
 * HPET's own waits on a timerfd armed for the next comparator match and takes the bus lock
 * to deliver it. The register logic takes the time as an argument: unit tests drive it.
 */
#ifndef BOARD_HPET_H
#define BOARD_HPET_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "bus.h"
#include "irq.h"

#define HPET_BASE        0xfed00000ull
#define HPET_SIZE        0x400
#define HPET_TIMERS      3
#define HPET_PERIOD_FS   10000000ull   /* 10 ns: a 100 MHz counter (as QEMU's) */
#define HPET_NS_PER_TICK 10

/* Registers (offsets into the block). */
#define HPET_CAP         0x000
#define HPET_CONFIG      0x010
#define HPET_ISR         0x020
#define HPET_COUNTER     0x0f0
#define HPET_TIMER(n)    (0x100 + 0x20 * (n))
#define HPET_TN_CONFIG   0x00
#define HPET_TN_CMP      0x08
#define HPET_TN_FSB      0x10

#define HPET_CFG_ENABLE  (1ull << 0)
#define HPET_CFG_LEGACY  (1ull << 1)

#define HPET_TN_LEVEL    (1ull << 1)
#define HPET_TN_INT_ENB  (1ull << 2)
#define HPET_TN_PERIODIC (1ull << 3)
#define HPET_TN_PER_CAP  (1ull << 4)
#define HPET_TN_64_CAP   (1ull << 5)
#define HPET_TN_VAL_SET  (1ull << 6)
#define HPET_TN_32MODE   (1ull << 8)
#define HPET_TN_ROUTE_SHIFT 9
#define HPET_TN_ROUTE    (0x1full << HPET_TN_ROUTE_SHIFT)
/* Which I/O APIC inputs a timer may use outside legacy mode: GSI 2 only (the others carry
 * ISA devices or PCI INTx here, and KVM_IRQ_LINE does not share a line between two sources). */
#define HPET_ROUTE_CAP   (1ull << 2)

struct hpet_timer {
	uint64_t config;     /* the writable bits; the capability bits are added on read */
	uint64_t cmp;        /* comparator */
	uint64_t period;     /* periodic mode: added to cmp at each match */
	uint64_t fsb;        /* stored, unused (no FSB delivery) */
	struct irq_line line;
	bool out;            /* the level this timer drives on its line */
	unsigned fired;      /* interrupts delivered (edges; level assertions): tests, lesson */
};

struct hpet {
	uint64_t config, isr;
	uint64_t counter;          /* the main counter when stopped, or at start_ns */
	uint64_t start_ns;         /* host time the counter last (re)started from */
	uint64_t checked;          /* the counter value up to which matches were handled */
	struct hpet_timer t[HPET_TIMERS];
	int vm_fd;                 /* KVM_IRQ_LINE and the PIT's legacy flag; -1 in tests */
	pthread_mutex_t *lock;     /* the bus lock */
	int timer_fd, stop_fd;     /* the delivery thread's timerfd and its stop eventfd */
	pthread_t thread;
	bool running, attached;
	unsigned odd_accesses;     /* misaligned or oversized accesses ignored (one line each) */
};

/* Power-on state; no bus, no thread (tests use this alone). */
void hpet_init(struct hpet *h, int vm_fd);
/* hpet_init, then the register block on the bus and the timerfd. 0 or -errno. */
int hpet_attach(struct hpet *h, struct io_bus *bus, int vm_fd, pthread_mutex_t *lock);
/* The delivery thread, for one run of the machine; hpet_detach closes the fds. */
int hpet_start(struct hpet *h);
void hpet_stop(struct hpet *h);
void hpet_detach(struct hpet *h);

/* The register logic, at host time now_ns (CLOCK_MONOTONIC). Caller holds the lock. */
uint64_t hpet_read_reg(struct hpet *h, uint64_t offset, uint64_t now_ns);
/* Write the bytes of mask (the bytes the access covered) of the 64-bit register at offset. */
void hpet_write_reg(struct hpet *h, uint64_t offset, uint64_t value, uint64_t mask,
		    uint64_t now_ns);
/* Deliver the matches up to now_ns; returns the host time of the next one (0: none). */
uint64_t hpet_update(struct hpet *h, uint64_t now_ns);
/* The main counter at now_ns. */
uint64_t hpet_counter(const struct hpet *h, uint64_t now_ns);
/* The GSI timer n drives now (legacy routing or its route field). */
unsigned hpet_timer_gsi(const struct hpet *h, unsigned n);
/* The ACPI HPET table's body (after the 36-byte header): 20 bytes. */
#define HPET_ACPI_BODY_LEN 20
void hpet_acpi_body(uint8_t body[HPET_ACPI_BODY_LEN]);

#endif
