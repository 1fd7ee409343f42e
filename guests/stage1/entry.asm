; entry.asm - the first instructions of a stage-1 guest, assembled once per mode.
;
; The host has already set up the CPU mode, the segments and the stack (see
; stage1-simple-kvm/cpu_modes.c), so the stub only calls the C payload and halts with its
; return value in EAX/RAX: HLT makes KVM_RUN return with KVM_EXIT_HLT.
;
; Built with -DBITS=16, 32 or 64. The 16-bit build calls C code compiled with gcc -m16,
; which is 32-bit code that runs in real mode thanks to operand-size prefixes: its
; functions return with a 32-bit RET, so the call must push a 32-bit return address.
; `o32 call` would do that, but KVM's instruction emulator (which runs real-mode code on
; hosts without unrestricted guest support, such as nested ones) mis-executes it; pushing
; the return address and jumping is the same thing in two instructions it gets right.

	bits BITS
	section .text.entry
	global _start
	extern main

_start:
%if BITS == 16
	o32 push dword .halt
	jmp main
%else
	call main
%endif
.halt:
	hlt
	jmp .halt
