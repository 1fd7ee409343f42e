; bench-out.asm - the I/O-exit benchmark guest: an endless OUT loop.
;
; Every OUT to port 0x80 (the PC's POST-code port, harmless) is one KVM_EXIT_IO. The
; benchmark counts the exits it has served and stops the guest when it has timed enough.

	bits 64
	section .text.entry
	global _start
_start:
	xor eax, eax
.loop:
	out 0x80, al
	inc eax
	jmp .loop
