; guests/stage5/uhci-hostile.asm - a boot sector that hands the UHCI controller (usb/uhci.c) a
; looping schedule and pointers outside RAM, then a good control transfer, and checks each
; answer.
;
; SeaBIOS loads it from an IDE disk on machine pc (minivisor -device piix3-usb-uhci with a USB
; stick on port 1: the controller at 00:01.2, its registers in I/O BAR4) and jumps here in real
; mode. Before each test the controller is reset (USBCMD.HCRESET) and set up again: a frame
; list whose 1024 entries all point at one QH, port 1 reset and enabled, run. Each test prints
; "uhci-hostile: NAME: ok" (or FAILED) on COM1:
;   qh-loop         the QH's link points at the QH itself: the controller walks a bounded part
;                   of it each frame and runs on (FRNUM advances, no error)
;   td-outside      the QH's element is a TD at 0xfff00000 (the BIOS ROM): Host System Error
;   frames-outside  the frame list at 0xfff00000: Host System Error
;   good-transfer   then GET_DESCRIPTOR(DEVICE) as SETUP, IN, IN, IN, OUT TDs: 18 bytes read
; The VMM says one line for each bad one and runs on. Then the guest powers off.
; Real mode, 16-bit code; the schedule lives in the first 64 KiB. Image: 1 MiB.

bits 16
org 0x7c00

COM1      equ 0x3f8
PM1A_CNT  equ 0x604
S5_SLEEP  equ (5 << 10) | 0x2000
PCI_UHCI  equ 0x80000a00         ; CONFIG_ADDRESS of 00:01.2, register 0
REST_SECTORS equ 3
NOWHERE   equ 0xfff00000

USBCMD  equ 0x00
USBSTS  equ 0x02
FRNUM   equ 0x06
FLBASE  equ 0x08
PORTSC1 equ 0x10
STS_HSE equ 1 << 3

FRAMES  equ 0x9000               ; the frame list: 4 KiB, 4 KiB aligned
QH      equ 0xa000
TDS     equ 0xa100               ; 5 TDs, 16 bytes each
BUF     equ 0xa200
ACTIVE  equ 1 << 23

%include "boot-sector.inc"

s_no_load   db "uhci-hostile: cannot load sectors 1-3", 13, 10, 0

	times 510 - ($ - $$) db 0
	dw 0xaa55

; ---- sector 1 and on: loaded at 0x7e00 -----------------------------------------------------

main:
	mov eax, PCI_UHCI
	call pci_read
	cmp eax, 0x70208086
	jne no_uhci
	mov eax, PCI_UHCI + 0x20        ; BAR4: the I/O ports
	call pci_read
	and ax, 0xffe0
	mov [io], ax
	mov eax, PCI_UHCI + 4           ; command: I/O, bus master
	mov ebx, 5
	call pci_write

	; 1: a QH that links to itself
	mov si, s_qh_loop
	call hc_start
	mov dword [QH], QH | 2          ; next: this QH
	mov dword [QH + 4], 1           ; no TDs
	mov bx, FRNUM
	call rd16
	mov cx, ax
	call wait_frames
	mov bx, FRNUM
	call rd16
	cmp ax, cx                      ; frames went on ...
	je .loop_failed
	mov bx, USBSTS
	call rd16
	test al, 0x3a                   ; ... with no error, not halted
	jnz .loop_failed
	call ok
	jmp .test2
.loop_failed:
	call failed

.test2:	; 2: a TD outside RAM
	mov si, s_td_outside
	call hc_start
	mov dword [QH + 4], NOWHERE
	call wait_frames
	call expect_hse

	; 3: the frame list outside RAM
	mov si, s_frames_outside
	mov dword [frames], NOWHERE
	call hc_start
	mov dword [frames], FRAMES
	call wait_frames
	call expect_hse

	; 4: GET_DESCRIPTOR(DEVICE), 18 bytes, by TDs in the QH
	mov si, s_good
	call hc_start
	mov dword [BUF], 0x01000680
	mov dword [BUF + 4], 0x00120000
	mov byte [BUF + 0x100], 0
	mov di, TDS
	mov eax, 0x00e0002d             ; SETUP, 8 bytes (MaxLen 7)
	mov ebx, BUF
	call put_td
	mov eax, 0x00e00069             ; IN, 8 bytes
	mov ebx, BUF + 0x100
	call put_td
	mov ebx, BUF + 0x108
	call put_td
	mov ebx, BUF + 0x110
	call put_td
	mov eax, 0xffe000e1             ; OUT, no data: the status stage
	xor ebx, ebx
	call put_td
	mov dword [di - 16], 1          ; the last TD ends the queue
	mov dword [QH + 4], TDS
	call wait_frames
	test dword [TDS + 4 * 16 + 4], ACTIVE
	jnz .good_failed
	cmp byte [BUF + 0x100], 18      ; bLength of a device descriptor
	jne .good_failed
	call ok
	jmp .done
.good_failed:
	call failed
.done:
	mov si, s_done
	call puts
	jmp power_off

no_uhci:
	mov si, s_no_uhci
	call puts
	jmp power_off

; ---- the controller --------------------------------------------------------------------------

; Note the test's name (SI); reset the controller; the frame list -> QH (terminated, empty);
; port 1 reset and enabled; run.
hc_start:
	mov [cur_name], si
	mov bx, USBCMD
	mov ax, 2                       ; HCRESET
	call wr16
	mov di, FRAMES
	mov eax, QH | 2
	mov cx, 1024
	rep stosd
	mov dword [QH], 1
	mov dword [QH + 4], 1
	mov bx, FLBASE
	mov eax, [frames]
	call wr32
	mov bx, PORTSC1
	mov ax, 1 << 9                  ; port reset ...
	call wr16
	xor ax, ax                      ; ... ended
	call wr16
	mov ax, 1 << 2                  ; enabled
	call wr16
	mov bx, USBCMD
	mov ax, 1                       ; run
	jmp wr16

; A TD at DI: link to the next (DI + 16), active, token EAX, buffer EBX; DI moves on.
put_td:
	lea edx, [di + 16]
	mov [di], edx
	mov dword [di + 4], ACTIVE
	mov [di + 8], eax
	mov [di + 12], ebx
	add di, 16
	ret

; Let some frames go by: the frame counter moves 8 times (one a millisecond).
wait_frames:
	push cx
	mov cx, 8
.next:	push cx
	mov bx, FRNUM
	call rd16
	mov cx, ax
	mov si, 1024
.spin:	dec si                          ; at most 1024 reads (a frame is a few): halted
	jz .gone
	call rd16
	cmp ax, cx
	je .spin
	pop cx
	loop .next
	pop cx
	ret
.gone:	pop cx                          ; it stopped counting: no more waiting
	pop cx
	ret

expect_hse:
	mov bx, USBSTS
	call rd16
	test al, STS_HSE
	jz failed
%include "verdict.inc"

rd16:
	mov dx, [io]
	add dx, bx
	in ax, dx
	ret
wr16:
	mov dx, [io]
	add dx, bx
	out dx, ax
	ret
wr32:
	mov dx, [io]
	add dx, bx
	out dx, eax
	ret

%include "guest-lib.inc"

io           dw 0
cur_name     dw 0
frames       dd FRAMES
s_prefix     db "uhci-hostile: ", 0
s_qh_loop    db "qh-loop: ", 0
s_td_outside db "td-outside: ", 0
s_frames_outside db "frames-outside: ", 0
s_good       db "good-transfer: ", 0
s_done       db "uhci-hostile: done", 13, 10, 0
s_no_uhci    db "uhci-hostile: no UHCI at 00:01.2", 13, 10, 0

	times 4 * 512 - ($ - $$) db 0
	times 1024 * 1024 - ($ - $$) db 0
