; cdboot.asm - an El Torito "no emulation" boot image: the smallest thing a BIOS boots from a CD.
;
; What it teaches: booting from a CD is not booting from a disk. A CD has no boot sector; the
; ISO 9660 image carries a Boot Record (sector 17) that points at a boot catalog, whose entry
; names a boot image, its load segment and how many 512-byte units to load. SeaBIOS reads all
; that through the ATAPI drive (READ(10), 2048-byte sectors), copies the image to 0x7c0:0 and
; jumps there with DL = the CD's BIOS drive number. From then on, int 13h on that drive number
; reads the CD in 2048-byte sectors (the EDD "extended read", AH=42h).
;
; The image says where it came from, reads the ISO 9660 primary volume descriptor (sector 16,
; "CD001" at byte 1) to prove that int 13h reaches the disc, and powers the machine off by ACPI.
; Everything it prints goes to COM1, one "cdboot: " line at a time.
;
; Built by guests/stage5/guests.mk (nasm -f bin, then xorriso into cdboot.iso).

bits 16
org 0x7c00

COM1		equ 0x3f8
COM1_LSR	equ COM1 + 5
LSR_THR_EMPTY	equ 0x20	; the transmitter can take a byte
PM1A_CONTROL	equ 0x604	; SeaBIOS puts the ACPI PM block at 0x600 (pc and q35)
SLP_S5		equ (5 << 10) | 0x2000	; SLP_TYP = S5 (minivisor's \_S5), SLP_EN
BUFFER		equ 0x9000	; past our own 2048 bytes at 0x7c00
PVD_SECTOR	equ 16		; ISO 9660: the primary volume descriptor

start:
	jmp 0:.flat		; SeaBIOS enters at 0x7c0:0; run with CS = 0 to match org
.flat:
	cli
	xor ax, ax
	mov ds, ax
	mov es, ax
	mov ss, ax
	mov sp, 0x7c00
	sti
	cld
	mov [drive], dl

	mov si, msg_booted
	call puts
	mov al, [drive]
	call put_hex8
	call put_newline

	mov si, disk_address_packet	; int 13h AH=42h: read what the packet describes
	mov dl, [drive]
	mov ah, 0x42
	int 0x13
	jc .read_failed

	mov si, BUFFER + 1
	mov di, cd001
	mov cx, 5
	repe cmpsb
	jne .not_iso
	mov si, msg_cd001
	call puts
	jmp power_off

.read_failed:
	mov si, msg_read_failed		; AH holds the BIOS error code
	call puts
	mov al, ah
	call put_hex8
	call put_newline
	jmp power_off

.not_iso:
	mov si, msg_not_iso
	call puts

power_off:
	mov dx, PM1A_CONTROL
	mov ax, SLP_S5
	out dx, ax
.halt:				; only reached if the machine did not power off
	hlt
	jmp .halt

; Print the NUL-terminated string at DS:SI.
puts:
	lodsb
	test al, al
	jz .done
	call putc
	jmp puts
.done:
	ret

; Print AL on COM1 once the transmitter has room (keeps AX).
putc:
	push dx
	push ax
	mov dx, COM1_LSR
.wait:
	in al, dx
	test al, LSR_THR_EMPTY
	jz .wait
	pop ax
	mov dx, COM1
	out dx, al
	pop dx
	ret

; Print AL as two hex digits (keeps AX).
put_hex8:
	push ax
	push ax
	shr al, 4
	call put_hex4
	pop ax
	call put_hex4
	pop ax
	ret

put_hex4:
	push ax
	and al, 0x0f
	add al, '0'
	cmp al, '9'
	jbe .digit
	add al, 'A' - '9' - 1
.digit:
	call putc
	pop ax
	ret

put_newline:
	push ax
	mov al, 13
	call putc
	mov al, 10
	call putc
	pop ax
	ret

align 4
disk_address_packet:
	db 16			; packet size
	db 0
	dw 1			; sectors: one 2048-byte CD sector
	dw BUFFER, 0		; offset, segment
	dq PVD_SECTOR		; LBA

drive		db 0
cd001		db "CD001"
msg_booted	db "cdboot: booted from CD drive 0x", 0
msg_cd001	db "cdboot: volume descriptor CD001", 13, 10, 0
msg_not_iso	db "cdboot: sector 16 is no ISO 9660 volume descriptor", 13, 10, 0
msg_read_failed	db "cdboot: int 13h read failed, AH=0x", 0

	times 2048 - ($ - $$) db 0	; the 4 x 512 bytes the boot catalog says to load
