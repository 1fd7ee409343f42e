# tests/checks/stage5-ahci.sh - stage 5: the ICH9 AHCI controller (machine q35, 00:1f.2).
# Sourced by tests/grade, which defines check, build and record.
#
# On this host's KVM (SeaBIOS runs on any KVM): SeaBIOS's own AHCI driver finds the disks
# (raw and QCOW2, on any port, and a CD-ROM), and boots one whose boot sector reads through
# INT 13h; a second boot sector hands the controller hostile tables and checks that each one
# fails with the error status AHCI defines while the VMM keeps running. Then, once the guest
# kernel has an AHCI driver, Linux's ahci driver in the nested host (one run).
#
# The boot sectors are written here, assembled with nasm into a temp directory.

S5=stage5-full-machine
MV=$S5/minivisor
check "build minivisor (for the AHCI checks)" 0 -- make -s -C $S5 minivisor minivisor.static
check "AHCI unit tests: registers, IDENTIFY, DMA through PRDTs, resets, hostile tables" 0 \
	'\[  PASSED  \] [0-9]+ test' '!FAILED' \
	-- bash -c 'make -s -C tests/unit test_stage5_ahci && tests/unit/test_stage5_ahci'

s5a_tmp=$(mktemp -d)

# A boot sector that reads sector 1 through INT 13h (SeaBIOS: AHCI) and prints it on COM1.
cat >"$s5a_tmp/boot.asm" <<'ASM'
bits 16
org 0x7c00
	xor ax, ax
	mov ds, ax
	mov ss, ax
	mov sp, 0x7c00
	mov si, dap
	mov ah, 0x42		; extended read: LBA 1 to 0:0x8000
	int 0x13
	mov si, failed
	jc print
	mov si, 0x8000
print:	mov dx, 0x3f8
.next:	lodsb
	test al, al
	jz done
	out dx, al
	jmp .next
done:	mov al, 0xfe		; reset: the VMM stops
	out 0x64, al
	hlt
dap:	db 16, 0
	dw 1
	dw 0x8000, 0
	dq 1
failed:	db "ahci-boot: INT 13h read failed", 13, 10, 0
	times 510 - ($ - $$) db 0
	dw 0xaa55
ASM

# A boot sector that hands the controller bad tables, then a good one. Each test prints
# "ahci-hostile: NAME: ok" (or FAILED) on COM1; then the guest resets.
cat >"$s5a_tmp/hostile.asm" <<'ASM'
bits 16
org 0x7c00

ABAR_CFG equ 0x8000fa24		; CONFIG_ADDRESS of 00:1f.2 register 0x24 (BAR5)
CLB	equ 0x00		; port registers, from the port's base
FB	equ 0x08
IS	equ 0x10
CMD	equ 0x18
CI	equ 0x38
LIST	equ 0x9000		; command list (slot 0's header)
TABLE	equ 0x9400		; command table: FIS, then the PRDT at +0x80
FISES	equ 0x9800		; received FIS area
DATA	equ 0xa000
NOWHERE	equ 0xfff00000		; not RAM: the BIOS ROM's 1 MiB below 4 GiB
HBDS	equ 1 << 28
HBFS	equ 1 << 29
TFES	equ 1 << 30

start:
	cli
	xor ax, ax
	mov ds, ax
	mov es, ax
	mov ss, ax
	mov sp, 0x7c00
	; slot 0: READ DMA EXT of LBA 0, one sector, one PRD (everything else zero)
	xor eax, eax
	mov di, LIST
	mov cx, 0x180
	rep stosd
	mov dword [LIST], 0x00010005
	mov word [LIST + 8], TABLE
	mov dword [TABLE], 0x00258027
	mov byte [TABLE + 7], 0x40
	mov byte [TABLE + 12], 1
	mov word [TABLE + 0x8c], 511
	; "unreal mode": FS keeps a 4 GiB limit after protected mode is left again
	lgdt [gdt_desc]
	mov eax, cr0
	inc ax
	mov cr0, eax
	mov bx, 8
	mov fs, bx
	dec ax
	mov cr0, eax
	mov fs, cx		; CX is 0 after rep stosd
	; EDI = port 0's registers: the ABAR, as SeaBIOS assigned it, + 0x100
	mov eax, ABAR_CFG
	mov dx, 0xcf8
	out dx, eax
	mov dl, 0xfc
	in eax, dx
	and al, 0xf0
	lea edi, [eax + 0x100]

	; 1. the command list outside RAM: host bus fatal error
	mov eax, NOWHERE
	mov ebx, HBFS
	mov si, s_list
	call test_port
	; 2. a PRD outside RAM: task file error and host bus data error
	mov dword [TABLE + 0x80], NOWHERE
	mov ebx, TFES | HBDS
	mov si, s_prd
	call test_list
	; 3. a command FIS length of 0 dwords: task file error
	mov byte [LIST], 0
	mov ebx, TFES
	mov si, s_cfl
	call test_list
	mov byte [LIST], 5
	; 4. port 1, which has no drive: task file error
	mov dword [TABLE + 0x80], DATA
	add di, 0x80
	mov si, s_empty
	call test_list
	sub di, 0x80
	; 5. port 0 again, all good: the boot sector arrives at DATA, no error
	call issue
	test eax, TFES
	jnz .failed
	cmp word [DATA + 510], 0xaa55
	je .ok
.failed:
	stc
.ok:
	mov si, s_good
	call report
	mov si, s_done
	call puts
	mov al, 0xfe		; reset: the VMM stops
	out 0x64, al
	hlt

; Issue slot 0 with the command list at LIST; report test SI: ok when every bit of EBX ends
; up in the port's IS.
test_list:
	mov eax, LIST
test_port:			; the same with the command list at EAX
	mov [fs:edi + CLB], eax
	call issue
	and eax, ebx
	cmp eax, ebx
	je report		; CF clear
	stc
report:				; SI: ok when CF is clear
	pushf
	push si
	mov si, s_prefix
	call puts
	pop si
	call puts
	popf
	mov si, s_ok
	jnc puts
	mov si, s_failed
puts:
	mov dx, 0x3f8
.next:	lodsb
	test al, al
	jz .end
	out dx, al
	jmp .next
.end:	ret

; Restart the port (that drops CI), clear IS, issue slot 0: EAX = the port's IS afterwards.
issue:
	mov dword [fs:edi + FB], FISES
	mov al, 0x10		; FRE
	mov [fs:edi + CMD], eax
	mov al, 0x11		; FRE | ST
	mov [fs:edi + CMD], eax
	or eax, -1
	mov [fs:edi + IS], eax
	mov byte [fs:edi + CI], 1
	mov eax, [fs:edi + IS]
	ret

s_prefix: db "ahci-hostile: ", 0
s_list:	db "list outside RAM: ", 0
s_prd:	db "PRD outside RAM: ", 0
s_cfl:	db "FIS length 0: ", 0
s_empty: db "no drive: ", 0
s_good:	db "good command: ", 0
s_ok:	db "ok", 13, 10, 0
s_failed: db "FAILED", 13, 10, 0
s_done:	db "ahci-hostile: done", 13, 10, 0

gdt:	dq 0
	dq 0x00cf92000000ffff	; data, base 0, limit 4 GiB
gdt_desc:
	dw gdt_desc - gdt - 1
	dd gdt
	times 510 - ($ - $$) db 0
	dw 0xaa55
ASM

s5a_disks() {
	set -e
	cd "$1"
	nasm -f bin -o boot.bin boot.asm
	{ cat boot.bin; printf '\r\nahci-boot: sector 1 read through AHCI\r\n\0'; } >disk.raw
	truncate -s 64M disk.raw
	qemu-img convert -O qcow2 disk.raw disk.qcow2
	nasm -f bin -o hostile.img hostile.asm
	truncate -s 1M hostile.img
	truncate -s 2M cd.raw
}
check "AHCI test disks: two boot sectors (nasm), raw and qcow2 images" 0 \
	-- bash -c "$(declare -f s5a_disks); s5a_disks $s5a_tmp"

check "q35 AHCI: SeaBIOS finds a raw disk on port 0 and boots it (INT 13h reads by AHCI)" 0 \
	'AHCI controller at 00:1f\.2' \
	'AHCI/0: registering: "AHCI/0: [A-Z ]+ ATA-[0-9]+ Hard-Disk \(64 MiBytes\)"' \
	'Booting from Hard Disk' 'ahci-boot: sector 1 read through AHCI' 'guest reset' \
	'!read failed' -- $MV -M q35 -debugcon stdio -drive "file=$s5a_tmp/disk.raw,format=raw"
check "q35 AHCI: a qcow2 disk on port 3 boots, beside a CD-ROM on port 0" 0 \
	'AHCI/3: registering: "AHCI/3: [A-Z ]+ ATA-[0-9]+ Hard-Disk \(64 MiBytes\)"' \
	'AHCI/0: registering: "DVD/CD \[AHCI/0: [A-Z -]+ ATAPI-[0-9]+ DVD/CD\]"' \
	'ahci-boot: sector 1 read through AHCI' 'guest reset' '!read failed' \
	-- $MV -M q35 -debugcon stdio -boot order=c \
	-drive "file=$s5a_tmp/cd.raw,format=raw,media=cdrom,index=0" \
	-drive "file=$s5a_tmp/disk.qcow2,index=3"
check "q35 AHCI: hostile tables fail with HBFS/TFES/HBDS, one line each, the VMM goes on" 0 \
	'ahci-hostile: list outside RAM: ok' 'ahci-hostile: PRD outside RAM: ok' \
	'ahci-hostile: FIS length 0: ok' 'ahci-hostile: no drive: ok' \
	'ahci-hostile: good command: ok' 'ahci-hostile: done' '!FAILED' \
	'ahci: port ahci\.0: slot 0: command list at 0xfff00000 is outside RAM' \
	'ahci: port ahci\.0: PRDT entry 0: 512 bytes at 0xfff00000 are outside RAM' \
	'ahci: port ahci\.1: slot 0: command 0x25 to a port without a drive' 'guest reset' \
	-- $MV -M q35 -drive "file=$s5a_tmp/hostile.img,format=raw"

# ---- Linux's ahci driver, on a hardware KVM (nested host): one run -------------------------
check "the guest kernel has Linux's ahci driver (build/linux/modules.txt)" 0 \
	'^ahci (module|built-in)' -- sh -c 'guests/linux/build.sh >/dev/null && cat build/linux/modules.txt'
CHECK_TIMEOUT=300 check "Linux's ahci driver finds the q35 disk and reads it (nested)" 0 \
	'ahci 0000:00:1f\.2: AHCI [0-9.]+ 32 slots 6 ports' 'ata1: SATA link up' \
	'sd 0:0:0:0: \[sda\] 131072 512-byte logical blocks' \
	'^ahci-boot: sector 1 read through AHCI' 'minivisor-test-exit: 0' \
	-- tests/nested/run-nested \
	--file $S5/minivisor.static:/work/minivisor \
	--file /usr/share/seabios/bios-256k.bin:/work/bios-256k.bin \
	--file /usr/share/qemu/linuxboot_dma.bin:/work/linuxboot_dma.bin \
	--file build/linux/vmlinuz --file build/linux/initrd.cpio.gz \
	--file "$s5a_tmp/disk.qcow2:/work/disk.qcow2" -- \
	'./minivisor -M q35 -bios bios-256k.bin -linuxboot linuxboot_dma.bin' \
	'-kernel vmlinuz -initrd initrd.cpio.gz -drive file=disk.qcow2' \
	'-append "console=ttyS0 panic=-1 mv.test=\"dmesg | grep -E ahci\|ata1\|sda;' \
	'dd if=/dev/sda bs=512 skip=1 count=1 2>/dev/null | head -c 39; echo\""'
rm -rf "$s5a_tmp"
