; guests/stage5/ahci-hostile.asm - a boot sector that hands the q35 machine's AHCI controller
; bad tables, then a good one: a command list outside RAM, a PRD outside RAM, a command FIS of
; length 0, a command to a port without a drive. Each test prints "ahci-hostile: NAME: ok" (or
; FAILED) on COM1 when the controller answers with the error status AHCI defines; then the
; guest resets. Runs on any KVM (tests/checks/stage5-ahci.sh). It uses "unreal mode" (a 4 GiB
; FS limit kept after leaving protected mode) to reach the controller's registers above 1 MiB.
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
%ifndef NOWHERE
NOWHERE	equ 0xfff00000		; not RAM: the BIOS ROM's 1 MiB below 4 GiB (ahci-hole.img: the hole)
%endif
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
