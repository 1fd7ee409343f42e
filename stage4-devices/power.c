/*
 * power.c - the 8042 reset line and the ACPI PM1 registers. See power.h.
 */
#include "power.h"

#include <errno.h>
#include <string.h>
#include <time.h>

/* ---- Intel 8042 keyboard controller: only the reset line ------------------------------ */

static int i8042_read(void *dev, uint64_t offset, uint8_t *data, unsigned len)
{
	(void)dev;
	(void)offset;
	memset(data, 0, len);   /* status: no data, input buffer empty; data: nothing */
	return 0;
}

static int i8042_write(void *dev, uint64_t offset, const uint8_t *data, unsigned len)
{
	struct power_state *p = dev;
	(void)len;
	if (offset == I8042_COMMAND_PORT - I8042_DATA_PORT && data[0] == I8042_CMD_RESET) {
		p->stop = STOP_REBOOT;
		return EXIT_HANDLER_STOP;
	}
	return 0;
}

static const struct bus_ops i8042_ops = { i8042_read, i8042_write };

/* ---- ACPI PM1 event and control registers, PM timer --------------------------------- */

enum machine_stop pm1_control_write(struct power_state *p, uint16_t value)
{
	p->pm1_control = (value & ~ACPI_PM1_SLP_EN) | ACPI_PM1_SCI_EN;
	unsigned slp_typ = (value >> 10) & 7;
	if ((value & ACPI_PM1_SLP_EN) && slp_typ == ACPI_S5_SLP_TYP)
		return STOP_POWEROFF;
	return STOP_NONE;   /* other sleep states (S1-S4) are not offered in the DSDT */
}

/* The PM timer counts at 3.579545 MHz from any fixed point; the host's clock gives it. */
static uint32_t pm_timer_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	unsigned __int128 ticks = ((unsigned __int128)ts.tv_sec * 1000000000u + ts.tv_nsec) *
				  ACPI_PM_TIMER_HZ / 1000000000u;
	return (uint32_t)ticks & 0xffffff;   /* 24 bits: the FADT does not claim TMR_VAL_EXT */
}

/* The block is 12 ports from 0x600: 0-1 status, 2-3 enable, 4-5 control, 8-11 timer. */
static int pm_read(void *dev, uint64_t offset, uint8_t *data, unsigned len)
{
	struct power_state *p = dev;
	uint8_t regs[12] = { 0 };
	u64_to_bytes(p->pm1_status, regs + 0, 2);
	u64_to_bytes(p->pm1_enable, regs + 2, 2);
	u64_to_bytes(p->pm1_control | ACPI_PM1_SCI_EN, regs + 4, 2);
	u64_to_bytes(pm_timer_now(), regs + 8, 4);
	memcpy(data, regs + offset, len);
	return 0;
}

static int pm_write(void *dev, uint64_t offset, const uint8_t *data, unsigned len)
{
	struct power_state *p = dev;
	uint16_t v = bytes_to_u64(data, len);
	if (offset == 0)          /* status bits are cleared by writing 1s */
		p->pm1_status &= ~v;
	else if (offset == 2)
		p->pm1_enable = v;
	else if (offset == 4 && len >= 2) {
		p->stop = pm1_control_write(p, v);
		if (p->stop != STOP_NONE)
			return EXIT_HANDLER_STOP;
	}
	return 0;
}

static const struct bus_ops pm_ops = { pm_read, pm_write };

int power_attach(struct power_state *p, struct io_bus *bus)
{
	memset(p, 0, sizeof(*p));
	p->pm1_control = ACPI_PM1_SCI_EN;   /* ACPI mode from the start: no SMI handshake */
	if (!bus_register(bus, BUS_PIO, ACPI_PM1_EVT_PORT, ACPI_PM_BLOCK_LEN, &pm_ops, p,
			  "acpi-pm"))
		return -EBUSY;
	return 0;
}

int power_attach_8042(struct power_state *p, struct io_bus *bus)
{
	/* 0x60-0x64 also covers port 0x61, which KVM's PIT answers before we ever see it. */
	if (!bus_register(bus, BUS_PIO, I8042_DATA_PORT, 5, &i8042_ops, p, "i8042"))
		return -EBUSY;
	return 0;
}

struct bus_range *power_pm1_range(struct io_bus *bus)
{
	struct bus_range *r = bus_find(bus, BUS_PIO, ACPI_PM1_EVT_PORT, ACPI_PM_BLOCK_LEN);
	return r && r->ops == &pm_ops ? r : NULL;
}
