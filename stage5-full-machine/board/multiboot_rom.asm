; multiboot_rom.asm - the option ROM that starts a Multiboot kernel (board/multiboot.h).
;
; Teaches what a boot loader does once the files are in memory, and how a BIOS option ROM
; becomes a boot device. SeaBIOS finds this image as fw_cfg file genroms/multiboot.bin, copies
; it into the option ROM area, calls its init entry (offset 3) and, because its PnP header has
; a Boot Entry Vector (BEV), lists it as a boot device; the fw_cfg "bootorder" puts
; /rom@genroms/multiboot.bin first. When SeaBIOS boots it, in real mode, the BEV:
;   1. copies three fw_cfg items into RAM by fw_cfg DMA: the kernel image (KERNEL_*), the
;      modules (INITRD_*) and the Multiboot information (SETUP_*), each to the address its
;      *_ADDR item names (the host chose them, multiboot.c);
;   2. asks the BIOS for the memory map, INT 15h AX=E820h, straight into the MBI's mmap buffer
;      (entries of 24 bytes: a size field of 20, then base, length, type), so the kernel sees
;      SeaBIOS's own reservations too, and stores mmap_length;
;   3. loads a flat GDT, sets CR0.PE, far-returns into 32-bit code, loads flat data segments
;      and jumps to the kernel's entry (KERNEL_ENTRY) with EAX = 0x2BADB002, EBX = the MBI.
; A failed DMA prints one line on COM1 and returns to SeaBIOS, which tries the next device.
; The host fixes both checksums (the PnP header's and the image's last byte) when it adds the
; file. Assemble: nasm -f bin (board.mk).

bits 16
org 0

FW_CFG_SEL        equ 0x510
FW_CFG_DATA       equ 0x511
FW_CFG_DMA_HI     equ 0x514
FW_CFG_DMA_LO     equ 0x518
KERNEL_ADDR       equ 0x07
KERNEL_SIZE       equ 0x08
INITRD_ADDR       equ 0x0a
INITRD_SIZE       equ 0x0b
KERNEL_ENTRY      equ 0x10
KERNEL_DATA       equ 0x11
INITRD_DATA       equ 0x12
SETUP_ADDR        equ 0x16
SETUP_SIZE        equ 0x17
SETUP_DATA        equ 0x18
DMA_READ_SELECT   equ 0x0a             ; READ | SELECT
DMA_DESC          equ 0xff00           ; the DMA descriptor: 16 bytes just below the MBI
MBI_SEG           equ 0x1000           ; MB_INFO_GPA (0x10000) as a real-mode segment
MMAP_OFFSET       equ 0x100
MMAP_MAX          equ 32
MBI_MMAP_LENGTH   equ 44
COM1              equ 0x3f8

	db 0x55, 0xaa                   ; option ROM signature
	db 2                            ; size in 512-byte blocks
	jmp init                        ; offset 3: the init entry
	times 0x18 - ($ - $$) db 0
	dw 0                            ; 0x18: no PCI data structure (not a device's ROM)
	dw pnp                          ; 0x1a: the PnP expansion header

pnp:
	db '$PnP'
	db 1                            ; revision
	db 2                            ; length: 2 x 16 bytes
	dw 0                            ; no next header
	db 0
	db 0                            ; checksum (the host sets it)
	dd 0                            ; device identifier
	dw manufacturer
	dw product                      ; what SeaBIOS's boot menu shows
	db 0, 0, 0                      ; device type
	db 0x20                         ; indicator: an IPL (boot) device
	dw 0                            ; no BCV
	dw 0                            ; no disconnect vector
	dw boot                         ; BEV: SeaBIOS far-calls this to boot
	dw 0
	dw 0

manufacturer db 'minivisor', 0
product      db 'Multiboot kernel', 0
s_dma_error  db 'multiboot.bin: fw_cfg DMA failed', 13, 10, 0

init:                                   ; nothing to set up before boot
	retf

; EAX <- the 32-bit fw_cfg item AX (little-endian, read a byte at a time from the data port).
read32:
	mov dx, FW_CFG_SEL
	out dx, ax
	mov dx, FW_CFG_DATA
	xor eax, eax
	mov cx, 4
.byte:
	in al, dx
	ror eax, 8
	loop .byte
	ret

; Copy item SI (data) to the address in item BX, SIZE bytes from item DI, by fw_cfg DMA.
; CF set on a DMA error. An empty item (size 0) copies nothing.
dma_item:
	mov ax, di
	call read32
	test eax, eax
	jz .done
	bswap eax                       ; the descriptor is big-endian
	mov [DMA_DESC + 4], eax
	mov ax, bx
	call read32
	bswap eax
	mov dword [DMA_DESC + 8], 0     ; address, high half (below 4 GiB)
	mov [DMA_DESC + 12], eax
	movzx eax, si
	shl eax, 16
	or eax, DMA_READ_SELECT
	bswap eax
	mov [DMA_DESC], eax
	mov dx, FW_CFG_DMA_HI
	xor eax, eax
	out dx, eax
	mov dx, FW_CFG_DMA_LO
	mov eax, DMA_DESC
	bswap eax
	out dx, eax                     ; writing the low half starts the transfer
	cmp dword [DMA_DESC], 0         ; control reads 0 when done, bit 0 on an error
	jne .error
.done:
	clc
	ret
.error:
	stc
	ret

; The BIOS memory map into the MBI, as Multiboot wants it (a size field before each entry).
e820:
	push es
	mov ax, MBI_SEG
	mov es, ax
	mov di, MMAP_OFFSET + 4
	xor ebx, ebx
.next:
	mov eax, 0xe820
	mov ecx, 20
	mov edx, 0x534d4150             ; 'SMAP'
	int 0x15
	jc .done
	cmp eax, 0x534d4150
	jne .done
	mov dword [es:di - 4], 20
	add di, 24
	test ebx, ebx                   ; 0: that was the last entry
	jz .done
	cmp di, MMAP_OFFSET + 4 + MMAP_MAX * 24
	jb .next
.done:
	movzx eax, di
	sub eax, MMAP_OFFSET + 4
	mov [es:MBI_MMAP_LENGTH], eax
	pop es
	ret

boot:
	cli
	cld
	push ds
	xor ax, ax
	mov ds, ax
	mov bx, KERNEL_ADDR
	mov di, KERNEL_SIZE
	mov si, KERNEL_DATA
	call dma_item
	jc .fail
	mov bx, INITRD_ADDR
	mov di, INITRD_SIZE
	mov si, INITRD_DATA
	call dma_item
	jc .fail
	mov bx, SETUP_ADDR
	mov di, SETUP_SIZE
	mov si, SETUP_DATA
	call dma_item
	jc .fail
	call e820
	mov ax, KERNEL_ENTRY
	call read32
	mov ebp, eax                    ; the entry, kept across the switch

	cli
	xor ebx, ebx                    ; where this ROM is, linearly: CS * 16
	mov bx, cs
	shl ebx, 4
	sub sp, 8                       ; the GDT register image, on the stack (ROM is read-only)
	mov si, sp
	mov word [ss:si], gdt_end - gdt - 1
	lea eax, [ebx + gdt]
	mov [ss:si + 2], eax
	o32 lgdt [ss:si]                ; o32: all 32 bits of the base
	add sp, 8
	push dword 0x08                 ; the flat code segment ...
	lea eax, [ebx + pm32]
	push eax                        ; ... at our 32-bit code's linear address
	mov eax, cr0
	or al, 1                        ; PE: protected mode (paging stays off)
	mov cr0, eax
	o32 retf

.fail:
	mov si, s_dma_error
.putc:
	cs lodsb
	test al, al
	jz .back
	mov dx, COM1
	out dx, al
	jmp .putc
.back:
	pop ds
	retf                            ; SeaBIOS goes on with the next boot device

bits 32
pm32:
	mov ax, 0x10
	mov ds, ax
	mov es, ax
	mov fs, ax
	mov gs, ax
	mov ss, ax
	mov eax, 0x2badb002
	mov ebx, MBI_SEG << 4
	jmp ebp

align 8
gdt:
	dq 0
	dq 0x00cf9b000000ffff           ; 0x08: code, base 0, limit 4 GiB, 32-bit (accessed set:
	dq 0x00cf93000000ffff           ; 0x10: data   the CPU never writes to the ROM)
gdt_end:

	times 1023 - ($ - $$) db 0
	db 0                            ; the image's checksum byte (the host sets it)
