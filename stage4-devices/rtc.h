/*
 * rtc.h - the CMOS real-time clock (Motorola MC146818A), where a PC keeps the date.
 *
 * Two ports: write a register index to 0x70 (bit 7 masks NMIs, ignored here), then read or
 * write the register at 0x71. Registers 0-9 are the time and date, in BCD unless status
 * register B says binary; A-D are status registers; the rest is battery-backed RAM. Linux
 * reads the clock once at boot to set its wall time. We answer with the host's UTC time
 * and run no alarms or periodic interrupts (IRQ 8 is never raised).
 */
#ifndef RTC_H
#define RTC_H

#include <stdint.h>
#include <time.h>

#include "bus.h"

#define RTC_INDEX_PORT 0x70
#define RTC_SECONDS 0x00
#define RTC_MINUTES 0x02
#define RTC_HOURS   0x04
#define RTC_WEEKDAY 0x06
#define RTC_DAY     0x07
#define RTC_MONTH   0x08
#define RTC_YEAR    0x09
#define RTC_STATUS_A 0x0a   /* bit 7: update in progress (never, here) */
#define RTC_STATUS_B 0x0b   /* bit 1: 24-hour mode, bit 2: binary instead of BCD */
#define RTC_STATUS_C 0x0c
#define RTC_STATUS_D 0x0d   /* bit 7: the battery is good */
#define RTC_CENTURY 0x32    /* the register the ACPI FADT points at */

struct rtc_state {
	uint8_t index;
	uint8_t cmos[128];
};

int rtc_attach(struct rtc_state *rtc, struct io_bus *bus);
/* Whether a state from outside (a migration stream) selects a register that exists. */
bool rtc_state_valid(const struct rtc_state *rtc);

/*
 * Store a field of bytes (1-4, little-endian) in the battery-backed RAM (0x0e-0x7f), where
 * a PC BIOS finds what the machine's builder puts there: memory sizes, CPU count, boot order.
 * This VMM is its own BIOS and leaves it empty; stage 5's firmware reads it. Bytes outside
 * that RAM are ignored.
 */
void rtc_cmos_set(struct rtc_state *rtc, uint8_t index, uint32_t value, unsigned bytes);

/* Pure: the value of register index at host time now (UTC). */
uint8_t rtc_register(const struct rtc_state *rtc, uint8_t index, time_t now);

#endif
