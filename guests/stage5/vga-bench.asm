; vga-bench.asm - a boot sector that keeps the whole screen changing, for the display benchmark
; (tests/bench.d/stage5-display.sh); assembled with -DIDLE it sets the screen once and halts.
;
; Runs the same on minivisor and on QEMU. It sets 1024x768 at 8 bpp through the Bochs VBE
; ports (switching the mode on clears VRAM: every pixel is colour 0), then changes DAC entry 0
; without end: each change recolours every pixel of the screen, for the cost of four port
; writes. So the guest asks for full-screen updates as fast as a display can take them, with
; no guest drawing in the way (this course's PVM host emulates the guest's 16- and 32-bit
; code: a guest that stored every pixel would measure its own speed, not the display's).

bits 16
org 0x7c00

start:
	cli
	xor ax, ax
	mov ds, ax
	mov ss, ax
	mov sp, 0x7c00
	mov si, vbe_regs
.vbe:                                   ; index, value pairs to the Bochs VBE ports
	lodsw
	test ax, ax
	jz .paint
	mov dx, 0x1ce
	out dx, ax
	lodsw
	mov dx, 0x1cf
	out dx, ax
	jmp .vbe
.paint:
	xor bx, bx
.colour:                                ; DAC entry 0 := (bl, bh, bl ^ bh), 6 bits each
	mov dx, 0x3c8
	xor al, al
	out dx, al
	inc dx
	mov al, bl
	and al, 0x3f
	out dx, al
	mov al, bh
	and al, 0x3f
	out dx, al
	mov al, bl
	xor al, bh
	and al, 0x3f
	out dx, al
	add bx, 0x0305
%ifdef IDLE
.halt:
	hlt                             ; interrupts are off: the vCPU sleeps for good
	jmp .halt
%else
	jmp .colour
%endif

vbe_regs:
	dw 4, 0                         ; off while the mode changes
	dw 1, 1024
	dw 2, 768
	dw 3, 8
	dw 4, 0x41                      ; on, linear frame buffer (and VRAM cleared)
	dw 0

	times 510 - ($ - $$) db 0
	dw 0xaa55
	times 64 * 1024 - ($ - $$) db 0
