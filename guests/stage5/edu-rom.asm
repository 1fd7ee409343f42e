; edu-rom.asm - a 2 KiB PCI expansion ROM for QEMU's edu device (vendor 1234, device 11e8),
; given to it in the nested host (L0's QEMU: -device edu,romfile=...). It checks the ROM path
; of minivisor's passthrough (stage5-full-machine/vfio/): minivisor reads the device's ROM
; region through VFIO and hands it to SeaBIOS as the fw_cfg file "pci1234,11e8.rom", where
; SeaBIOS looks for a PCI device's option ROM; SeaBIOS copies it below 1 MiB and calls its
; init entry during POST, which prints one line on COM1 and returns.
;
; What it teaches: the option ROM format. Offset 0: 55 AA, the size in 512-byte blocks, the
; init entry (a far call target at offset 3); 0x18: where the PCI data structure is ("PCIR":
; vendor, device, class, image length, code type, last-image flag; Linux's pci_map_rom walks
; these to size the ROM); 0x1a: no PnP header (SeaBIOS calls such a ROM at once). The bytes
; of the image sum to 0 mod 256: guests.mk sets the last byte (nasm cannot sum its output).

bits 16
org 0
BLOCKS equ 4                            ; 2 KiB: a ROM BAR's smallest size

	db 0x55, 0xaa
	db BLOCKS
	jmp init                        ; offset 3: SeaBIOS far-calls here
	times 0x18 - ($ - $$) db 0
	dw pcir                         ; 0x18: the PCI data structure
	dw 0                            ; 0x1a: no PnP expansion header

pcir:
	db 'PCIR'
	dw 0x1234, 0x11e8               ; vendor, device: edu
	dw 0                            ; no device list
	dw 24                           ; this structure's length
	db 0                            ; its revision
	db 0x00, 0x00, 0xff             ; class code: none in particular
	dw BLOCKS                       ; image length
	dw 1                            ; code revision
	db 0                            ; code type: x86, PC-AT compatible
	db 0x80                         ; the last image
	dw 0

init:
	push ax
	push dx
	push si
	mov si, msg
	mov dx, 0x3f8                   ; COM1: minivisor's UART, its stdout
.next:
	cs lodsb
	test al, al
	jz .done
	out dx, al
	jmp .next
.done:
	pop si
	pop dx
	pop ax
	retf

msg	db "edu-rom: the expansion ROM ran (fw_cfg pci1234,11e8.rom)", 13, 10, 0

	times BLOCKS * 512 - 1 - ($ - $$) db 0
	db 0                            ; checksum: set by guests.mk
