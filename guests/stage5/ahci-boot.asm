; guests/stage5/ahci-boot.asm - a boot sector that reads sector 1 of its disk through INT 13h
; (SeaBIOS's AHCI driver, on -M q35) and prints it on COM1, then resets (which ends the VMM).
; tests/checks/stage5-ahci.sh puts "ahci-boot: sector 1 read through AHCI" in sector 1.
bits 16
org 0x7c00
	xor ax, ax
	mov ds, ax
	mov ss, ax
	mov sp, 0x7c00
	mov si, dap
	mov ah, 0x42		; extended read: LBA 1 to 0:0x8000
	int 0x13
	mov si, failed
	jc print
	mov si, 0x8000
print:	mov dx, 0x3f8
.next:	lodsb
	test al, al
	jz done
	out dx, al
	jmp .next
done:	mov al, 0xfe		; reset: the VMM stops
	out 0x64, al
	hlt
dap:	db 16, 0
	dw 1
	dw 0x8000, 0
	dq 1
failed:	db "ahci-boot: INT 13h read failed", 13, 10, 0
	times 510 - ($ - $$) db 0
	dw 0xaa55
