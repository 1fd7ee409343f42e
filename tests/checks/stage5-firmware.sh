# tests/checks/stage5-firmware.sh - stage 5: what the VMM tells SeaBIOS beyond the memory map:
# the DSDT compiled from board/dsdt.asl by iasl, SMBIOS, and the legacy ports SeaBIOS probes.
# Sourced by tests/grade. Runs on this host's KVM: SeaBIOS only, its debug log on stdout.
#
# SeaBIOS prints the length of the DSDT it parses: it must be the iasl output's, not stage 4's
# hand-assembled one. It prints "Machine UUID" only when it took SMBIOS tables from fw_cfg
# (its own fallback tables have no UUID).

S5F=stage5-full-machine
S5F_MV="$S5F/minivisor -no-reboot"   # a reset ends these runs
S5F_UUID='Machine UUID [0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}'
check "build minivisor with the DSDT compiled by iasl" 0 -- make -s -C $S5F minivisor

s5f_pc_len=$(stat -c %s $S5F/board/dsdt_pc.aml 2>/dev/null || echo missing)
s5f_q35_len=$(stat -c %s $S5F/board/dsdt_q35.aml 2>/dev/null || echo missing)
check "-M pc: SeaBIOS loads our DSDT through the table loader and our SMBIOS tables" 0 \
	"ACPI: parse DSDT at 0x[0-9a-f]+ \(len $s5f_pc_len\)" 'Copying SMBIOS from' "$S5F_UUID" \
	'!parse error' '!Invalid SMBIOS' '!WARNING' -- $S5F_MV -M pc -debugcon stdio
check "-M q35: the same with the q35 DSDT (PCI Express root bridge, LPC)" 0 \
	"ACPI: parse DSDT at 0x[0-9a-f]+ \(len $s5f_q35_len\)" 'Copying SMBIOS from' "$S5F_UUID" \
	'!parse error' '!Invalid SMBIOS' '!WARNING' -- $S5F_MV -M q35 -debugcon stdio

# board/firmware.h says why no 8237 DMA controller or floppy controller is emulated: SeaBIOS
# only writes the DMA ports (the bus drops them) and never touches the FDC.
check "SeaBIOS reads no DMA controller port and touches no floppy controller" 0 \
	'bus: port write of 1 byte\(s\) at 0xd: nothing there' \
	'!port read of [0-9] byte\(s\) at 0x([0-9a-f]|8[0-9a-f]|[cd][0-9a-f]): nothing' \
	'!port (read|write) of [0-9] byte\(s\) at 0x3f[0-7]: nothing' \
	-- $S5F_MV -trace-io

# The bootorder file (built by board/pc.c from the drives): SeaBIOS lists it, then looks up each
# disk it finds by the path board/firmware.h documents.
s5f_tmp=$(mktemp -d)
truncate -s 1M "$s5f_tmp/disk.img"
check "bootorder: -M pc -hda, SeaBIOS reads the PIIX IDE path" 0 'boot order:' \
	'^1: /pci@i0cf8/ide@1,1/drive@0/disk@0' \
	'Searching bootorder for: /pci@i0cf8/\*@1,1/drive@0/disk@0' \
	-- $S5F_MV -M pc -hda "$s5f_tmp/disk.img" -debugcon stdio
check "bootorder: -M q35 -hda, SeaBIOS reads the ICH9 AHCI path" 0 'boot order:' \
	'^1: /pci@i0cf8/[a-z0-9,]+@1f,2/drive@0/disk@0' \
	'Searching bootorder for: /pci@i0cf8/\*@1f,2/drive@0/disk@0' \
	-- $S5F_MV -M q35 -hda "$s5f_tmp/disk.img" -debugcon stdio
rm -rf "$s5f_tmp"
