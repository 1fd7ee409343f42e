/*
 * power.h - how a guest ends the machine: the reset line and ACPI power-off.
 *
 *   reboot    Linux's reboot code tries, in turn, the ACPI reset register, the keyboard
 *             controller and a triple fault. The keyboard controller (Intel 8042) has an
 *             output wired to the CPU's reset pin since the IBM AT: writing command 0xfe to
 *             port 0x64 pulses it. We model only that: the 8042's status port reads "input
 *             buffer empty" (bit 1 clear) so Linux's wait loop ends, and 0xfe stops the VMM.
 *   poweroff  With ACPI, Linux finds the sleep type of state S5 ("soft off") in the DSDT's
 *             \_S5 package and writes it with SLP_EN (bit 13) into the PM1a control register,
 *             whose port the FADT names (ACPI 6.4, 4.8.3.2 and 7.4.2). Without ACPI, Linux
 *             cannot power off at all: it halts and the VMM would never know.
 *
 * The PM1 block also has an event register pair (status, enable) and the ACPI PM timer, a
 * 24-bit counter at 3.579545 MHz; ACPI requires them to be present, so they are here too.
 * Either event ends the machine: the device returns EXIT_HANDLER_STOP and records why.
 */
#ifndef POWER_H
#define POWER_H

#include <stdint.h>

#include "bus.h"

#define I8042_DATA_PORT    0x60
#define I8042_COMMAND_PORT 0x64
#define I8042_CMD_RESET    0xfe

/* The ACPI PM1 block's ports (named in the FADT, acpi.c). */
#define ACPI_PM1_EVT_PORT  0x600   /* 4 bytes: PM1 status (2), PM1 enable (2) */
#define ACPI_PM1_CNT_PORT  0x604   /* 2 bytes: PM1 control */
#define ACPI_PM_TMR_PORT   0x608   /* 4 bytes: PM timer */
#define ACPI_PM_BLOCK_LEN  12      /* the three, as one bus range */
#define ACPI_SCI_IRQ       9
#define ACPI_S5_SLP_TYP    5       /* the value acpi.c puts in \_S5 */
#define ACPI_PM1_SCI_EN    0x0001
#define ACPI_PM1_SLP_EN    0x2000
#define ACPI_PM_TIMER_HZ   3579545

enum machine_stop { STOP_NONE, STOP_REBOOT, STOP_POWEROFF };

struct power_state {
	uint16_t pm1_status, pm1_enable, pm1_control;
	enum machine_stop stop;    /* what the guest asked for */
};

/* The ACPI PM1 block (and the PM timer) on the bus. 0 or -EBUSY. */
int power_attach(struct power_state *p, struct io_bus *bus);
/* The 8042's reset line alone, at ports 0x60-0x64 (after power_attach(), which clears p).
 * Stage 5 puts a whole keyboard controller there instead (stage5-full-machine/input/). */
int power_attach_8042(struct power_state *p, struct io_bus *bus);
/* The PM1 block's bus range, for a chipset whose PM base register moves it (stage 5); ask
 * before anything moved it. NULL when power_attach() has not registered it. */
struct bus_range *power_pm1_range(struct io_bus *bus);

/* Pure: the effect of a PM1 control write (STOP_POWEROFF for SLP_EN with the S5 type). */
enum machine_stop pm1_control_write(struct power_state *p, uint16_t value);

#endif
