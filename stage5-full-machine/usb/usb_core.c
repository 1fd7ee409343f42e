/*
 * usb_core.c - the chapter 9 part of every USB device: standard requests and endpoint halts.
 *
 * Teaches: what a host learns from a device before any driver binds (the device descriptor,
 * then the configuration with its interfaces and endpoints), how a device gets its address,
 * and what "stall" means: the device refuses a request, or an endpoint is halted until the
 * host clears the halt (CLEAR_FEATURE(ENDPOINT_HALT)).
 */
#include "usb.h"

#include <string.h>

#define FEATURE_ENDPOINT_HALT 0
#define FEATURE_REMOTE_WAKEUP 1
#define LANG_EN_US 0x0409

void usb_setup_parse(struct usb_setup *s, const uint8_t raw[8])
{
	s->request_type = raw[0];
	s->request = raw[1];
	s->value = raw[2] | raw[3] << 8;
	s->index = raw[4] | raw[5] << 8;
	s->length = raw[6] | raw[7] << 8;
}

void usb_device_init(struct usb_device *d)
{
	d->address = 0;
	d->configuration = 0;
	d->remote_wakeup = false;
	d->halted = 0;
}

void usb_device_reset(struct usb_device *d)
{
	usb_device_init(d);
	if (d->ops->reset)
		d->ops->reset(d);
}

static uint32_t halt_bit(unsigned ep)
{
	return 1u << ((ep & 0xf) + (ep & USB_DIR_IN ? 0 : 16));
}

void usb_halt(struct usb_device *d, unsigned ep)
{
	d->halted |= halt_bit(ep);
}

/* A string descriptor: UTF-16LE of an ASCII string, cut at what the host asked for. */
static int string_descriptor(const struct usb_device *d, unsigned index, uint8_t *out,
			     unsigned max)
{
	uint8_t desc[2 + 2 * 62];
	unsigned len;
	if (index == 0) {   /* the language list */
		desc[2] = LANG_EN_US & 0xff;
		desc[3] = LANG_EN_US >> 8;
		len = 4;
	} else if (index <= d->nstrings) {
		const char *s = d->strings[index - 1];
		len = 2;
		for (unsigned i = 0; s[i] && len < sizeof(desc); i++, len += 2) {
			desc[len] = s[i];
			desc[len + 1] = 0;
		}
	} else {
		return USB_RET_STALL;
	}
	desc[0] = len;
	desc[1] = USB_DT_STRING;
	len = len < max ? len : max;
	memcpy(out, desc, len);
	return len;
}

static int copy_out(uint8_t *out, const uint8_t *desc, size_t len, unsigned max)
{
	if (!desc)
		return USB_RET_STALL;
	len = len < max ? len : max;
	memcpy(out, desc, len);
	return len;
}

/* The HID class descriptor sits inside the configuration, after its interface. */
static int hid_descriptor(const struct usb_device *d, uint8_t *out, unsigned max)
{
	for (size_t i = 0; i + 1 < d->config_len; i += d->config_desc[i]) {
		if (d->config_desc[i] == 0)
			break;
		if (d->config_desc[i + 1] == USB_DT_HID)
			return copy_out(out, d->config_desc + i, d->config_desc[i], max);
	}
	return USB_RET_STALL;
}

static int get_descriptor(struct usb_device *d, const struct usb_setup *s, uint8_t *out)
{
	unsigned type = s->value >> 8, index = s->value & 0xff;
	switch (type) {
	case USB_DT_DEVICE:
		return copy_out(out, d->device_desc, 18, s->length);
	case USB_DT_CONFIG:
		return copy_out(out, d->config_desc, d->config_len, s->length);
	case USB_DT_STRING:
		return string_descriptor(d, index, out, s->length);
	case USB_DT_HID:
		return hid_descriptor(d, out, s->length);
	case USB_DT_REPORT:
		return copy_out(out, d->report_desc, d->report_len, s->length);
	}
	return USB_RET_STALL;   /* e.g. device qualifier: a full/high-speed-only device */
}

static int feature(struct usb_device *d, const struct usb_setup *s, bool set)
{
	unsigned recipient = s->request_type & USB_RECIP_MASK;
	if (recipient == USB_RECIP_ENDPOINT && s->value == FEATURE_ENDPOINT_HALT) {
		if (set)
			d->halted |= halt_bit(s->index);
		else
			d->halted &= ~halt_bit(s->index);
		return 0;
	}
	if (recipient == USB_RECIP_DEVICE && s->value == FEATURE_REMOTE_WAKEUP) {
		d->remote_wakeup = set;
		return 0;
	}
	return USB_RET_STALL;
}

static int standard_request(struct usb_device *d, const struct usb_setup *s, uint8_t *data)
{
	switch (s->request) {
	case USB_REQ_GET_DESCRIPTOR:
		return get_descriptor(d, s, data);
	case USB_REQ_SET_ADDRESS:
		d->address = s->value & 0x7f;
		return 0;
	case USB_REQ_SET_CONFIGURATION:
		if (s->value > 1)
			return USB_RET_STALL;
		d->configuration = s->value;
		d->halted = 0;
		return 0;
	case USB_REQ_GET_CONFIGURATION:
		if (s->length < 1)
			return 0;
		data[0] = d->configuration;
		return 1;
	case USB_REQ_GET_STATUS:
		if (s->length < 2)
			return 0;
		data[0] = (s->request_type & USB_RECIP_MASK) == USB_RECIP_ENDPOINT
				  ? !!(d->halted & halt_bit(s->index))
				  : (d->remote_wakeup ? 2 : 0);
		data[1] = 0;
		return 2;
	case USB_REQ_CLEAR_FEATURE:
	case USB_REQ_SET_FEATURE:
		return feature(d, s, s->request == USB_REQ_SET_FEATURE);
	case USB_REQ_SET_INTERFACE:
		return s->value == 0 ? 0 : USB_RET_STALL;   /* one alternate setting each */
	case USB_REQ_GET_INTERFACE:
		if (s->length < 1)
			return 0;
		data[0] = 0;
		return 1;
	}
	return USB_RET_STALL;
}

int usb_control(struct usb_device *d, const uint8_t setup[8], uint8_t *data)
{
	struct usb_setup s;
	usb_setup_parse(&s, setup);
	if ((s.request_type & USB_TYPE_MASK) == USB_TYPE_STANDARD)
		return standard_request(d, &s, data);
	return d->ops->class_request ? d->ops->class_request(d, &s, data) : USB_RET_STALL;
}

int usb_data(struct usb_device *d, unsigned ep, uint8_t *buf, size_t len)
{
	if ((ep & 0xf) == 0 || (d->halted & halt_bit(ep)))
		return USB_RET_STALL;
	return d->ops->transfer(d, ep, buf, len);
}

unsigned usb_endpoint_max_packet(const struct usb_device *d, unsigned ep)
{
	if ((ep & 0xf) == 0)
		return d->device_desc[7];
	for (size_t i = 0; i + 6 < d->config_len; i += d->config_desc[i]) {
		const uint8_t *desc = d->config_desc + i;
		if (desc[0] == 0)
			break;
		if (desc[1] == USB_DT_ENDPOINT && desc[2] == ep)
			return desc[4] | desc[5] << 8;
	}
	return 0;
}
