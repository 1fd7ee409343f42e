; entry.asm - the first instructions of every stage-2 guest (long mode).
;
; The host has set up long mode and passes two arguments, as a boot loader would: RDI = the
; size of RAM in bytes, RSI = an argument (the benchmark guest's choice of call; 0
; otherwise). Those are the first two argument registers of the x86-64 System V calling
; convention, so the stub calls main(ram_size, argument) and halts with its return value
; in RAX: the number of the guest's own checks that failed.
;
; The stack moves from the top of RAM (where the host put it) into the image's .bss: the
; hostile guests write a string without a NUL over the last bytes of RAM, which must not be
; where their return addresses live.

	bits 64
	section .text.entry
	global _start
	extern main

_start:
	lea rsp, [rel stack_top]
	call main
.halt:
	hlt
	jmp .halt

	section .bss
	align 16
	resb 16384
stack_top:
