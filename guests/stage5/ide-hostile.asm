; ide-hostile.asm - a boot sector that sends the PIIX3 IDE controller bad requests.
;
; SeaBIOS loads it from the IDE disk (it is that disk's sector 0) and jumps here in real mode.
; It finds the bus master registers (BAR4 of the IDE function, 00:01.1) through the PCI
; configuration ports, then asks for:
;   bad-prd-table  READ DMA whose PRD table lies outside RAM
;   bad-prd-entry  READ DMA whose PRD entry points outside RAM
;   past-end       READ SECTORS of an LBA far past the end of the disk
;   good-dma       a correct READ DMA of sector 0 afterwards: the controller still works
;                  ("data=ok": the boot signature arrived)
; and prints, on COM1, each one's ATA status and error registers (and the bus master status
; for DMA), e.g. "bad-prd-table: status=41 error=04 bm=06". Then it powers the machine off
; through ACPI (PM1a_CNT: SLP_TYP 5 = S5, SLP_EN). The VMM must print one line per bad
; request and keep running. The only BIOS call loads sectors 1-3 (the code does not fit in
; 512 bytes; loading it is itself a PIO read through the controller); after that all is
; polled (nIEN set), straight at the ports.
;
; Real mode, 16-bit code: 32-bit registers (operand prefix) only for the PCI and PRD dwords.
; The image is 1 MiB: sectors 0-3 are this code, the rest zeros, so the disk is 2048 sectors.

bits 16
org 0x7c00

COM1      equ 0x3f8
ATA       equ 0x1f0          ; primary channel command block
ATA_ALT   equ 0x3f6          ; alternate status / device control
PM1A_CNT  equ 0x604
S5_SLEEP  equ (5 << 10) | 0x2000
PRD       equ 0x9800         ; our PRD table (past this guest and BUF, dword aligned)
BUF       equ 0x9000         ; where good-dma reads sector 0
%ifndef NOWHERE
NOWHERE   equ 0xf0000000     ; neither RAM nor anything else (ide-hole.img: in the PCI hole)
%endif
PCI_IDE   equ 0x80000900     ; CONFIG_ADDRESS of 00:01.1, register 0
REST_SECTORS equ 3           ; the code after the boot sector

%include "boot-sector.inc"

s_no_load   db "ide-hostile: cannot load sectors 1-3", 13, 10, 0

	times 510 - ($ - $$) db 0
	dw 0xaa55

; ---- sector 1 and on: loaded at 0x7e00 -----------------------------------------------------

main:
	cli
	mov dx, ATA_ALT
	mov al, 0x02                    ; nIEN: no interrupts, we poll
	out dx, al

	mov eax, PCI_IDE                ; vendor and device: Intel PIIX3 IDE?
	call pci_read
	cmp eax, 0x70108086
	jne no_ide
	mov eax, PCI_IDE + 0x20         ; BAR4: the bus master ports
	call pci_read
	and ax, 0xfffc
	jz no_ide
	mov [bm], ax
	mov eax, PCI_IDE + 0x04         ; command: I/O decode and bus mastering on
	call pci_read
	or al, 0x05
	mov ebx, eax
	mov eax, PCI_IDE + 0x04
	call pci_write

	mov eax, NOWHERE                ; 1: the table itself is not in RAM
	call dma_read
	mov si, s_bad_table
	call report_dma

	mov dword [PRD], NOWHERE        ; 2: an entry that points outside RAM
	mov dword [PRD + 4], 0x80000200 ; 512 bytes, end of table
	mov eax, PRD
	call dma_read
	mov si, s_bad_entry
	call report_dma

	mov ax, 0xefff                  ; 3: READ SECTORS at LBA 0x0fffffff
	mov bl, 0x20
	call task
	call wait_not_busy
	mov si, s_past_end
	call report_ata

	mov dword [PRD], BUF            ; 4: a good READ DMA of sector 0
	mov word [BUF + 510], 0
	mov eax, PRD
	call dma_read
	mov si, s_good
	call report_bm
	mov si, s_bad
	cmp word [BUF + 510], 0xaa55    ; our own boot signature came back?
	jne .said
	mov si, s_ok
.said:
	call puts
	call newline

	mov si, s_done
	call puts
	jmp power_off

no_ide:
	mov si, s_no_ide
	call puts
	jmp power_off

; READ DMA of sector 0 into the PRD table at eax, in Linux's order: table, direction,
; command, start. Leaves the bus master status in [bmstat].
dma_read:
	mov dx, [bm]
	add dx, 4
	out dx, eax                     ; PRD table address
	mov dx, [bm]
	mov al, 0x08                    ; direction: into memory; stopped
	out dx, al
	add dx, 2
	mov al, 0x06                    ; clear error and interrupt
	out dx, al
	mov ax, 0xe000                  ; LBA mode, device 0, LBA 0
	mov bl, 0xc8                    ; READ DMA
	call task
	mov dx, [bm]
	mov al, 0x09                    ; start
	out dx, al
	call wait_not_busy
	mov dx, [bm]
	add dx, 2
	in al, dx
	mov [bmstat], al
	mov dx, [bm]
	xor al, al                      ; stop
	out dx, al
	ret

; A command of one sector: LBA bits 23:0 all al, device register ah, command bl.
task:
	mov dx, ATA + 2
	push ax
	mov al, 1
	out dx, al
	pop ax
	mov cx, 3
.lba:
	inc dx
	out dx, al
	loop .lba
	inc dx
	mov al, ah
	out dx, al
	inc dx
	mov al, bl
	out dx, al
	ret

; A short bounded poll: the VMM finishes each command inside the port write anyway.
wait_not_busy:
	mov cx, 1000
	mov dx, ATA_ALT
.poll:
	in al, dx
	test al, 0x80
	jz .ready
	loop .poll
.ready:
	ret

%include "guest-lib.inc"

; "label: status=XX error=XX" (and " bm=X" for DMA, the low three bits), then a new line.
report_dma:
	call report_bm
	jmp newline
report_bm:
	call report_regs
	mov si, s_bm
	call puts
	mov al, [bmstat]
	and al, 0x07
	jmp puthex
report_ata:
	call report_regs
	jmp newline

report_regs:
	call puts
	mov si, s_status
	call puts
	mov dx, ATA + 7
	in al, dx
	call puthex
	mov si, s_error
	call puts
	mov dx, ATA + 1
	in al, dx
	jmp puthex


s_bad_table db "bad-prd-table", 0
s_bad_entry db "bad-prd-entry", 0
s_past_end  db "past-end", 0
s_good      db "good-dma", 0
s_status    db ": status=", 0
s_error     db " error=", 0
s_bm        db " bm=", 0
s_ok        db " data=ok", 0
s_bad       db " data=BAD", 0
s_done      db "ide-hostile: done", 13, 10, 0
s_no_ide    db "ide-hostile: no IDE bus master", 13, 10, 0

bm      dw 0
bmstat  db 0

	times 512 * (1 + REST_SECTORS) - ($ - $$) db 0
	times 1024 * 1024 - ($ - $$) db 0
