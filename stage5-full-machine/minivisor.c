/*
 * minivisor - stage 5's VMM: a full PC (machine type `pc`: i440FX + PIIX3/4 with IDE; `q35`:
 * Q35 + ICH9 with AHCI) that boots its real firmware, SeaBIOS, which then boots what a PC boots:
 * a hard disk or CD-ROM (raw or QCOW2 images), or Linux or a Multiboot kernel directly (through
 * fw_cfg), or reports that there is nothing to boot. -m may exceed the PCI hole: the rest of RAM
 * appears from 4 GiB (board/pc_memory.h), up to the host's RAM.
 *
 *   minivisor [-machine pc|q35] [-m SIZE] [-smp N] [-bios FILE] [-kernel FILE [-initrd FILE]
 *             [-append ARGS]] [-drive file=F,...] [-hda F] [-cdrom F] [-boot order=c|d]
 *             [-config FILE.yaml] [-debugcon stdio|FILE] [-trace-io]      (all: config.h)
 *
 * The console is always COM1 on the terminal (QEMU's -nographic). SeaBIOS's debug output
 * (port 0x402) goes where -debugcon says (stdio: stderr). See config.h for the YAML form.
 *
 * A guest reset (ports 0xcf9 and 0x92, the 8042's pulse, a triple fault, the FADT's reset
 * register) starts the machine again, as a PC does (board/pc.h: pc_reset); -no-reboot makes
 * it end the VMM, as QEMU's -no-reboot.
 *
 * Exit status: 0 when the guest powers off, or resets with -no-reboot, or the user quits
 * with Ctrl-A x; 1 when a vCPU fails; 2 when the machine cannot be built
 * (bad input, a missing file, no usable KVM), with one line that names the file, line, key or
 * device at fault.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "board/pc.h"
#include "config.h"
#include "migration/migrate.h"

static const char usage[] =
	"usage: minivisor [-machine pc|q35] [-m SIZE] [-smp N] [-bios FILE] [-kernel FILE]\n"
	"                 [-initrd FILE] [-append ARGS] [-config FILE.yaml] [-device NAME]\n"
	"                 [-drive file=F[,if=ide|ahci][,media=disk|cdrom][,format=raw|qcow2]\n"
	"                 [,index=N][,readonly=on]] [-hda F] [-cdrom F]\n"
	"                 [-boot [order=]c|d[,reboot-timeout=MS]]\n"
	"                 [-debugcon stdio|FILE] [-linuxboot FILE] [-kvm PATH] [-trace-io]\n"
	"                 [-vga std|none] [-vgabios FILE] [-vnc [HOST]:N[,password-file=F]]\n"
	"                 [-screendump FILE.png|FILE.txt] [-monitor SOCKET]\n"
	"                 [-input-script FILE] [-no-reboot]\n"
	"                 [-control SOCKET] [-incoming file:PATH|tcp:HOST:PORT]\n"
	"                 [-netdev user,id=ID[,hostfwd=tcp:[HADDR]:HPORT-[GADDR]:GPORT]\n"
	"                  [,net=ADDR/BITS][,host=ADDR][,dns=ADDR]] [-netdev tap,id=ID,ifname=TAP]\n"
	"                 [-device e1000|virtio-net-pci[,netdev=ID][,mac=52:54:00:12:34:56]]\n"
	"                 [-nic user|tap|none[,model=e1000|virtio-net-pci][,mac=M][,hostfwd=..]]\n"
	"                 [-simple-virtio | -fast-virtio]   (virtio-net: vCPU thread or net\n"
	"                  thread with ioeventfd, event index, mergeable buffers, tap offloads)\n"
	"                 [-usb | -device qemu-xhci | -device piix3-usb-uhci]\n"
	"                 [-device usb-kbd] [-device usb-tablet]\n"
	"                 [-drive if=none,id=ID,file=F[,format=raw|qcow2]\n"
	"                  -device usb-storage,drive=ID[,port=N][,bootindex=N]]\n"
	"                 [-device vfio-pci,host=DDDD:BB:DD.F[,x-no-mmap=on]]\n"
	"  -m SIZE: up to the host's RAM; above the PCI hole RAM continues from 4 GiB\n"
	"  -kernel FILE: a Linux bzImage, or a Multiboot kernel (ELF) whose modules are\n"
	"                -initrd \"file1 args,file2\" (as QEMU's)\n"
	"A guest reset starts the machine again (the firmware runs anew, disks stay open);\n"
	"-no-reboot (YAML boot: { no-reboot: true }) ends the VMM instead, as QEMU's.\n"
	"UEFI: -drive if=pflash,format=raw,unit=0,file=OVMF_CODE_4M.fd,readonly=on\n"
	"      -drive if=pflash,format=raw,unit=1,file=MY_VARS.fd   (a copy of\n"
	"      OVMF_VARS_4M.fd: the variables are written back to it)\n";

static FILE *open_debug_log(const char *where)
{
	if (!where)
		return NULL;
	if (!strcmp(where, "stdio") || !strcmp(where, "stderr") || !strcmp(where, "-"))
		return stderr;
	return fopen(where, "w");
}

/* How the machine ended, in one line; the exit status follows from it. */
static int report_end(enum machine_end end)
{
	static const char *const what[] = {
		[END_POWEROFF] = "guest powered off",
		[END_REBOOT] = "guest reset (the VMM stops: -no-reboot)",
		[END_QUIT] = "quit (Ctrl-A x)",
		[END_FAILED] = "a vCPU failed",
		[END_MIGRATED] = "migrated: the guest runs on at the destination",
	};
	bool known = end < sizeof(what) / sizeof(what[0]) && what[end];
	fprintf(stderr, "minivisor: %s\n", known ? what[end] : "stopped");
	return end == END_FAILED ? 1 : 0;
}

int main(int argc, char **argv)
{
	static struct pc pc;
	/* Static as pc is: it lives as long as the process, and its strings (config.c copies
	 * them) stay reachable to the end, so LeakSanitizer (make SANITIZE=1) sees no leak. */
	static struct vmm_config c;
	char why[512];

	if (argc > 1 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "-help") ||
			 !strcmp(argv[1], "--help"))) {
		fputs(usage, stdout);
		return 0;
	}
	config_defaults(&c);
	if (config_parse_args(&c, argc, argv, why, sizeof(why))) {
		fprintf(stderr, "minivisor: %s\n", why);
		return 2;
	}
	if (c.initrd && !c.kernel) {
		fprintf(stderr, "minivisor: -initrd needs -kernel\n");
		return 2;
	}
	struct pc_config pcfg = { strcmp(c.machine, "q35") ? CHIPSET_I440FX : CHIPSET_Q35,
				  c.kvm_path, c.bios, c.mem_size, c.ncpus, c.kernel, c.initrd,
				  c.cmdline, c.linuxboot, open_debug_log(c.debug_log), c.trace_io,
				  c.drives, c.ndrives, c.boot_order, c.reboot_timeout_ms, config_vga(&c),
				  c.vgabios, { c.vnc, c.screendump, c.monitor }, c.input_script,
				  c.no_reboot, c.flash_code, c.flash_vars, c.flash_vars_readonly,
				  &c.net, &c.usb, &c.vfio, c.incoming != NULL };
	if (c.debug_log && !pcfg.debug_log) {
		fprintf(stderr, "minivisor: %s: cannot write the debug log: %s\n", c.debug_log,
			strerror(errno));
		return 2;
	}
	int err = pc_create(&pc, &pcfg, why, sizeof(why));
	if (!err && c.incoming)   /* the guest's state from a snapshot or a migration */
		err = migration_incoming(&pc, c.incoming, why, sizeof(why));
	if (!err && c.control)
		err = migration_control_open(&pc, c.control, why, sizeof(why));
	if (err) {
		fprintf(stderr, "minivisor: %s\n", why);
		pc_destroy(&pc);
		return 2;   /* not built: its description or the host is at fault */
	}
	int rc = report_end(pc_run(&pc));
	pc_destroy(&pc);
	if (pcfg.debug_log && pcfg.debug_log != stderr)
		fclose(pcfg.debug_log);
	return rc;
}
