; guests/stage5/reset-test.asm - a disk whose boot sector resets the machine in every way a PC
; can, one per boot, and counts its boots in CMOS memory (which, as on a PC, a reset keeps):
;   boot 0: the PIIX3/ICH9 reset control register (0x06 to port 0xcf9)
;   boot 1: System Control Port A (bit 0 of port 0x92, the "fast reset")
;   boot 2: the keyboard controller's reset pulse (command 0xfe to port 0x64)
;   boot 3: a triple fault (protected mode, an empty IDT, then ud2: KVM_EXIT_SHUTDOWN)
;   boot 4: the HPET from 32-bit protected mode - odd accesses (1 byte, misaligned, across a
;           register, past the 1 KiB block), then the counter: stopped, then running - and
;           a power-off.
; Each boot prints "reset-test: boot N ..." on COM1; SeaBIOS's banner comes before each, since
; the firmware runs again from 0xfffffff0. tests/checks/stage5-reset.sh reads it; with
; -no-reboot the VMM ends after boot 0.
COM1      equ 0x3f8
PM1A_CNT  equ 0x604
S5_SLEEP  equ (5 << 10) | 0x2000
REST_SECTORS equ 3
CMOS_BOOTS equ 0x48                ; a CMOS byte no firmware field uses (QEMU's layout)
HPET      equ 0xfed00000

bits 16
org 0x7c00
%include "boot-sector.inc"
s_no_load db "reset-test: cannot load the rest", 13, 10, 0
	times 510 - ($ - $$) db 0
	dw 0xaa55

; ---- sector 1 on, at 0x7e00 ---------------------------------------------------------------
main:
	mov al, CMOS_BOOTS
	out 0x70, al
	in al, 0x71
	mov bl, al                      ; bl: this boot's number
	inc al
	mov ah, al
	mov al, CMOS_BOOTS
	out 0x70, al
	mov al, ah
	out 0x71, al                    ; the next boot's number, kept through the reset
	mov si, s_boot
	call puts
	mov al, bl
	call puthex
	movzx si, bl
	cmp si, 4
	ja .done
	shl si, 1
	jmp [ways + si]
.done:
	mov si, s_extra
	call puts
	jmp power_off

ways	dw by_cf9, by_port92, by_8042, by_triple_fault, hpet_test

by_cf9:
	mov si, s_cf9
	call puts
	mov dx, 0xcf9
	mov al, 0x02                    ; hard reset, not yet
	out dx, al
	mov al, 0x06                    ; RST_CPU 0 -> 1: the reset
	out dx, al
	jmp still_here

by_port92:
	mov si, s_92
	call puts
	in al, 0x92
	and al, 0xfe
	out 0x92, al
	or al, 1                        ; bit 0: 0 -> 1
	out 0x92, al
	jmp still_here

by_8042:
	mov si, s_8042
	call puts
.wait:	in al, 0x64                     ; input buffer empty first
	test al, 2
	jnz .wait
	mov al, 0xfe
	out 0x64, al
	jmp still_here

by_triple_fault:
	mov si, s_triple
	call puts
	mov dword [pm_target], pm_triple
	jmp go_pm32

still_here:
	mov si, s_still
	call puts
	jmp power_off

; ---- flat 32-bit protected mode: the triple fault and the HPET --------------------------
hpet_test:
	mov si, s_hpet
	call puts
	mov dword [pm_target], pm_hpet
go_pm32:
	cli
	lgdt [gdt_desc]
	mov eax, cr0
	or al, 1
	mov cr0, eax
	jmp 0x08:pm32

bits 32
pm32:
	mov ax, 0x10
	mov ds, ax
	mov es, ax
	mov ss, ax
	jmp [pm_target]

pm_triple:
	lidt [empty_idt]                ; no vectors: #UD -> #GP -> #DF -> shutdown (triple fault)
	ud2
	mov esi, s_still
	call puts32
	jmp pm_off

pm_hpet:
	; Hostile: a byte write into the capabilities, a misaligned word, a dword across the
	; counter's two registers, a read and a write past the block, one byte of a register.
	mov byte [HPET + 1], 0xff
	mov word [HPET + 0x13], 0xffff
	mov dword [HPET + 0xee], 0xffffffff
	mov eax, [HPET + 0xfd]
	mov eax, [HPET + 0x400]
	mov dword [HPET + 0x7fc], 0x12345678
	mov al, [HPET + 0x107]          ; a single byte of timer 0's route capability
	; The capabilities: vendor 8086 in bits 16-31.
	mov eax, [HPET]
	shr eax, 16
	cmp ax, 0x8086
	jne .bad_cap
	cmp dword [HPET + 4], 10000000  ; the counter's period: 10 ns in femtoseconds
	jne .bad_cap
	mov esi, s_cap
	call puts32
	; Stopped, the counter stands still; enabled, it runs.
	mov dword [HPET + 0x10], 0
	mov dword [HPET + 0xf0], 0
	mov dword [HPET + 0xf4], 0
	mov eax, [HPET + 0xf0]
	mov ebx, [HPET + 0xf0]
	cmp eax, ebx
	jne .bad_stopped
	mov dword [HPET + 0x10], 1      ; ENABLE_CNF
	mov eax, [HPET + 0xf0]
	mov ecx, 100000
.spin:	dec ecx
	jnz .spin
	mov ebx, [HPET + 0xf0]
	cmp ebx, eax
	jbe .bad_running
	mov esi, s_runs
	call puts32
	jmp .off
.bad_cap:
	mov esi, s_bad_cap
	call puts32
	jmp .off
.bad_stopped:
	mov esi, s_bad_stopped
	call puts32
	jmp .off
.bad_running:
	mov esi, s_bad_running
	call puts32
.off:
pm_off:
	mov dx, PM1A_CNT
	mov ax, S5_SLEEP
	out dx, ax
.halt:	hlt
	jmp .halt

puts32:                                 ; esi: a NUL-terminated string
	lodsb
	test al, al
	jz .end
	mov dx, COM1
	out dx, al
	jmp puts32
.end:	ret

bits 16
%include "guest-lib.inc"

pm_target dd 0
empty_idt dw 0
	dd 0
align 8
gdt:	dq 0
	dq 0x00cf9a000000ffff           ; 0x08: flat 32-bit code
	dq 0x00cf92000000ffff           ; 0x10: flat data
gdt_desc dw 3 * 8 - 1
	dd gdt

s_boot	db 13, 10, "reset-test: boot ", 0
s_cf9	db " reset by port 0xcf9", 13, 10, 0
s_92	db " reset by port 0x92", 13, 10, 0
s_8042	db " reset by the 8042 (0xfe)", 13, 10, 0
s_triple db " reset by a triple fault", 13, 10, 0
s_hpet	db " HPET from protected mode", 13, 10, 0
s_extra db " more boots than expected", 13, 10, 0
s_still	db "reset-test: still here after the reset", 13, 10, 0
s_cap	db "reset-test: hpet capabilities say vendor 8086, period 10 ns", 13, 10, 0
s_runs	db "reset-test: hpet counter stands still when stopped and runs when enabled", 13, 10, 0
s_bad_cap db "reset-test: hpet capabilities wrong", 13, 10, 0
s_bad_stopped db "reset-test: hpet counter moves while stopped", 13, 10, 0
s_bad_running db "reset-test: hpet counter does not run", 13, 10, 0
	times 512 * (1 + REST_SECTORS) - ($ - $$) db 0
