/*
 * block.c - opening a disk image: format probing, the backing chain, image locking, and the
 * checked I/O helpers every backend uses.
 *
 * Probing. A file that starts with "QFI\xfb" is QCOW2, anything else is raw. Probing is
 * convenient for a tool and dangerous for a VM: a guest that owns a raw disk can write a QCOW2
 * header into its first sector, naming /etc/shadow as "backing file", and the next boot that
 * probes would hand the guest that file. So a machine configuration names the format
 * (BLOCK_FORMAT_RAW / BLOCK_FORMAT_QCOW2); qcow2-tool probes.
 *
 * Locking. Two VMMs writing one image destroy it: each caches L1/L2 tables and allocates the
 * same free clusters. QEMU guards its images with Linux open-file-description (OFD) locks on
 * single bytes of the image file, locks that hold for the open file rather than the process
 * (so a second open() in the same process conflicts too) and vanish when the file is closed
 * or the process dies. Observed with qemu-io and /proc/locks, the protocol is:
 *
 *   byte 100 + p   shared lock held while the opener USES permission p
 *   byte 200 + p   shared lock held while the opener does NOT SHARE permission p with others
 *
 *   p: 0 consistent read, 1 write, 2 write-unchanged, 3 resize
 *
 * A writer uses {read, write, resize} and shares neither write nor resize; a reader uses
 * {read} and also refuses to share write and resize (it caches metadata a writer would change).
 * Opening conflicts when a byte we are about to claim is held in the other table: we use p
 * and someone locked 200 + p, or we refuse p and someone locked 100 + p. We take the same
 * bytes, so minivisor and qemu-img/qemu-io exclude each other both ways.
 */
#define _GNU_SOURCE /* F_OFD_SETLK, F_OFD_GETLK */
#include "block.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

long block_kill_after_writes;

int block_fail(char *why, size_t why_len, int err, const char *path, const char *fmt, ...)
{
	va_list ap;
	int n = snprintf(why, why_len, "%s: ", path);

	if (n >= 0 && (size_t)n < why_len) {
		va_start(ap, fmt);
		vsnprintf(why + n, why_len - n, fmt, ap);
		va_end(ap);
	}
	return err;
}

/* pread or pwrite all of buf, through short transfers and signals. */
static int full_io(int fd, void *buf, size_t len, uint64_t offset, bool write)
{
	while (len > 0) {
		ssize_t n = write ? pwrite(fd, buf, len, (off_t)offset)
				  : pread(fd, buf, len, (off_t)offset);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EIO; /* the file ends before the data the metadata promised */
		buf = (char *)buf + n;
		len -= n;
		offset += n;
	}
	return 0;
}

int block_pread(int fd, void *buf, size_t len, uint64_t offset)
{
	return full_io(fd, buf, len, offset, false);
}

int block_pwrite(int fd, const void *buf, size_t len, uint64_t offset)
{
	int err = full_io(fd, (void *)buf, len, offset, true);

	if (!err && block_kill_after_writes > 0 && --block_kill_after_writes == 0)
		raise(SIGKILL);
	return err;
}

#define LOCK_PERM_BASE	 100
#define LOCK_SHARED_BASE 200
#define PERM_READ	 (1u << 0)
#define PERM_WRITE	 (1u << 1)
#define PERM_RESIZE	 (1u << 3)
#define PERM_BITS	 4

static int lock_byte(int fd, int cmd, short type, off_t byte)
{
	struct flock fl = {.l_type = type, .l_whence = SEEK_SET, .l_start = byte, .l_len = 1};

	if (fcntl(fd, cmd, &fl) < 0)
		return -errno;
	/* F_OFD_GETLK answers F_UNLCK when no other open file holds a conflicting lock. */
	return cmd == F_OFD_GETLK && fl.l_type != F_UNLCK ? -EBUSY : 0;
}

/*
 * One pass over the permission bits. Claiming (F_OFD_SETLK) takes byte 100+p for a permission
 * used and 200+p for one refused; testing (F_OFD_GETLK) looks at the opposite bytes, where
 * another opener's claim would conflict with ours.
 */
static int lock_pass(int fd, unsigned int use, unsigned int unshared, bool claim)
{
	int cmd = claim ? F_OFD_SETLK : F_OFD_GETLK;
	short type = claim ? F_RDLCK : F_WRLCK; /* a write lock "would conflict" with any holder */
	int p, err = 0;

	for (p = 0; p < PERM_BITS && !err; p++) {
		if (use & (1u << p))
			err = lock_byte(fd, cmd, type,
					(claim ? LOCK_PERM_BASE : LOCK_SHARED_BASE) + p);
		if (!err && (unshared & (1u << p)))
			err = lock_byte(fd, cmd, type,
					(claim ? LOCK_SHARED_BASE : LOCK_PERM_BASE) + p);
	}
	return err;
}

int block_lock(int fd, bool read_only)
{
	unsigned int use = read_only ? PERM_READ : PERM_READ | PERM_WRITE | PERM_RESIZE;
	unsigned int unshared = PERM_WRITE | PERM_RESIZE;
	/* Claim first, then test: two openers racing both see each other and both fail. */
	int err = lock_pass(fd, use, unshared, true);

	if (err == -EINVAL || err == -ENOLCK || err == -EOPNOTSUPP)
		return 0; /* a file system without OFD locks: run unlocked, as QEMU's locking=auto
			   */
	if (err)
		return err == -EAGAIN ? -EBUSY : err;
	return lock_pass(fd, use, unshared, false);
}

static bool is_qcow2(int fd)
{
	unsigned char magic[4];

	return pread(fd, magic, 4, 0) == 4 && memcmp(magic, "QFI\xfb", 4) == 0;
}

/* Remember this file in the chain; a file already there means a backing file loop. */
static int chain_push(struct block_chain *chain, int fd, const char *path, char *why,
		      size_t why_len)
{
	struct stat st;
	int i;

	if (fstat(fd, &st) < 0)
		return block_fail(why, why_len, -errno, path, "cannot stat: %s", strerror(errno));
	if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode))
		return block_fail(why, why_len, -EINVAL, path,
				  "not a regular file or block device");
	for (i = 0; i < chain->depth; i++)
		if (chain->dev[i] == st.st_dev && chain->ino[i] == st.st_ino)
			return block_fail(why, why_len, -ELOOP, path,
					  "backing file loop: this file is already in the chain");
	if (chain->depth == BLOCK_CHAIN_MAX)
		return block_fail(why, why_len, -ELOOP, path, "backing chain deeper than %d files",
				  BLOCK_CHAIN_MAX);
	chain->dev[chain->depth] = st.st_dev;
	chain->ino[chain->depth] = st.st_ino;
	chain->depth++;
	return 0;
}

int block_open_chain(const char *path, unsigned int flags, struct block_chain *chain,
		     struct block_dev **out, char *why, size_t why_len)
{
	bool ro = flags & BLOCK_RDONLY;
	int fd, err;

	fd = open(path, (ro ? O_RDONLY : O_RDWR) | O_CLOEXEC);
	if (fd < 0)
		return block_fail(why, why_len, -errno, path, "cannot open: %s", strerror(errno));
	err = chain_push(chain, fd, path, why, why_len);
	if (!err && !(flags & BLOCK_NO_LOCK)) {
		err = block_lock(fd, ro);
		if (err == -EBUSY)
			block_fail(
			    why, why_len, err, path,
			    "already in use by another process (it holds a conflicting lock)");
		else if (err)
			block_fail(why, why_len, err, path, "cannot lock: %s", strerror(-err));
	}
	if (err) {
		close(fd);
		return err;
	}
	if (flags & BLOCK_FORMAT_QCOW2 || (!(flags & BLOCK_FORMAT_RAW) && is_qcow2(fd)))
		return qcow2_open(fd, path, flags, chain, out, why, why_len); /* owns fd now */
	return raw_open(fd, path, flags, out, why, why_len);
}

int block_open(const char *path, unsigned int flags, struct block_dev **out, char *why,
	       size_t why_len)
{
	struct block_chain chain = {0};

	return block_open_chain(path, flags, &chain, out, why, why_len);
}

/* The one range check between a device model and every backend. */
static int check_range(struct block_dev *dev, uint64_t offset, size_t len)
{
	if (offset > dev->size || len > dev->size - offset)
		return block_fail(dev->why, sizeof(dev->why), -EINVAL, dev->path,
				  "access of %zu bytes at %llu is past the end of the disk (%llu)",
				  len, (unsigned long long)offset, (unsigned long long)dev->size);
	return 0;
}

int block_read(struct block_dev *dev, void *buf, uint64_t offset, size_t len)
{
	int err = check_range(dev, offset, len);

	return err ? err : dev->ops->read(dev, buf, offset, len);
}

int block_write(struct block_dev *dev, const void *buf, uint64_t offset, size_t len)
{
	int err = check_range(dev, offset, len);

	if (!err && dev->read_only)
		err = block_fail(dev->why, sizeof(dev->why), -EROFS, dev->path, "opened read-only");
	return err ? err : dev->ops->write(dev, buf, offset, len);
}

int block_flush(struct block_dev *dev)
{
	return dev->ops->flush(dev);
}

void block_close(struct block_dev *dev)
{
	if (dev)
		dev->ops->close(dev);
}
