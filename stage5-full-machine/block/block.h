/*
 * block.h - the disk backend interface: a virtual disk is a byte array of a fixed size that
 * some file format stores on the host.
 *
 * A storage device model (virtio-blk, AHCI, IDE) never knows whether its disk is a raw file
 * or a QCOW2 image: it holds a struct block_dev and calls block_read/block_write/block_flush.
 * Each format is a backend that fills in an ops table, the same pattern as a device on the I/O
 * bus. Two backends exist:
 *
 *   raw.c    the disk is the file, byte for byte
 *   qcow2.c  QEMU's copy-on-write format: sparse, backing files, compression
 *
 * Errors follow the course rule: a negative errno, and one line in dev->why (or in the why
 * buffer given to block_open) that names the file, so the top level prints it and exits.
 */
#ifndef MINIVISOR_BLOCK_H
#define MINIVISOR_BLOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BLOCK_WHY_MAX 512

/* block_open flags */
#define BLOCK_RDONLY	   0x1 /* never write; a shared lock, so other readers may open it too */
#define BLOCK_FORMAT_RAW   0x2 /* do not probe: the file is raw (see "probing" in block.c) */
#define BLOCK_FORMAT_QCOW2 0x4 /* do not probe: the file must be QCOW2 */
#define BLOCK_NO_FLUSH	   0x8 /* skip fdatasync barriers (QEMU's cache=unsafe): for scratch disks */
#define BLOCK_NO_LOCK	   0x10 /* no lock: an incoming migration's disks, opened while the source
				   still holds them; reopened with a lock when it hands over */

struct block_dev;

struct block_ops {
	const char *name;
	/* offset and len are already checked against dev->size by block_read/block_write. */
	int (*read)(struct block_dev *dev, void *buf, uint64_t offset, size_t len);
	int (*write)(struct block_dev *dev, const void *buf, uint64_t offset, size_t len);
	int (*flush)(struct block_dev *dev);
	void (*close)(struct block_dev *dev);
};

struct block_dev {
	const struct block_ops *ops;
	uint64_t size; /* virtual disk size in bytes */
	bool read_only;
	char path[4096]; /* as given to block_open: the name in every error line */
	char why[BLOCK_WHY_MAX];
};

/*
 * Open a disk image. The format is probed from the first bytes unless a BLOCK_FORMAT_* flag
 * names it. The file is locked with QEMU's lock protocol (see block.c), so a second VMM, ours
 * or QEMU, cannot open it for writing at the same time.
 * Returns 0 and *out, or a negative errno and one line in why.
 */
int block_open(const char *path, unsigned int flags, struct block_dev **out, char *why,
	       size_t why_len);

int block_read(struct block_dev *dev, void *buf, uint64_t offset, size_t len);
int block_write(struct block_dev *dev, const void *buf, uint64_t offset, size_t len);
int block_flush(struct block_dev *dev);
void block_close(struct block_dev *dev);

/* ---- for the backends (block.c) ---- */

/*
 * A chain of files being opened, innermost last: how a backing file loop is noticed (an image
 * whose backing file is, eventually, itself) before it recurses forever.
 */
#define BLOCK_CHAIN_MAX 16
struct block_chain {
	int depth;
	uint64_t dev[BLOCK_CHAIN_MAX], ino[BLOCK_CHAIN_MAX];
};

int block_open_chain(const char *path, unsigned int flags, struct block_chain *chain,
		     struct block_dev **out, char *why, size_t why_len);

int raw_open(int fd, const char *path, unsigned int flags, struct block_dev **out, char *why,
	     size_t why_len);
int qcow2_open(int fd, const char *path, unsigned int flags, struct block_chain *chain,
	       struct block_dev **out, char *why, size_t why_len);

/* Format "path: message" into why and return err (a negative errno): one line per failure. */
int block_fail(char *why, size_t why_len, int err, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* Whole-buffer pread/pwrite: -EIO for a read past the end of the file, -errno otherwise. */
int block_pread(int fd, void *buf, size_t len, uint64_t offset);
int block_pwrite(int fd, const void *buf, size_t len, uint64_t offset);

/* Take QEMU-compatible OFD locks on fd; -EBUSY when another process holds a conflicting one. */
int block_lock(int fd, bool read_only);

/*
 * Fault injection for the crash test (tests/checks/stage5.sh): when > 0, the process kills
 * itself with SIGKILL right after this many successful block_pwrite calls. That places the
 * "power cut" at every step of the QCOW2 write order, one run per step.
 */
extern long block_kill_after_writes;

#endif
