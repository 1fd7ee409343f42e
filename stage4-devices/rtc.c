/*
 * rtc.c - MC146818A CMOS clock: time registers from the host clock. See rtc.h.
 */
#include "rtc.h"

#include <errno.h>
#include <string.h>

static uint8_t to_bcd(unsigned v)
{
	return ((v / 10) << 4) | (v % 10);
}

uint8_t rtc_register(const struct rtc_state *rtc, uint8_t index, time_t now)
{
	struct tm tm;
	gmtime_r(&now, &tm);
	bool binary = rtc->cmos[RTC_STATUS_B] & 0x04;
	int value;

	switch (index) {
	case RTC_SECONDS: value = tm.tm_sec; break;
	case RTC_MINUTES: value = tm.tm_min; break;
	case RTC_HOURS: value = tm.tm_hour; break;
	case RTC_WEEKDAY: value = tm.tm_wday + 1; break;
	case RTC_DAY: value = tm.tm_mday; break;
	case RTC_MONTH: value = tm.tm_mon + 1; break;
	case RTC_YEAR: value = tm.tm_year % 100; break;
	case RTC_CENTURY: value = (tm.tm_year + 1900) / 100; break;
	default:
		return rtc->cmos[index & 0x7f];
	}
	return binary ? value : to_bcd(value);
}

static int rtc_read(void *dev, uint64_t offset, uint8_t *data, unsigned len)
{
	struct rtc_state *rtc = dev;
	memset(data, 0xff, len);
	if (offset == 1)
		data[0] = rtc_register(rtc, rtc->index, time(NULL));
	return 0;
}

static int rtc_write(void *dev, uint64_t offset, const uint8_t *data, unsigned len)
{
	struct rtc_state *rtc = dev;
	(void)len;
	if (offset == 0) {
		rtc->index = data[0] & 0x7f;   /* bit 7 is the NMI mask */
	} else if (rtc->index == RTC_STATUS_A || rtc->index == RTC_STATUS_B) {
		/* The clock itself cannot be set (it follows the host), but the modes can. */
		rtc->cmos[rtc->index] = data[0] & (rtc->index == RTC_STATUS_A ? 0x7f : 0xff);
	} else if (rtc->index > RTC_STATUS_D) {
		rtc->cmos[rtc->index] = data[0];
	}
	return 0;
}

void rtc_cmos_set(struct rtc_state *rtc, uint8_t index, uint32_t value, unsigned bytes)
{
	for (unsigned i = 0; i < bytes && i < 4; i++, value >>= 8)
		if (index + i > RTC_STATUS_D && index + i < sizeof(rtc->cmos))
			rtc->cmos[index + i] = value & 0xff;
}

static const struct bus_ops rtc_ops = { rtc_read, rtc_write };

bool rtc_state_valid(const struct rtc_state *rtc)
{
	return rtc->index < sizeof(rtc->cmos);   /* the port write keeps bit 7 (NMI mask) out */
}

int rtc_attach(struct rtc_state *rtc, struct io_bus *bus)
{
	memset(rtc, 0, sizeof(*rtc));
	rtc->cmos[RTC_STATUS_A] = 0x26;   /* 32.768 kHz time base, 1024 Hz rate */
	rtc->cmos[RTC_STATUS_B] = 0x02;   /* 24-hour, BCD */
	rtc->cmos[RTC_STATUS_D] = 0x80;
	return bus_register(bus, BUS_PIO, RTC_INDEX_PORT, 2, &rtc_ops, rtc, "rtc") ? 0 : -EBUSY;
}
