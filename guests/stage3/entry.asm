; entry.asm - the first instructions of every stage-3 guest (long mode).
;
; The host has set up long mode, the stack and two arguments, as a boot loader would:
; RDI = the VM's index (0 = Neo, 1 = Morpheus, ...) and RSI = its argument (for talk.c,
; the number of lines). Those are the first two argument registers of the x86-64 System V
; calling convention, so the stub just calls main(index, argument) and halts when it
; returns: HLT makes KVM_RUN return with KVM_EXIT_HLT and the host takes the VM off its
; schedule.

	bits 64
	section .text.entry
	global _start
	extern main

_start:
	call main
.halt:
	hlt
	jmp .halt
