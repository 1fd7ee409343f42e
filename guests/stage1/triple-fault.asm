; triple-fault.asm - a long-mode guest that faults on purpose.
;
; UD2 raises #UD. The host gave the guest an empty IDT, so the CPU cannot deliver it: that
; becomes a double fault, which cannot be delivered either, and a triple fault shuts the
; CPU down. KVM reports KVM_EXIT_SHUTDOWN; simple-kvm must say so and exit non-zero.

	bits 64
	section .text.entry
	global _start
_start:
	mov al, '!'
	out 0xE9, al
	mov al, 10
	out 0xE9, al
	ud2
