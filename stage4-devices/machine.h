/*
 * machine.h - the whole lightweight VM: vCPUs, RAM, the bus and the devices on it.
 *
 *   ports  0x060-0x064  i8042 reset line           0x070-0x071  CMOS RTC
 *          0x3f8-0x3ff  COM1 16550A (IRQ 4)         0x600-0x60b  ACPI PM1 + PM timer
 *          0xcf8-0xcff  PCI configuration           in KVM: PIC 0x20/0xa0, PIT 0x40, 0x61
 *   MMIO   0xc0100000+  PCI BARs (virtio-blk, virtio-net, virtio-rng: IRQ 10, 11, 5)
 *          0xfec00000   IOAPIC, 0xfee00000 LAPIC (both in KVM)
 *
 * Threads: one per vCPU runs stage 1's vcpu_step() loop with the bus as its exit handler;
 * the main thread waits for terminal input, network frames and the stop signal. All device
 * state is guarded by the bus lock.
 */
#ifndef MACHINE_H
#define MACHINE_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "boot.h"
#include "bus.h"
#include "kvm.h"
#include "pci.h"
#include "power.h"
#include "rtc.h"
#include "uart.h"
#include "virtio_blk.h"
#include "virtio_net.h"
#include "virtio_rng.h"

#define MAX_VCPUS 8

struct machine_config {
	const char *kvm_path;
	uint64_t mem_size;
	unsigned ncpus;
	struct linux_boot boot;
	const char *disk_path;   /* NULL: no disk */
	const char *tap_name;    /* NULL: no network */
	bool rng;
	bool trace_io;
	/*
	 * How virtio-blk is served: AUTO takes the fast path (ioeventfd, an I/O thread) when the
	 * host has a CPU to spare for that thread beside the vCPUs, else the simple path.
	 */
	enum virtio_path { VIRTIO_AUTO, VIRTIO_SIMPLE, VIRTIO_FAST } virtio_path;
};

/* END_PAUSE and END_MIGRATED: stage 5's migration stops the vCPUs (migration/migrate.h). */
enum machine_end { END_RUNNING, END_POWEROFF, END_REBOOT, END_QUIT, END_FAILED, END_PAUSE,
		   END_MIGRATED };

struct machine {
	struct vm vm;
	struct vcpu vcpus[MAX_VCPUS];
	pthread_t threads[MAX_VCPUS];
	struct exit_stats stats[MAX_VCPUS];   /* per vCPU, kept by its thread */
	unsigned ncpus;
	struct io_bus bus;
	struct uart com1;
	struct rtc_state rtc;
	struct power_state power;
	struct pci_host pci;
	struct virtio_blk blk;
	struct virtio_net net;
	struct virtio_rng rng;
	bool has_blk, has_net, has_rng;
	bool blk_fast;           /* virtio-blk's fast path: ioeventfd and its I/O thread */
	/*
	 * The CPU's reset pin. Stage 4's only reset is the 8042's, inside the power device; a
	 * chipset with reset registers of its own (stage 5: ports 0xcf9 and 0x92), and stage 5's
	 * whole 8042 (its output port), pull this line from a bus callback (bus lock held) and
	 * return EXIT_HANDLER_STOP.
	 */
	bool reset_line;
	/* A triple fault pulls the reset line (stage 5's PC); else it fails the vCPU (stage 4). */
	bool shutdown_resets;
	int stop_fd;                   /* eventfd: a vCPU thread asks the main thread to stop */
	enum machine_end end;
};

/*
 * Open the host resources the config names (kernel, initrd, disk, tap) and build the VM.
 * Returns 0, or a negative errno with one line in why naming the file or device.
 */
int machine_create(struct machine *m, const struct machine_config *cfg, char *why,
		   size_t why_len);

/* Print a one-line reason into why and return err: how the builders report a failure. */
__attribute__((format(printf, 4, 5)))
int machine_fail(int err, char *why, size_t why_len, const char *fmt, ...);

/*
 * Give a vCPU KVM's supported CPUID plus what only the VMM knows:
 *  - which CPU is which: each vCPU reports its own local APIC ID (leaf 1 EBX[31:24], leaves
 *    0xb and 0x1f EDX), or Linux sees N copies of CPU 0; leaf 1 EBX[23:16] counts them;
 *  - "you run on a hypervisor" (leaf 1 ECX bit 31). Without it Linux never looks at KVM's
 *    leaves at 0x40000000, so it has no kvmclock and must calibrate the TSC against the PIT,
 *    slowly and, under nested virtualization, unreliably;
 *  - the TSC-deadline timer (leaf 1 ECX bit 24), which the in-kernel LAPIC implements.
 * Stage 5's PC machine uses it too. 0 or a negative errno.
 */
int vcpu_set_identity(struct vm *vm, struct vcpu *vcpu, unsigned ncpus);

/* Start the vCPUs, serve the terminal and network until the guest or the user ends it. */
enum machine_end machine_run(struct machine *m);

/*
 * End machine_run() from any thread but a bus callback (it takes the bus lock): the first
 * reason given is the one machine_run() returns.
 */
void machine_request_stop(struct machine *m, enum machine_end end);

/*
 * What the VMM costs in host memory beyond the guest's RAM: resident set size minus the
 * resident pages of guest RAM (mincore()). Call before machine_destroy(). KiB.
 */
struct memory_use {
	uint64_t rss_kib, guest_kib, overhead_kib;
};
int machine_memory_use(const struct machine *m, struct memory_use *use);

/* All vCPUs' exits, summed, on one line ("exits: total=N io=N (in=N out=N) mmio=N ..."). */
void machine_print_exits(const struct machine *m, FILE *f);

void machine_destroy(struct machine *m);

#endif
