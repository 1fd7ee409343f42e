; cr8-test.asm - a Multiboot kernel that writes CR8 (the task priority) with interrupts off
; while an interrupt waits: the one thing OVMF does that makes the nested host's QEMU 7.2 abort.
;
; What it teaches: how a guest instruction reaches a bug two levels down. OVMF's interrupt entry
; (edk2 CpuExceptionHandlerLib, CommonInterruptEntry) saves CR8 and, on its way out with
; interrupts off, writes it back. In the nested host (tests/nested/README.md) the guest (L2)
; runs on L1's KVM, whose SVM is emulated by QEMU's TCG in L0. When an interrupt is pending for
; L2 and L2 has IF=0, L1's KVM asks for an interrupt window: V_IRQ in the VMCB (svm_set_vintr).
; It does not intercept the CR8 write (svm_update_cr8_intercept clears that intercept unless the
; TPR masks a waiting LAPIC interrupt; here the TPR is 0, and IRQ0 comes from the PIC), so TCG
; runs it: helper_write_crN(8) sees V_IRQ and calls cpu_interrupt() on its vCPU thread without
; QEMU's big lock, and tcg_handle_interrupt's assertion aborts L0's QEMU, and with it L1 and all.
;
; The kernel does just that, in 32-bit protected mode (AMD's CR8 alias there: LOCK MOV CR0):
; it sets the PIT to 1 kHz and unmasks IRQ0, then loops on [a port read (a VM exit: L1's KVM
; re-enters L2 and opens its interrupt window once IRQ0 waits); CR8 := 0], IF=0 throughout. It
; prints "cr8-test: IRQ0 pending" once the PIC shows IRQ0 waiting, and after 10000 more loops
; "cr8-test: survived", then powers off. Where the bug is, the second line never comes.
; Built by guests/stage5/guests.mk like multiboot-test.elf, and as cr8-test-nocr8.elf with
; -DWITHOUT_CR8 (the same loop, no CR8 write: the control); run by guests/stage5/l1-cr8.sh.

bits 32

COM1         equ 0x3f8
PM1A_CONTROL equ 0x604                  ; SeaBIOS puts the ACPI PM block at 0x600 (pc and q35)
SLP_S5       equ (5 << 10) | 0x2000     ; SLP_TYP = S5, SLP_EN
MB_MAGIC     equ 0x1badb002
MB_FLAGS     equ 0x0
PIT_1KHZ     equ 1193                   ; 1.193182 MHz / 1193
AFTER        equ 10000                  ; loops with IRQ0 pending before "survived"
GIVE_UP      equ 50000000               ; loops without IRQ0 ever pending: the PIT is not running

section .text
global start

align 4
mb_header:
	dd MB_MAGIC
	dd MB_FLAGS
	dd -(MB_MAGIC + MB_FLAGS)

start:
	cli                             ; (Multiboot enters with IF=0; say it anyway)
	mov esp, stack_top
	mov edx, s_start
	call puts
	mov al, 0x34                    ; PIT channel 0: lobyte/hibyte, mode 2 (rate generator)
	out 0x43, al
	mov al, PIT_1KHZ & 0xff
	out 0x40, al
	mov al, PIT_1KHZ >> 8
	out 0x40, al
	in al, 0x21                     ; unmask IRQ0 at the master PIC
	and al, 0xfe
	out 0x21, al
	xor ecx, ecx                    ; CR8 writes since IRQ0 was seen waiting (0: not yet)
	xor ebx, ebx                    ; loops in all
.loop:
	in al, 0x61                     ; a VM exit, and KVM's re-entry
	xor eax, eax
%ifdef WITHOUT_CR8
	nop                             ; the control: the same loop without the CR8 write
%else
	db 0xf0, 0x0f, 0x22, 0xc0       ; lock mov cr0, eax: CR8 := 0 (AMD's alias outside 64-bit)
%endif
	inc ebx
	test ecx, ecx
	jnz .counting
	mov al, 0x0a                    ; OCW3: the next read of port 0x20 returns the IRR
	out 0x20, al
	in al, 0x20
	test al, 1
	jz .not_yet
	mov edx, s_pending
	call puts
.counting:
	inc ecx
	cmp ecx, AFTER
	jb .loop
	mov edx, s_survived
	call puts
	jmp power_off
.not_yet:
	cmp ebx, GIVE_UP
	jb .loop
	mov edx, s_never
	call puts
	jmp power_off

puts:                                   ; edx: a NUL-terminated string, to COM1
	push eax
	push esi
	mov esi, edx
	mov dx, COM1
.next:
	lodsb
	test al, al
	jz .end
	out dx, al
	jmp .next
.end:
	pop esi
	pop eax
	ret

power_off:
	mov dx, PM1A_CONTROL
	mov ax, SLP_S5
	out dx, ax
.halt:
	hlt
	jmp .halt

s_start    db "cr8-test: CR8 writes with IF=0 while an interrupt waits (AMD: lock mov cr0)", 10, 0
s_pending  db "cr8-test: IRQ0 pending", 10, 0
s_survived db "cr8-test: survived 10000 loops with an interrupt pending", 10, 0
s_never    db "cr8-test: IRQ0 never became pending (is the PIT running?)", 10, 0

section .bss
align 16
	resb 4096
stack_top:
