/*
 * multiboot.c - the host's half of a Multiboot boot: find and check the header, lay out the
 * ELF, the modules and the information structure, hand them to the option ROM by fw_cfg.
 * See multiboot.h for the protocol and the layout.
 *
 * Everything in the file is untrusted: every offset and size is checked against the file's
 * length and against the RAM below the PCI hole before a byte is copied.
 */
#include "multiboot.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static uint32_t get32(const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, 4);
	return v;
}

int multiboot_find_header(const uint8_t *file, size_t len, struct mb_header *h, char *why,
			  size_t why_len)
{
	size_t end = len < MB_SEARCH_BYTES ? len : MB_SEARCH_BYTES;
	for (size_t at = 0; at + 12 <= end; at += MB_HEADER_ALIGN) {
		if (get32(file + at) != MB_HEADER_MAGIC)
			continue;
		uint32_t flags = get32(file + at + 4), sum = get32(file + at + 8);
		if ((uint32_t)(MB_HEADER_MAGIC + flags + sum) != 0) {
			snprintf(why, why_len, "multiboot header at offset 0x%zx: bad checksum "
				 "0x%08x (magic + flags + checksum must be 0)", at, sum);
			return -EINVAL;
		}
		/* Bits 0-15 that are set and unknown would have to refuse the boot; bit 0 (align
		 * modules on pages) and bit 1 (memory information) we always honour. */
		if (flags & MB_FLAG_VIDEO_MODE) {
			snprintf(why, why_len, "multiboot header: flag 2 (a video mode) is not "
				 "supported");
			return -EINVAL;
		}
		if (flags & 0xfff8u) {
			snprintf(why, why_len, "multiboot header: unknown required flags 0x%04x",
				 flags & 0xfff8u);
			return -EINVAL;
		}
		h->offset = at;
		h->flags = flags;
		return 0;
	}
	return -ENOENT;
}

/* Check one PT_LOAD entry against the file and the RAM. */
static int check_segment(const Elf32_Phdr *ph, size_t len, uint64_t ram_top, char *why,
			 size_t why_len)
{
	uint64_t end = (uint64_t)ph->p_paddr + ph->p_memsz;
	if (ph->p_filesz > ph->p_memsz || (uint64_t)ph->p_offset + ph->p_filesz > len) {
		snprintf(why, why_len, "multiboot ELF: a segment's bytes lie outside the file");
		return -EINVAL;
	}
	if (ph->p_paddr < MB_LOAD_MIN || end > ram_top) {
		snprintf(why, why_len, "multiboot ELF: segment 0x%x-0x%llx is outside RAM from "
			 "1 MiB to 0x%llx (below the PCI hole)", ph->p_paddr,
			 (unsigned long long)end, (unsigned long long)ram_top);
		return -EINVAL;
	}
	return 0;
}

/* The ELF header: a 32-bit little-endian i386 executable with program headers in the file. */
static int check_elf_header(const uint8_t *file, size_t len, const Elf32_Ehdr **out,
			    char *why, size_t why_len)
{
	const Elf32_Ehdr *eh = (const Elf32_Ehdr *)file;
	if (len < sizeof(*eh) || memcmp(eh->e_ident, ELFMAG, SELFMAG)) {
		snprintf(why, why_len, "multiboot: not an ELF file (the a.out kludge is not "
			 "supported)");
		return -EINVAL;
	}
	if (eh->e_ident[EI_CLASS] != ELFCLASS32 || eh->e_ident[EI_DATA] != ELFDATA2LSB ||
	    eh->e_machine != EM_386 || eh->e_phentsize != sizeof(Elf32_Phdr) || !eh->e_phnum ||
	    eh->e_phoff % 4 ||   /* read in place as Elf32_Phdr[]: aligned, as linkers lay it */
	    (uint64_t)eh->e_phoff + (uint64_t)eh->e_phnum * sizeof(Elf32_Phdr) > len) {
		snprintf(why, why_len, "multiboot: not a 32-bit i386 ELF executable with "
			 "program headers");
		return -EINVAL;
	}
	*out = eh;
	return 0;
}

int multiboot_load_elf(const uint8_t *file, size_t len, uint64_t ram_top, struct mb_kernel *k,
		       char *why, size_t why_len)
{
	const Elf32_Ehdr *eh;
	int err = check_elf_header(file, len, &eh, why, why_len);
	if (err)
		return err;
	const Elf32_Phdr *ph = (const Elf32_Phdr *)(file + eh->e_phoff);
	uint64_t lo = UINT64_MAX, hi = 0;
	for (unsigned i = 0; i < eh->e_phnum; i++) {
		if (ph[i].p_type != PT_LOAD || !ph[i].p_memsz)
			continue;
		if ((err = check_segment(&ph[i], len, ram_top, why, why_len)))
			return err;
		lo = ph[i].p_paddr < lo ? ph[i].p_paddr : lo;
		hi = ph[i].p_paddr + ph[i].p_memsz > hi ? ph[i].p_paddr + ph[i].p_memsz : hi;
	}
	if (lo >= hi) {
		snprintf(why, why_len, "multiboot ELF: nothing to load (no PT_LOAD segment)");
		return -EINVAL;
	}
	if (eh->e_entry < lo || eh->e_entry >= hi) {
		snprintf(why, why_len, "multiboot ELF: entry 0x%x is outside its segments",
			 eh->e_entry);
		return -EINVAL;
	}
	k->image = calloc(1, hi - lo);   /* bss and gaps: zeroes */
	if (!k->image)
		return -ENOMEM;
	for (unsigned i = 0; i < eh->e_phnum; i++)
		if (ph[i].p_type == PT_LOAD && ph[i].p_memsz)
			memcpy(k->image + (ph[i].p_paddr - lo), file + ph[i].p_offset,
			       ph[i].p_filesz);
	k->load_addr = lo;
	k->load_end = hi;
	k->entry = eh->e_entry;
	return 0;
}

int multiboot_split_modules(const char *spec, char out[][256], int max)
{
	int n = 0;
	size_t len = 0;
	if (!spec || !*spec)
		return 0;
	for (const char *p = spec;; p++) {
		if (*p == ',' && p[1] == ',') {   /* ",," is a comma */
			p++;
		} else if (*p == ',' || !*p) {
			if (n == max)
				return -E2BIG;
			out[n++][len] = '\0';
			len = 0;
			if (!*p)
				return n;
			continue;
		}
		if (n == max || len + 1 >= 256)
			return -E2BIG;
		out[n][len++] = *p;
	}
}

/* Append a string at *at in out; its guest address, or 0 when it does not fit. */
static uint32_t put_string(uint8_t *out, uint32_t *at, const char *s)
{
	size_t n = strlen(s) + 1;
	if (*at + n > MB_INFO_MAX)
		return 0;
	memcpy(out + *at, s, n);
	*at += n;
	return MB_INFO_GPA + *at - n;
}

static void put32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

int multiboot_build_info(uint8_t *out, uint64_t below_4g, const char *cmdline, int nmods,
			 const uint32_t *mod_start, const uint32_t *mod_len,
			 char mod_str[][256])
{
	uint32_t at = MB_MODS_OFFSET + nmods * 16;
	memset(out, 0, at);
	put32(out + 0, MBI_FLAG_MEM | MBI_FLAG_CMDLINE | MBI_FLAG_MODS | MBI_FLAG_MMAP |
			       MBI_FLAG_LOADER);
	put32(out + 4, 639);                          /* KiB below the EBDA at 0x9fc00 */
	put32(out + 8, (below_4g >> 10) - 1024);      /* KiB from 1 MiB to the PCI hole */
	uint32_t s = put_string(out, &at, cmdline);
	put32(out + 16, s);
	put32(out + 20, nmods);
	put32(out + 24, MB_INFO_GPA + MB_MODS_OFFSET);
	put32(out + MBI_MMAP_LENGTH, 0);              /* the ROM fills it in */
	put32(out + 48, MB_INFO_GPA + MB_MMAP_OFFSET);
	for (int i = 0; i < nmods && s; i++) {
		uint8_t *m = out + MB_MODS_OFFSET + i * 16;
		put32(m, mod_start[i]);
		put32(m + 4, mod_start[i] + mod_len[i]);  /* mod_end: one past the last byte */
		put32(m + 8, s = put_string(out, &at, mod_str[i]));
		put32(m + 12, 0);
	}
	uint32_t name = s ? put_string(out, &at, "minivisor") : 0;
	put32(out + 64, name);
	return name ? (int)at : -E2BIG;
}

/* ---- reading the files ---------------------------------------------------------------- */

static int read_whole(const char *path, uint8_t **data, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		int err = fd < 0 ? -errno : -EINVAL;
		if (fd >= 0)
			close(fd);
		return err;
	}
	*len = st.st_size;
	*data = malloc(*len ? *len : 1);
	int err = !*data ? -ENOMEM : read(fd, *data, *len) != (ssize_t)*len ? -EIO : 0;
	close(fd);
	if (err) {
		free(*data);
		*data = NULL;
	}
	return err;
}

bool multiboot_is_kernel(const char *path)
{
	uint8_t head[MB_SEARCH_BYTES];
	int fd = path ? open(path, O_RDONLY | O_CLOEXEC) : -1;
	if (fd < 0)
		return false;
	ssize_t n = read(fd, head, sizeof(head));
	close(fd);
	for (ssize_t at = 0; at + 4 <= n; at += MB_HEADER_ALIGN)
		if (get32(head + at) == MB_HEADER_MAGIC)
			return true;
	return false;
}

/* Modules, one after another on page boundaries from *at; their bytes into one blob. */
static int load_modules(char names[][256], int n, uint64_t ram_top, uint32_t *at,
			uint32_t *start, uint32_t *len, uint8_t **blob, size_t *blob_len,
			char *why, size_t why_len)
{
	uint32_t base = *at;
	for (int i = 0; i < n; i++) {
		char file[256];
		uint8_t *data;
		size_t size;
		snprintf(file, sizeof(file), "%s", names[i]);
		file[strcspn(file, " ")] = '\0';          /* the file name ends at a space */
		int err = read_whole(file, &data, &size);
		if (err) {
			snprintf(why, why_len, "%s: cannot read the multiboot module: %s", file,
				 strerror(-err));
			return err;
		}
		start[i] = *at;
		len[i] = size;
		uint64_t end = ((uint64_t)*at + size + 4095) & ~4095ull;
		uint8_t *grown = end <= ram_top ? realloc(*blob, end - base) : NULL;
		if (!grown) {
			free(data);
			snprintf(why, why_len, "%s: the multiboot modules do not fit below 0x%llx",
				 file, (unsigned long long)ram_top);
			return -EFBIG;
		}
		*blob = grown;
		memset(*blob + (*at - base), 0, end - *at);
		memcpy(*blob + (*at - base), data, size);
		free(data);
		*at = end;
		*blob_len = end - base;
	}
	return 0;
}

/* The option ROM, its checksums fixed: the PnP header's and the whole image's. */
static int add_rom(struct fw_cfg *f)
{
	uint32_t n = multiboot_rom_bin_len;
	uint8_t *rom = malloc(n), sum = 0;
	if (!rom)
		return -ENOMEM;
	memcpy(rom, multiboot_rom_bin, n);
	uint16_t pnp = rom[0x1a] | rom[0x1b] << 8;
	if (pnp + 32u <= n) {
		rom[pnp + 9] = 0;
		for (int i = 0; i < 32; i++)
			sum += rom[pnp + i];
		rom[pnp + 9] = -sum;
	}
	sum = 0;
	rom[n - 1] = 0;
	for (uint32_t i = 0; i < n; i++)
		sum += rom[i];
	rom[n - 1] = -sum;
	int err = fw_cfg_add_file(f, "genroms/multiboot.bin", rom, n);
	free(rom);
	return err;
}

/* Read the kernel file, check its header and lay out its ELF image below ram_top. */
static int load_kernel(const char *kernel, uint64_t ram_top, struct mb_kernel *k, char *why,
		       size_t why_len)
{
	struct mb_header h;
	uint8_t *file = NULL;
	size_t len = 0;
	int err = read_whole(kernel, &file, &len);
	if (err)
		snprintf(why, why_len, "%s: cannot read the kernel: %s", kernel, strerror(-err));
	else if ((err = multiboot_find_header(file, len, &h, why, why_len)) == -ENOENT)
		snprintf(why, why_len, "%s: no multiboot header in its first 8 KiB", kernel);
	if (!err)
		err = multiboot_load_elf(file, len, ram_top, k, why, why_len);
	free(file);
	return err;
}

/* The fw_cfg items the option ROM reads (multiboot.h), and the ROM itself. */
static int add_items(struct fw_cfg *f, const struct mb_kernel *k, const uint8_t *mods,
		     uint32_t mods_addr, size_t mods_len, const uint8_t *info, int info_len)
{
	uint32_t size = k->load_end - k->load_addr;
	return add_rom(f) || fw_cfg_add_u32(f, FW_CFG_KERNEL_ADDR, k->load_addr) ||
	       fw_cfg_add_u32(f, FW_CFG_KERNEL_SIZE, size) ||
	       fw_cfg_add(f, FW_CFG_KERNEL_DATA, k->image, size) ||
	       fw_cfg_add_u32(f, FW_CFG_KERNEL_ENTRY, k->entry) ||
	       fw_cfg_add_u32(f, FW_CFG_INITRD_ADDR, mods_len ? mods_addr : 0) ||
	       fw_cfg_add_u32(f, FW_CFG_INITRD_SIZE, mods_len) ||
	       (mods_len && fw_cfg_add(f, FW_CFG_INITRD_DATA, mods, mods_len)) ||
	       fw_cfg_add_u32(f, FW_CFG_SETUP_ADDR, MB_INFO_GPA) ||
	       fw_cfg_add_u32(f, FW_CFG_SETUP_SIZE, info_len) ||
	       fw_cfg_add(f, FW_CFG_SETUP_DATA, info, info_len) ? -ENOMEM : 0;
}

int multiboot_setup(struct fw_cfg *f, const char *kernel, const char *modules,
		    const char *cmdline, uint64_t below_4g, char *why, size_t why_len)
{
	uint64_t ram_top = below_4g - MB_TOP_RESERVE;
	struct mb_kernel k = { 0 };
	uint8_t *mods = NULL, *info = calloc(1, MB_INFO_MAX);
	char (*names)[256] = calloc(MB_MAX_MODULES, 256), line[4096];
	uint32_t start[MB_MAX_MODULES] = { 0 }, len[MB_MAX_MODULES] = { 0 };
	size_t mods_len = 0;
	int n = 0, err = !info || !names ? -ENOMEM : 0;
	if (err)
		snprintf(why, why_len, "multiboot: out of memory");
	else
		err = load_kernel(kernel, ram_top, &k, why, why_len);
	if (!err && (n = multiboot_split_modules(modules, names, MB_MAX_MODULES)) < 0) {
		err = n;
		snprintf(why, why_len, "-initrd: at most %d multiboot modules of 255 bytes each",
			 MB_MAX_MODULES);
	}
	uint32_t at = (k.load_end + 4095) & ~4095u;   /* modules: on the page after the kernel */
	if (!err)
		err = load_modules(names, n, ram_top, &at, start, len, &mods, &mods_len, why,
				   why_len);
	/* The kernel's command line: its file name, then -append (as QEMU and GRUB pass it). */
	snprintf(line, sizeof(line), "%s%s%s", kernel, cmdline && *cmdline ? " " : "",
		 cmdline ? cmdline : "");
	int info_len = err ? 0 : multiboot_build_info(info, below_4g, line, n, start, len, names);
	if (!err && info_len < 0) {
		err = info_len;
		snprintf(why, why_len, "multiboot: the command lines are longer than 64 KiB");
	}
	if (!err && (err = add_items(f, &k, mods, start[0], mods_len, info, info_len)))
		snprintf(why, why_len, "%s: cannot prepare the multiboot items", kernel);
	free(k.image);
	free(mods);
	free(info);
	free(names);
	return err;
}
