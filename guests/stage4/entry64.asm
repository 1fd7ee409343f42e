; entry64.asm - the protected-mode part of a test "bzImage": loaded at 1 MiB, entered at
; 1 MiB + 0x200 in 64-bit mode with the boot protocol's registers (RSI = zero page).
; The first 0x200 bytes are where a real kernel has its 32-bit entry; ours halts there.

	bits 64
	section .text.entry
	global _start
	extern main

	times 0x200 db 0xf4     ; hlt
_start:
	mov rsp, 0x180000       ; our own stack, inside the 1 MiB init_size promised
	call main
.halt:
	cli
	hlt
	jmp .halt
