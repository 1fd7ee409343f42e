/*
 * smbus.h - an SMBus host controller with nothing on its bus.
 *
 * SMBus (System Management Bus, a stricter I2C) is the slow two-wire bus on which a PC's
 * chipset talks to small helpers: the SPD EEPROM on each memory module (its size and timings),
 * temperature sensors, clock chips. The CPU drives it through the south bridge's "host
 * controller": a handful of byte registers in I/O space. Software fills in a target address, a
 * command byte and data, writes a protocol and the START bit to the control register, then
 * polls the status register (or takes an interrupt) until the controller reports "done",
 * "device error" (nobody acknowledged the address) or "failed" (killed).
 *
 * The PIIX4's controller (82371AB data sheet, 7.3: 16 ports at SMBBA) and the ICH9's (its data
 * sheet, chapter 18: 32 ports behind BAR4) share the layout of the first eight registers:
 *
 *   0x00 HST_STS  bit 0 HOST_BUSY, 1 INTR (done), 2 DEV_ERR, 3 BUS_ERR, 4 FAILED;
 *                 ICH9 adds 5 SMBALERT, 6 INUSE (a semaphore: reading sets it), 7 BYTE_DONE.
 *                 Bits 1-7 are cleared by writing 1s to them.
 *   0x02 HST_CNT  bit 0 INTREN, 1 KILL, 4:2 protocol, 6 START (write-only)
 *   0x03 HST_CMD, 0x04 XMIT_SLVA (address << 1 | read), 0x05 HST_D0, 0x06 HST_D1,
 *   0x07 HOST_BLOCK_DB
 *
 * This machine has no SMBus devices (no SPD EEPROMs: memory sizes come from fw_cfg), so a
 * started transaction to any address ends at once with DEV_ERR, exactly what a real bus with
 * no device at that address reports. The controller never waits, so it is never busy. The
 * other registers store what the guest writes and read it back.
 */
#ifndef SMBUS_H
#define SMBUS_H

#include <stdbool.h>
#include <stdint.h>

#include "bus.h"

#define SMBUS_ICH9_PORTS  32     /* BAR4 */
#define SMBUS_PIIX4_PORTS 16     /* SMBBA bits 15:4 */

#define SMBUS_HST_STS     0x00
#define SMBUS_HST_CNT     0x02
#define SMBUS_HST_CMD     0x03
#define SMBUS_XMIT_SLVA   0x04
#define SMBUS_HST_D0      0x05
#define SMBUS_HST_D1      0x06

#define SMBUS_STS_HOST_BUSY 0x01
#define SMBUS_STS_INTR      0x02
#define SMBUS_STS_DEV_ERR   0x04
#define SMBUS_STS_BUS_ERR   0x08
#define SMBUS_STS_FAILED    0x10
#define SMBUS_STS_INUSE     0x40   /* ICH9 only */
#define SMBUS_CNT_INTREN    0x01
#define SMBUS_CNT_KILL      0x02
#define SMBUS_CNT_START     0x40

enum smbus_variant { SMBUS_PIIX4, SMBUS_ICH9 };

/* The controller's registers: plain data. */
struct smbus_state {
	uint8_t regs[SMBUS_ICH9_PORTS];
	bool host_enabled;          /* PIIX4 SMBHSTCFG / ICH9 HOSTC bit 0: off, START does nothing */
	uint32_t transactions;      /* how many the guest started (for tests and curiosity) */
};

struct smbus {
	struct smbus_state state;
	enum smbus_variant variant;
	const char *name;
	/* The interrupt condition changed (INTREN and a completion or error status). NULL: the
	 * controller's interrupt goes nowhere (the PIIX4's is polled by its drivers). */
	void (*irq_changed)(void *opaque, bool level);
	void *opaque;
};

void smbus_init(struct smbus *s, enum smbus_variant variant, const char *name);
/* Register access, offset from the controller's base, len 1, 2 or 4 (any offset). */
uint32_t smbus_read(struct smbus *s, unsigned offset, unsigned len);
void smbus_write(struct smbus *s, unsigned offset, uint32_t value, unsigned len);
/* The level of the controller's interrupt: INTREN set and the status says "finished". */
bool smbus_irq_pending(const struct smbus *s);

/* bus_ops for a range whose dev is the struct smbus. */
extern const struct bus_ops smbus_ops;

#endif
