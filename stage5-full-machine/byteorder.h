/*
 * byteorder.h - big-endian fields in byte buffers.
 *
 * Guest memory and device registers here are little-endian (stage 4's bytes_to_u64() and
 * u64_to_bytes() read and write those). Two interfaces of this machine are big-endian
 * instead: fw_cfg's DMA descriptor and file directory (QEMU chose network order), and SCSI,
 * whose command blocks and replies an ATAPI CD-ROM speaks. Fields there may sit at any byte
 * offset, so they are assembled byte by byte, never through a cast pointer.
 */
#ifndef BYTEORDER_H
#define BYTEORDER_H

#include <stdint.h>

static inline uint16_t get_be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t get_be24(const uint8_t *p)
{
	return (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2];
}

static inline uint32_t get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline void put_be16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v;
}

static inline void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = v >> 24;
	p[1] = v >> 16;
	p[2] = v >> 8;
	p[3] = v;
}

#endif
