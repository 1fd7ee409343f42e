/*
 * stream.c - write and read the migration stream (stream.h): header, checksummed sections,
 * RAM page records. The reader checks every length against a limit before it allocates, every
 * checksum before it hands a payload on, and says in one line what it found wrong.
 */
#include "stream.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

static uint32_t crc(const void *p, size_t len)
{
	return crc32(crc32(0, Z_NULL, 0), p, len);
}

static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = v >> (8 * i);
}

static void put64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = v >> (8 * i);
}

static uint32_t get32(const uint8_t *p)
{
	return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t get64(const uint8_t *p)
{
	return get32(p) | (uint64_t)get32(p + 4) << 32;
}

__attribute__((format(printf, 3, 4)))
static int fail(struct stream *s, int err, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(s->why, sizeof(s->why), fmt, ap);
	va_end(ap);
	return err;
}

void stream_init(struct stream *s, int fd)
{
	memset(s, 0, sizeof(*s));
	s->fd = fd;
	s->answer_fd = -1;
}

/* ---- writing ------------------------------------------------------------------------- */

static int write_all(struct stream *s, const void *p, size_t len)
{
	const uint8_t *b = p;
	if (s->failed)
		return -EIO;
	while (len) {
		ssize_t n = write(s->fd, b, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			s->failed = true;
			return fail(s, n < 0 ? -errno : -EIO, "write: %s",
				    n < 0 ? strerror(errno) : "nothing written");
		}
		b += n;
		len -= n;
		s->bytes += n;
	}
	return 0;
}

int stream_write_header(struct stream *s, const char *config)
{
	uint8_t h[16];
	size_t len = strlen(config);
	if (len > STREAM_MAX_CONFIG)
		return fail(s, -E2BIG, "configuration text too long (%zu bytes)", len);
	memcpy(h, STREAM_MAGIC, 8);
	put32(h + 8, STREAM_VERSION);
	put32(h + 12, len);
	uint8_t c[4];
	put32(c, crc(config, len));
	int err = write_all(s, h, sizeof(h));
	if (!err)
		err = write_all(s, config, len);
	return err ? err : write_all(s, c, 4);
}

int stream_write_section(struct stream *s, const char *name, uint32_t version,
			 const void *payload, uint32_t len)
{
	uint8_t h[STREAM_NAME_LEN + 12] = { 0 };
	strncpy((char *)h, name, STREAM_NAME_LEN);
	put32(h + STREAM_NAME_LEN, version);
	put32(h + STREAM_NAME_LEN + 4, len);
	put32(h + STREAM_NAME_LEN + 8, crc(payload, len));
	int err = write_all(s, h, sizeof(h));
	return err || !len ? err : write_all(s, payload, len);
}

int stream_write_end(struct stream *s)
{
	return stream_write_section(s, "end", STREAM_VERSION, "", 0);
}

int stream_write_sync(struct stream *s)
{
	return stream_write_section(s, "sync", STREAM_VERSION, "", 0);
}

#define RECORD_MAX (8 + STREAM_PAGE_SIZE)

int ram_batch_init(struct ram_batch *b)
{
	b->len = b->pages = 0;
	b->buf = malloc(STREAM_PAGES_PER_SECTION * RECORD_MAX);
	return b->buf ? 0 : -ENOMEM;
}

void ram_batch_free(struct ram_batch *b)
{
	free(b->buf);
	b->buf = NULL;
}

int ram_batch_flush(struct stream *s, struct ram_batch *b)
{
	if (!b->pages)
		return 0;
	int err = stream_write_section(s, "ram", STREAM_VERSION, b->buf, b->len);
	b->len = b->pages = 0;
	return err;
}

int ram_batch_add(struct stream *s, struct ram_batch *b, uint64_t page, const void *data)
{
	put64(b->buf + b->len, page | (data ? 0 : STREAM_PAGE_ZERO));
	b->len += 8;
	if (data) {
		memcpy(b->buf + b->len, data, STREAM_PAGE_SIZE);
		b->len += STREAM_PAGE_SIZE;
	}
	return ++b->pages == STREAM_PAGES_PER_SECTION ? ram_batch_flush(s, b) : 0;
}

/* ---- reading ------------------------------------------------------------------------- */

/* Exactly len bytes, or an error naming what was being read when the stream ended. */
static int read_all(struct stream *s, void *p, size_t len, const char *what)
{
	uint8_t *b = p;
	while (len) {
		ssize_t n = read(s->fd, b, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return fail(s, -errno, "%s: read: %s", what, strerror(errno));
		if (n == 0)
			return fail(s, -EPIPE, "stream truncated in %s (after %llu bytes)", what,
				    (unsigned long long)s->bytes);
		b += n;
		len -= n;
		s->bytes += n;
	}
	return 0;
}

int stream_read_header(struct stream *s, char *config, size_t cap)
{
	uint8_t h[16], c[4];
	int err = read_all(s, h, sizeof(h), "the header");
	if (err)
		return err;
	if (memcmp(h, STREAM_MAGIC, 8))
		return fail(s, -EINVAL, "not a minivisor migration stream (bad magic)");
	uint32_t version = get32(h + 8), len = get32(h + 12);
	if (version != STREAM_VERSION)
		return fail(s, -EINVAL, "stream version %u: this minivisor reads version %u",
			    version, STREAM_VERSION);
	if (len > STREAM_MAX_CONFIG || len >= cap)
		return fail(s, -EINVAL, "configuration of %u bytes: corrupt header", len);
	err = read_all(s, config, len, "the configuration");
	if (!err)
		err = read_all(s, c, 4, "the configuration");
	if (err)
		return err;
	config[len] = '\0';
	if (get32(c) != crc(config, len))
		return fail(s, -EBADMSG, "configuration checksum mismatch: the stream is corrupt");
	return 0;
}

int stream_read_section(struct stream *s, struct section *sec)
{
	uint8_t h[STREAM_NAME_LEN + 12];
	memset(sec, 0, sizeof(*sec));
	int err = read_all(s, h, sizeof(h), "a section header");
	while (!err && !memcmp(h, "sync", 5) && !get32(h + STREAM_NAME_LEN + 4)) {
		static const char ok[] = "OK sync\n";   /* all before it is in: say so */
		if (s->answer_fd >= 0 && write(s->answer_fd, ok, sizeof(ok) - 1) < 0) {
			/* the writer is gone: the next read says so */
		}
		err = read_all(s, h, sizeof(h), "a section header");
	}
	if (err)
		return err;
	memcpy(sec->name, h, STREAM_NAME_LEN);
	for (unsigned i = 0; sec->name[i]; i++)
		if (sec->name[i] < 0x20 || sec->name[i] > 0x7e)
			return fail(s, -EBADMSG, "section name with byte 0x%02x: the stream is "
				    "corrupt", (uint8_t)sec->name[i]);
	sec->version = get32(h + STREAM_NAME_LEN);
	sec->len = get32(h + STREAM_NAME_LEN + 4);
	uint32_t want = get32(h + STREAM_NAME_LEN + 8);
	if (sec->len > STREAM_MAX_SECTION)
		return fail(s, -EBADMSG, "section '%s': length %u: the stream is corrupt",
			    sec->name, sec->len);
	if (!strcmp(sec->name, "end")) {
		if (sec->len)
			return fail(s, -EBADMSG, "end marker with a length of %u", sec->len);
		struct timespec ts;   /* the destination's downtime is counted from here */
		clock_gettime(CLOCK_MONOTONIC, &ts);
		s->end_ms = ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
		return 1;
	}
	sec->payload = malloc(sec->len ? sec->len : 1);
	if (!sec->payload)
		return fail(s, -ENOMEM, "section '%s': no memory for %u bytes", sec->name,
			    sec->len);
	char what[48];
	snprintf(what, sizeof(what), "section '%s'", sec->name);
	err = read_all(s, sec->payload, sec->len, what);
	if (!err && crc(sec->payload, sec->len) != want)
		err = fail(s, -EBADMSG, "section '%s': checksum mismatch: the stream is corrupt",
			   sec->name);
	if (err) {
		free(sec->payload);
		sec->payload = NULL;
	}
	return err;
}

/* The value of key in a "key=value" text, copied into out ("" when absent). */
static void config_value(const char *text, const char *key, char *out, size_t cap)
{
	size_t klen = strlen(key);
	out[0] = '\0';
	for (const char *line = text; line && *line; line = strchr(line, '\n')) {
		if (*line == '\n')
			line++;
		if (!strncmp(line, key, klen) && line[klen] == '=') {
			const char *v = line + klen + 1, *end = strchr(v, '\n');
			size_t n = end ? (size_t)(end - v) : strlen(v);
			if (n >= cap)
				n = cap - 1;
			memcpy(out, v, n);
			out[n] = '\0';
			return;
		}
	}
}

int stream_config_diff(const char *here, const char *there, char *why, size_t why_len)
{
	static const char *const keys[] = { "machine", "ram", "cpus", "devices", "disks", "nics",
					    "usb", "vfio" };
	char a[512], b[512];
	for (unsigned i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		config_value(here, keys[i], a, sizeof(a));
		config_value(there, keys[i], b, sizeof(b));
		if (strcmp(a, b)) {
			snprintf(why, why_len, "configuration differs: %s is '%s' in the stream, "
				 "'%s' here", keys[i], b, a);
			return -EINVAL;
		}
	}
	return 0;
}

int stream_ram_section(const struct section *sec, uint64_t max_pages, ram_page_fn fn,
		       void *opaque, char *why, size_t why_len)
{
	if (sec->version != STREAM_VERSION) {
		snprintf(why, why_len, "RAM section version %u: this minivisor reads %u",
			 sec->version, STREAM_VERSION);
		return -EINVAL;
	}
	/* First pass: check every record; second: hand them out. */
	for (int pass = 0; pass < 2; pass++) {
		for (uint32_t off = 0; off < sec->len;) {
			if (sec->len - off < 8) {
				snprintf(why, why_len, "RAM section: a page record cut short");
				return -EBADMSG;
			}
			uint64_t rec = get64(sec->payload + off);
			uint64_t page = rec & ~STREAM_PAGE_ZERO;
			bool zero = rec & STREAM_PAGE_ZERO;
			off += 8;
			if (!zero && sec->len - off < STREAM_PAGE_SIZE) {
				snprintf(why, why_len, "RAM section: page %llu cut short",
					 (unsigned long long)page);
				return -EBADMSG;
			}
			if (page >= max_pages) {
				snprintf(why, why_len, "RAM page at %llu MiB: larger than the %llu "
					 "MiB of RAM configured here",
					 (unsigned long long)(page * STREAM_PAGE_SIZE >> 20),
					 (unsigned long long)(max_pages * STREAM_PAGE_SIZE >> 20));
				return -EINVAL;
			}
			if (pass)
				fn(opaque, page, zero ? NULL : sec->payload + off);
			if (!zero)
				off += STREAM_PAGE_SIZE;
		}
	}
	return 0;
}

int stream_expect(const struct section *sec, uint32_t version, uint32_t len, char *why,
		  size_t why_len)
{
	if (sec->version != version) {
		snprintf(why, why_len, "section '%s': version %u, this minivisor reads %u",
			 sec->name, sec->version, version);
		return -EINVAL;
	}
	if (sec->len != len) {
		snprintf(why, why_len, "section '%s': %u bytes, want %u", sec->name, sec->len,
			 len);
		return -EINVAL;
	}
	return 0;
}
