; guests/stage5/xhci-hostile.asm - a boot sector that hands the xHCI controller (usb/xhci.c)
; bad rings, contexts, buffers and a bad CBW, then a good transfer, and checks each answer.
;
; SeaBIOS loads it from an IDE disk on machine pc (minivisor -device qemu-xhci with a USB stick
; on port 1: the controller at 00:0d.0) and jumps here in real mode. The registers are above
; 1 MiB: "unreal mode" (FS keeps a 4 GiB limit after protected mode is left) reaches them.
; Before each test the controller is reset (USBCMD.HCRST) and set up again: DCBAA, command
; ring, one event ring segment of 16 TRBs, run. Each test prints "xhci-hostile: NAME: ok" (or
; FAILED) on COM1:
;   doorbell-no-slot   a doorbell for slot 3, never enabled: a Transfer Event, Slot Not Enabled
;   cmd-link-loop      a command ring whose Link TRB points at itself: Host Controller Error
;   cmd-ring-outside   a command ring at 0xfff00000 (the BIOS ROM, not RAM): Host System Error
;   tr-ring-outside    endpoint 0's transfer ring outside RAM: Host System Error
;   tr-link-loop       endpoint 0's ring a Link TRB loop: a Transfer Event with TRB Error
;   buffer-outside     GET_DESCRIPTOR into a buffer outside RAM: Host System Error
;   bad-cbw            a CBW with signature "XSBC" on the stick's bulk OUT: Stall Error
;   event-ring-full    16 No-Op commands while ERDP stays put: 15 completions, then a Host
;                      Controller Event with Event Ring Full Error in the last free TRB; after
;                      the guest moves ERDP, the next command completes again
;   good-transfer      then GET_DESCRIPTOR into RAM: Success, 18 bytes of device descriptor
; The VMM says one line for each bad one and runs on. Then the guest powers off.
; Real mode, 16-bit code; the guest's structures live in the first 64 KiB. Image: 1 MiB.

bits 16
org 0x7c00

COM1      equ 0x3f8
PM1A_CNT  equ 0x604
S5_SLEEP  equ (5 << 10) | 0x2000
PCI_XHCI  equ 0x80006800         ; CONFIG_ADDRESS of 00:0d.0, register 0
REST_SECTORS equ 5
NOWHERE   equ 0xfff00000

USBCMD  equ 0x40
USBSTS  equ 0x44
CRCR    equ 0x58
DCBAAP  equ 0x70
CONFIG  equ 0x78
ERSTSZ  equ 0x1028
ERSTBA  equ 0x1030
ERDP    equ 0x1038
DB0     equ 0x2000
STS_HSE equ 1 << 2
STS_HCE equ 1 << 12

DCBAA   equ 0x9000
CMDRING equ 0x9400
ERST    equ 0x9800
EVRING  equ 0xa000               ; 16 event TRBs
INCTX   equ 0xa400               ; input context (33 x 32 bytes)
OUTCTX  equ 0xa800               ; device context of slot 1
EP0RING equ 0xb000
BULK    equ 0xb400               ; endpoint 2 OUT's ring
DATA    equ 0xb800

%include "boot-sector.inc"

s_no_load   db "xhci-hostile: cannot load sectors 1-5", 13, 10, 0

	times 510 - ($ - $$) db 0
	dw 0xaa55

; ---- sector 1 and on: loaded at 0x7e00 -----------------------------------------------------

main:
	cli
	lgdt [gdt_desc]                 ; unreal mode: FS with a 4 GiB limit
	mov eax, cr0
	or al, 1
	mov cr0, eax
	mov bx, 8
	mov fs, bx
	and al, 0xfe
	mov cr0, eax
	xor bx, bx
	mov fs, bx
	mov eax, PCI_XHCI
	call pci_read
	cmp eax, 0x000d1b36
	jne no_xhci
	mov eax, PCI_XHCI + 0x10        ; BAR0: the registers
	call pci_read
	and eax, 0xfffffff0
	mov ebp, eax                    ; EBP: the registers, all along
	mov eax, PCI_XHCI + 4           ; command: memory, bus master
	mov ebx, 6
	call pci_write

	; 1: a doorbell for a slot never enabled
	mov si, s_no_slot
	call hc_start
	mov ebx, DB0 + 3 * 4
	mov eax, 1
	call wr
	mov al, 32                      ; Transfer Event ...
	mov ah, 11                      ; ... Slot Not Enabled Error
	xor bx, bx
	call expect_event

	; 2: a command ring Link TRB that points at itself
	mov si, s_cmd_loop
	call hc_start
	mov eax, CMDRING
	mov ebx, (6 << 10) | 1          ; Link, cycle 1, no toggle
	mov di, CMDRING
	call put_trb
	call ring_db0
	mov ecx, STS_HCE
	call expect_status

	; 3: a command ring outside RAM
	mov si, s_cmd_outside
	mov dword [crcr_value], NOWHERE | 1
	call hc_start
	mov dword [crcr_value], CMDRING | 1
	call ring_db0
	mov ecx, STS_HSE
	call expect_status

	; 4: endpoint 0's transfer ring outside RAM
	mov si, s_tr_outside
	call hc_start
	mov dword [ep0_dequeue], NOWHERE | 1
	call address_slot
	mov dword [ep0_dequeue], EP0RING | 1
	call ring_ep0
	mov ecx, STS_HSE
	call expect_status

	; 5: endpoint 0's ring: a Link TRB loop
	mov si, s_tr_loop
	call hc_start
	call address_slot
	mov eax, EP0RING
	mov ebx, (6 << 10) | 1
	mov di, EP0RING
	call put_trb
	call ring_ep0
	mov al, 32
	mov ah, 5                       ; TRB Error
	mov bx, 2 * 16                  ; after the two command completions
	call expect_event

	; 6: GET_DESCRIPTOR into a buffer outside RAM
	mov si, s_buf_outside
	call hc_start
	call address_slot
	mov dword [data_buffer], NOWHERE
	call get_descriptor
	mov dword [data_buffer], DATA
	call ring_ep0
	mov ecx, STS_HSE
	call expect_status

	; 7: a CBW with a bad signature on the stick's bulk OUT endpoint
	mov si, s_bad_cbw
	call hc_start
	call address_slot
	call configure_bulk
	mov dword [DATA], 0x43425358    ; "XSBC"
	mov eax, DATA
	mov ebx, (1 << 10) | (1 << 5) | 1   ; Normal, IOC, cycle 1
	mov ecx, 31
	mov di, BULK
	call put_trb_len
	mov ebx, DB0 + 4
	mov eax, 4                      ; DCI 4: endpoint 2 OUT
	call wr
	mov al, 32
	mov ah, 6                       ; Stall Error
	mov bx, 3 * 16
	call expect_event

	; 8: an event ring the guest never reads
	mov si, s_ev_full
	call hc_start
	mov di, CMDRING
.noops:                                 ; DI: CMDRING .. CMDRING + 15 * 16 (put_trb uses ECX)
	xor eax, eax
	mov ebx, (23 << 10) | 1         ; No Op Command
	call put_trb
	add di, 16
	cmp di, CMDRING + 16 * 16
	jb .noops
	call ring_db0
	mov al, 37                      ; Host Controller Event ...
	mov ah, 21                      ; ... Event Ring Full Error
	mov bx, 15 * 16                 ; in the last free TRB
	call expect_event_quiet
	jc .full_failed
	cmp dword [EVRING + 14 * 16], CMDRING + 14 * 16   ; the 15th completion, in place
	jne .full_failed
	mov ebx, ERDP                   ; read them all: back at the start (EHB written 1)
	mov eax, EVRING | 8
	call wr
	xor eax, eax                    ; a 17th command (the 16th's completion was dropped)
	mov ebx, (23 << 10) | 1
	call put_trb                    ; DI: CMDRING + 16 * 16, after the loop
	call ring_db0
	cmp dword [EVRING], CMDRING + 16 * 16  ; its completion, in the next lap
	jne .full_failed
	test byte [EVRING + 12], 1
	jnz .full_failed
	call ok
	jmp .good
.full_failed:
	call failed

.good:
	; 9: after all that, a good GET_DESCRIPTOR
	mov si, s_good
	call hc_start
	call address_slot
	mov byte [DATA], 0
	call get_descriptor
	call ring_ep0
	mov al, 32
	mov ah, 1                       ; Success
	mov bx, 2 * 16
	call expect_event_quiet
	jc .good_failed
	cmp byte [DATA], 18             ; bLength of a device descriptor
	jne .good_failed
	call ok
	jmp .done
.good_failed:
	call failed
.done:
	mov si, s_done
	call puts
	jmp power_off

no_xhci:
	mov si, s_no_xhci
	call puts
	jmp power_off

; ---- the controller ----------------------------------------------------------------------------

; Note the test's name (SI), reset the controller, clear our structures, set it up and run.
hc_start:
	mov [cur_name], si              ; printed with the verdict, after the VMM's line
	mov ebx, USBCMD
	mov eax, 2                      ; HCRST
	call wr
	push di
	xor eax, eax                    ; DCBAA .. DATA + 256: zeros
	mov di, DCBAA
	mov cx, (DATA + 256 - DCBAA) / 4
	rep stosd
	pop di
	mov dword [ERST], EVRING
	mov dword [ERST + 8], 16
	mov dword [DCBAA + 8], OUTCTX
	mov ebx, CONFIG
	mov eax, 8
	call wr
	mov ebx, DCBAAP
	mov eax, DCBAA
	call wr
	mov ebx, CRCR
	mov eax, [crcr_value]
	call wr
	mov ebx, ERSTSZ
	mov eax, 1
	call wr
	mov ebx, ERSTBA
	mov eax, ERST
	call wr
	mov ebx, ERSTBA + 4
	xor eax, eax
	call wr
	mov ebx, ERDP
	mov eax, EVRING
	call wr
	mov ebx, USBCMD
	mov eax, 1                      ; run (no interrupts: this guest polls)
	jmp wr

; Enable Slot, then Address Device (with SET_ADDRESS) of port 1, endpoint 0's ring at
; [ep0_dequeue]. Events 0 and 1 are their completions.
address_slot:
	xor eax, eax
	mov ebx, (9 << 10) | 1          ; Enable Slot
	mov di, CMDRING
	call put_trb
	mov dword [INCTX + 4], 3        ; add: slot, endpoint 0
	mov dword [INCTX + 0x20 + 4], 1 << 16        ; root hub port 1
	mov dword [INCTX + 0x40 + 4], (4 << 3) | (64 << 16)   ; control, 64-byte packets
	mov eax, [ep0_dequeue]
	mov [INCTX + 0x40 + 8], eax
	mov eax, INCTX
	mov ebx, (11 << 10) | (1 << 24) | 1   ; Address Device, slot 1
	mov di, CMDRING + 16
	call put_trb
	jmp ring_db0

; Configure Endpoint: endpoint 2 OUT (DCI 4), bulk, 512-byte packets, its ring at BULK.
; Event 2 is its completion.
configure_bulk:
	push di
	xor eax, eax
	mov di, INCTX
	mov cx, 0x420 / 4
	rep stosd
	pop di
	mov dword [INCTX + 4], (1 << 4) | 1
	mov dword [INCTX + 0x20], 4 << 27            ; context entries
	mov dword [INCTX + 0xa0 + 4], (2 << 3) | (512 << 16)
	mov dword [INCTX + 0xa0 + 8], BULK | 1
	mov eax, INCTX
	mov ebx, (12 << 10) | (1 << 24) | 1
	mov di, CMDRING + 32
	call put_trb
	jmp ring_db0

; Endpoint 0's ring: GET_DESCRIPTOR(DEVICE) of 18 bytes into [data_buffer].
get_descriptor:
	mov dword [EP0RING], 0x01000680              ; IN, standard, device; GET_DESCRIPTOR; DEVICE
	mov dword [EP0RING + 4], 0x00120000          ; 18 bytes
	mov dword [EP0RING + 8], 8
	mov dword [EP0RING + 12], (2 << 10) | (1 << 6) | (3 << 16) | 1   ; Setup, IDT, IN data
	mov eax, [data_buffer]
	mov ebx, (3 << 10) | (1 << 16) | 1           ; Data, IN
	mov ecx, 18
	mov di, EP0RING + 16
	call put_trb_len
	xor eax, eax
	mov ebx, (4 << 10) | (1 << 5) | 1            ; Status, IOC
	mov di, EP0RING + 32
	jmp put_trb

ring_db0:
	mov ebx, DB0
	xor eax, eax
	jmp wr

ring_ep0:
	mov ebx, DB0 + 4
	mov eax, 1
	jmp wr

; A TRB at DI: parameter EAX (high half 0), status 0 (or ECX with put_trb_len), control EBX.
put_trb:
	xor ecx, ecx
put_trb_len:
	mov [di], eax
	mov dword [di + 4], 0
	mov [di + 8], ecx
	mov [di + 12], ebx
	ret

; The controller's register EBX (from BAR0) = EAX / -> EAX.
wr:
	mov [fs:ebp + ebx], eax
	ret
rd:
	mov eax, [fs:ebp + ebx]
	ret

; USBSTS has the bits of ECX: "ok", else "FAILED".
expect_status:
	mov ebx, USBSTS
	call rd
	and eax, ecx
	cmp eax, ecx
	je ok
	jmp failed

; The event at EVRING + BX has type AL and completion code AH: "ok", else "FAILED".
expect_event:
	call expect_event_quiet
	jc failed
%include "verdict.inc"

; The same, silent: carry set when it does not match.
expect_event_quiet:
	mov cl, [EVRING + bx + 13]
	shr cl, 2
	cmp cl, al
	jne .no
	cmp [EVRING + bx + 11], ah
	jne .no
	clc
	ret
.no:
	stc
	ret

%include "guest-lib.inc"

gdt:	dq 0
	dq 0x008f92000000ffff           ; data: base 0, limit 4 GiB (G), writable
gdt_desc:
	dw gdt_desc - gdt - 1
	dd gdt
cur_name     dw 0
crcr_value   dd CMDRING | 1
ep0_dequeue  dd EP0RING | 1
data_buffer  dd DATA
s_prefix     db "xhci-hostile: ", 0
s_no_slot    db "doorbell-no-slot: ", 0
s_cmd_loop   db "cmd-link-loop: ", 0
s_cmd_outside db "cmd-ring-outside: ", 0
s_tr_outside db "tr-ring-outside: ", 0
s_tr_loop    db "tr-link-loop: ", 0
s_buf_outside db "buffer-outside: ", 0
s_bad_cbw    db "bad-cbw: ", 0
s_ev_full    db "event-ring-full: ", 0
s_good       db "good-transfer: ", 0
s_done       db "xhci-hostile: done", 13, 10, 0
s_no_xhci    db "xhci-hostile: no qemu-xhci at 00:0d.0", 13, 10, 0

	times 6 * 512 - ($ - $$) db 0
	times 1024 * 1024 - ($ - $$) db 0
