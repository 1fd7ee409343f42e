; vga-hostile.asm - a boot sector that hands the standard VGA (display/std_vga.c) bad values.
;
; SeaBIOS loads it from an IDE disk on machine pc and jumps here in real mode, after its VGA
; BIOS has set text mode 3. It finds the VGA at 00:02.0 (1234:1111) through the PCI
; configuration ports, then, through the Bochs VBE ports 0x1ce/0x1cf and the VGA ports:
;   mode        a resolution past every limit (0xfff8 x 0xffff at 32 bpp), switched on
;   bpp         99 bits per pixel
;   virt-width  a virtual width of 0xffff pixels (65535 * 4 bytes a line: past VRAM)
;   y-offset    a display start 0xffff lines down
;   bank        a 64 KiB bank 256 MiB into a 16 MiB VRAM, then a byte through the window
;   vga-index   sequencer, graphics and CRT controller indexes past their register files
;   bar-over-ram the VRAM BAR moved onto RAM at 16 MiB; RAM must still hold what it held
; and prints, on COM1, what it reads back, e.g. "mode: 0a00 0640 0020". Then it powers the
; machine off through ACPI. The VMM must refuse each one in a line of its own and run on.
;
; Real mode, 16-bit code: 32-bit registers (operand prefix) only for the PCI dwords. The
; image is 1 MiB: sectors 0-3 are this code, the rest zeros.

bits 16
org 0x7c00

COM1      equ 0x3f8
PM1A_CNT  equ 0x604
S5_SLEEP  equ (5 << 10) | 0x2000
PCI_VGA   equ 0x80001000         ; CONFIG_ADDRESS of 00:02.0, register 0
VBE_INDEX equ 0x1ce
VBE_DATA  equ 0x1cf
VBE_XRES  equ 1
VBE_YRES  equ 2
VBE_BPP   equ 3
VBE_ENABLE equ 4
VBE_BANK  equ 5
VBE_VIRT_WIDTH equ 6
VBE_Y_OFFSET equ 9
REST_SECTORS equ 3
RAM_16M   equ 0x01000000

%include "boot-sector.inc"

s_no_load   db "vga-hostile: cannot load sectors 1-3", 13, 10, 0

	times 510 - ($ - $$) db 0
	dw 0xaa55

; ---- sector 1 and on: loaded at 0x7e00 -----------------------------------------------------

main:
	mov eax, PCI_VGA                ; vendor and device: the standard VGA?
	call pci_read
	cmp eax, 0x11111234
	jne no_vga
	mov eax, PCI_VGA + 0x10         ; BAR0: where VRAM is
	call pci_read
	mov [bar0], eax

	; 1: a mode past every limit
	mov bx, VBE_XRES
	mov ax, 0xfff8
	call vbe_write
	mov bx, VBE_YRES
	mov ax, 0xffff
	call vbe_write
	mov bx, VBE_BPP
	mov ax, 32
	call vbe_write
	mov bx, VBE_ENABLE
	mov ax, 0x41                    ; enabled, linear frame buffer
	call vbe_write
	mov si, s_mode
	call puts
	mov bx, VBE_XRES
	call say_reg
	mov bx, VBE_YRES
	call say_reg
	mov bx, VBE_BPP
	call say_reg
	call newline

	; 2: bits per pixel that no mode has
	mov bx, VBE_ENABLE
	xor ax, ax
	call vbe_write
	mov bx, VBE_BPP
	mov ax, 99
	call vbe_write
	mov bx, VBE_ENABLE
	mov ax, 0x41
	call vbe_write
	mov si, s_bpp
	call puts
	mov bx, VBE_BPP
	call say_reg
	call newline

	; 3: a virtual screen wider than VRAM holds
	mov bx, VBE_VIRT_WIDTH
	mov ax, 0xffff
	call vbe_write
	mov si, s_virt
	call puts
	mov bx, VBE_VIRT_WIDTH
	call say_reg
	call newline

	; 4: a display start far past the end of VRAM
	mov bx, VBE_Y_OFFSET
	mov ax, 0xffff
	call vbe_write
	mov si, s_yoff
	call puts
	mov bx, VBE_Y_OFFSET
	call say_reg
	call newline

	; 5: a bank past VRAM; the window then still writes bank 0
	mov bx, VBE_BANK
	mov ax, 0x1000                  ; 4096 * 64 KiB = 256 MiB
	call vbe_write
	mov si, s_bank
	call puts
	mov bx, VBE_BANK
	call say_reg
	push es
	mov ax, 0xa000
	mov es, ax
	mov byte [es:0x10], 0x5a
	mov al, ' '
	call putc
	mov al, [es:0x10]
	pop es
	call puthex
	call newline

	mov bx, VBE_ENABLE              ; back to VGA text mode for the rest
	xor ax, ax
	call vbe_write

	; 6: register indexes past each file
	mov si, s_index
	call puts
	mov dx, 0x3c4
	mov al, 0x55
	mov ah, 0xaa
	out dx, ax                      ; sequencer index 0x55, data 0xaa
	inc dx
	in al, dx
	call puthex
	mov al, ' '
	call putc
	mov dx, 0x3ce
	mov ax, 0xaaee                  ; graphics controller index 0xee
	out dx, ax
	inc dx
	in al, dx
	call puthex
	mov al, ' '
	call putc
	mov dx, 0x3d4
	mov ax, 0xaa7f                  ; CRT controller index 0x7f
	out dx, ax
	inc dx
	in al, dx
	call puthex
	call newline

	; 7: VRAM's BAR onto RAM at 16 MiB (BARs are 16 MiB aligned). Real mode reaches it through
	; the BIOS's block move (INT 15h AH=87h): a marker goes there first and is read back after.
	mov eax, marker
	mov ebx, RAM_16M
	call move_dword
	mov eax, PCI_VGA + 0x10
	mov ebx, RAM_16M
	call pci_write
	mov eax, RAM_16M
	mov ebx, readback
	call move_dword
	mov si, s_bar
	call puts
	mov si, s_ram_bad
	mov eax, [readback]
	cmp eax, [marker]               ; still RAM, unchanged?
	jne .said
	mov si, s_ram_ok
.said:
	call puts
	call newline
	mov eax, PCI_VGA + 0x10         ; and back where the firmware put it
	mov ebx, [bar0]
	call pci_write

	mov si, s_done
	call puts
	jmp power_off

no_vga:
	mov si, s_no_vga
	call puts
	jmp power_off

vbe_write:                              ; bx: index, ax: value
	push ax
	mov dx, VBE_INDEX
	mov ax, bx
	out dx, ax
	pop ax
	mov dx, VBE_DATA
	out dx, ax
	ret

say_reg:                                ; bx: index -> " XXXX"
	mov dx, VBE_INDEX
	mov ax, bx
	out dx, ax
	mov dx, VBE_DATA
	in ax, dx
	push ax
	mov al, ' '
	call putc
	pop ax
	push ax
	mov al, ah
	call puthex
	pop ax
	jmp puthex

; Copy 4 bytes from linear address eax to ebx with INT 15h AH=87h (es:si: the descriptors).
move_dword:
	mov [gdt + 0x12], ax            ; source base 15:0, 23:16, 31:24
	shr eax, 16
	mov [gdt + 0x14], al
	mov [gdt + 0x17], ah
	mov [gdt + 0x1a], bx            ; destination base
	shr ebx, 16
	mov [gdt + 0x1c], bl
	mov [gdt + 0x1f], bh
	mov si, gdt
	mov cx, 2                       ; words
	mov ah, 0x87
	int 0x15
	ret

%include "guest-lib.inc"

bar0        dd 0
marker      dd 0x1234abcd
readback    dd 0
gdt         times 16 db 0           ; null, and the GDT's own (the BIOS fills it)
	dw 0xffff, 0                    ; source: limit, base 15:0
	db 0, 0x93, 0, 0                ; base 23:16, data read/write, limit 19:16, base 31:24
	dw 0xffff, 0                    ; destination
	db 0, 0x93, 0, 0
	times 16 db 0                   ; the BIOS's code and stack segments
s_mode      db "mode:", 0
s_bpp       db "bpp:", 0
s_virt      db "virt-width:", 0
s_yoff      db "y-offset:", 0
s_bank      db "bank:", 0
s_index     db "vga-index: ", 0
s_bar       db "bar-over-ram: ", 0
s_ram_ok    db "ram=ok", 0
s_ram_bad   db "ram=CHANGED", 0
s_done      db "vga-hostile: done", 13, 10, 0
s_no_vga    db "vga-hostile: no standard VGA at 00:02.0", 13, 10, 0

	times 4 * 512 - ($ - $$) db 0
	times 1024 * 1024 - ($ - $$) db 0
