/*
 * smbus.c - the SMBus host controller of the PIIX4 and the ICH9, with an empty bus. See smbus.h.
 *
 * What it teaches: a register-level device whose "transaction" finishes inside the write that
 * starts it. Guests poll HOST_BUSY or wait for an interrupt; both see the end at once, so the
 * controller needs no thread, no timer and no queue.
 */
#include "smbus.h"

#include <string.h>

/* Status bits that mean "the transaction is over"; with INTREN, they raise the interrupt. */
#define SMBUS_STS_FINISHED (SMBUS_STS_INTR | SMBUS_STS_DEV_ERR | SMBUS_STS_BUS_ERR | \
			    SMBUS_STS_FAILED)

void smbus_init(struct smbus *s, enum smbus_variant variant, const char *name)
{
	memset(s, 0, sizeof(*s));
	s->variant = variant;
	s->name = name;
}

static unsigned port_count(const struct smbus *s)
{
	return s->variant == SMBUS_ICH9 ? SMBUS_ICH9_PORTS : SMBUS_PIIX4_PORTS;
}

bool smbus_irq_pending(const struct smbus *s)
{
	const uint8_t *r = s->state.regs;
	return (r[SMBUS_HST_CNT] & SMBUS_CNT_INTREN) && (r[SMBUS_HST_STS] & SMBUS_STS_FINISHED);
}

static void update_irq(struct smbus *s)
{
	if (s->irq_changed)
		s->irq_changed(s->opaque, smbus_irq_pending(s));
}

/* Nobody answers at any address: the address phase is not acknowledged. */
static void run_transaction(struct smbus *s)
{
	uint8_t *status = &s->state.regs[SMBUS_HST_STS];
	s->state.transactions++;
	*status = (*status & ~SMBUS_STS_HOST_BUSY) | SMBUS_STS_DEV_ERR;
}

static uint8_t read_byte(struct smbus *s, unsigned offset)
{
	uint8_t *r = s->state.regs;
	uint8_t value = r[offset];
	if (offset == SMBUS_HST_STS && s->variant == SMBUS_ICH9)
		r[offset] |= SMBUS_STS_INUSE;   /* the semaphore: the first reader owns it */
	else if (offset == SMBUS_HST_CNT)
		value &= ~SMBUS_CNT_START;      /* START is write-only */
	return value;
}

static void write_byte(struct smbus *s, unsigned offset, uint8_t value)
{
	uint8_t *r = s->state.regs;
	switch (offset) {
	case SMBUS_HST_STS:   /* write 1 to clear; HOST_BUSY is the controller's own */
		r[offset] &= ~(value & ~SMBUS_STS_HOST_BUSY);
		break;
	case SMBUS_HST_CNT:
		r[offset] = value & ~SMBUS_CNT_START;
		if ((value & SMBUS_CNT_START) && s->state.host_enabled)
			run_transaction(s);
		break;
	default:              /* command, address, data, block byte, and the rest: storage */
		r[offset] = value;
		break;
	}
}

uint32_t smbus_read(struct smbus *s, unsigned offset, unsigned len)
{
	uint32_t value = 0;
	for (unsigned i = 0; i < len && i < 4; i++) {
		unsigned at = offset + i;
		uint8_t byte = at < port_count(s) ? read_byte(s, at) : 0xff;
		value |= (uint32_t)byte << (8 * i);
	}
	return value;
}

void smbus_write(struct smbus *s, unsigned offset, uint32_t value, unsigned len)
{
	for (unsigned i = 0; i < len && i < 4; i++)
		if (offset + i < port_count(s))
			write_byte(s, offset + i, value >> (8 * i));
	update_irq(s);
}

static int smbus_bus_read(void *dev, uint64_t offset, uint8_t *data, unsigned len)
{
	u64_to_bytes(smbus_read(dev, offset, len), data, len);
	return 0;
}

static int smbus_bus_write(void *dev, uint64_t offset, const uint8_t *data, unsigned len)
{
	smbus_write(dev, offset, bytes_to_u64(data, len), len);
	return 0;
}

const struct bus_ops smbus_ops = { smbus_bus_read, smbus_bus_write };
