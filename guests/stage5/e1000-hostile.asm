; e1000-hostile.asm - a boot sector that hands the e1000 (net/e1000.c) bad rings and frames,
; then good ones, and watches what comes back from the user-mode back end (libslirp).
;
; SeaBIOS loads it from an IDE disk on machine pc (minivisor -nic user: the e1000 at 00:03.0)
; and jumps here in real mode. The card's registers are reached through its I/O BAR (BAR1:
; IOADDR at +0 selects a register, IODATA at +4 reads or writes it), so no unreal mode is needed.
; Each test prints "e1000-hostile: NAME: ok" (or FAILED) on COM1:
;   tx-ring-outside   a transmit ring at 0xfff00000 (the BIOS ROM, not RAM): the card stops, TDH
;                     stays at 0
;   zero-length       a frame of 0 bytes: dropped (no good packet counted), descriptor done (DD)
;   buffer-outside    a frame whose buffer is at 0xfff00000: dropped, descriptor done
;   tdt-chase         descriptors of 16 KiB without end of packet, TDT moved around the ring 40
;                     times: the frame is dropped once it outgrows the card, the card then sends
;                     the next good frame (one good packet counted)
;   rx-ring-outside   a receive ring outside RAM, then an ARP request for 10.0.2.2: slirp's
;                     answer finds no descriptor in RAM, RDH stays at 0
;   arp-reply         a good receive ring, the same request: slirp's ARP reply lands in the first
;                     buffer (DD, EOP, ethertype 0806, opcode 2)
; The VMM must say one line for each bad one and run on. Then the guest powers off.
; Real mode, 16-bit code; the rings and buffers live in the first 64 KiB. Image: 1 MiB.

bits 16
org 0x7c00

COM1      equ 0x3f8
PM1A_CNT  equ 0x604
S5_SLEEP  equ (5 << 10) | 0x2000
PCI_NIC   equ 0x80001800         ; CONFIG_ADDRESS of 00:03.0, register 0
REST_SECTORS equ 3
NOWHERE   equ 0xfff00000

CTRL   equ 0x0000
RCTL   equ 0x0100
TCTL   equ 0x0400
RDBAL  equ 0x2800
RDBAH  equ 0x2804
RDLEN  equ 0x2808
RDH    equ 0x2810
RDT    equ 0x2818
TDBAL  equ 0x3800
TDBAH  equ 0x3804
TDLEN  equ 0x3808
TDH    equ 0x3810
TDT    equ 0x3818
GPTC   equ 0x4080                ; good packets transmitted (clears on read)

TX_RING equ 0x9000               ; 8 descriptors
RX_RING equ 0x9100               ; 8 descriptors
TX_BUF  equ 0xa000
RX_BUF  equ 0xb000               ; 8 x 2 KiB
EOP_RS  equ 0x09                 ; command byte: end of packet, report status

%include "boot-sector.inc"

s_no_load   db "e1000-hostile: cannot load sectors 1-3", 13, 10, 0

	times 510 - ($ - $$) db 0
	dw 0xaa55

; ---- sector 1 and on: loaded at 0x7e00 -----------------------------------------------------

main:
	mov eax, PCI_NIC                ; vendor and device: the 82540EM?
	call pci_read
	cmp eax, 0x100e8086
	jne no_nic
	mov eax, PCI_NIC + 0x14         ; BAR1: the I/O window
	call pci_read
	and ax, 0xfffc
	mov [iobase], ax
	mov eax, PCI_NIC + 4            ; command: I/O, memory, bus master
	mov ebx, 7
	call pci_write
	mov ebx, CTRL                   ; reset the card
	mov eax, 1 << 26
	call reg_write
	mov ebx, GPTC
	call reg_read

	; 1: a transmit ring outside RAM
	mov eax, NOWHERE
	call tx_ring
	mov ebx, TDT
	mov eax, 1
	call reg_write
	mov si, s_tx_outside
	mov ebx, TDH
	call reg_read
	test eax, eax
	call verdict

	; 2: a zero-length frame, 3: a frame whose buffer is outside RAM
	mov eax, TX_RING
	call tx_ring
	xor edi, edi                    ; descriptor 0: 0 bytes
	mov eax, TX_BUF
	xor cx, cx
	call tx_desc
	mov edi, 1                      ; descriptor 1: 64 bytes at NOWHERE
	mov eax, NOWHERE
	mov cx, 64
	call tx_desc
	mov ebx, TDT
	mov eax, 1
	call reg_write
	mov si, s_zero
	call done_not_sent
	mov ebx, TDT
	mov eax, 2
	call reg_write
	mov si, s_buf_outside
	call done_not_sent

	; 4: TDT chasing: 16 KiB pieces without EOP, around and around the ring
	xor edi, edi
.fill:
	mov eax, TX_BUF
	mov cx, 0x3fff
	call tx_desc
	mov si, di
	shl si, 4
	mov byte [TX_RING + si + 11], 0x08   ; RS only: no end of packet
	inc edi
	cmp edi, 8
	jb .fill
	mov cx, 40
.chase:
	push cx
	mov ebx, TDH
	call reg_read
	add eax, 7                      ; TDT one behind TDH: the whole ring, every time
	and eax, 7
	mov ebx, TDT
	call reg_write
	pop cx
	loop .chase
	; end the runaway frame, then one good frame of 60 bytes
	mov ebx, TDH
	call reg_read
	mov edi, eax
	push edi
	mov eax, TX_BUF
	mov cx, 60
	call tx_desc
	pop edi
	inc edi
	and edi, 7
	push edi
	mov eax, TX_BUF
	mov cx, 60
	call tx_desc
	pop eax
	inc eax
	and eax, 7
	mov ebx, TDT
	call reg_write
	mov si, s_chase
	mov ebx, GPTC
	call reg_read
	cmp eax, 1
	call verdict

	; 5: a receive ring outside RAM; an ARP request makes slirp answer at once
	mov eax, NOWHERE
	call rx_ring
	call send_arp
	mov si, s_rx_outside
	mov ebx, RDH
	call reg_read
	test eax, eax
	call verdict

	; 6: a good receive ring: the answer lands in buffer 0
	mov eax, RX_RING
	call rx_ring
	call send_arp
	mov si, s_arp
	mov al, [RX_RING + 12]          ; status: DD and EOP
	and al, 3
	cmp al, 3
	jne .bad_arp
	cmp word [RX_BUF + 12], 0x0608  ; ethertype 0x0806 (big-endian on the wire)
	jne .bad_arp
	cmp word [RX_BUF + 20], 0x0200  ; opcode 2: reply
.bad_arp:
	call verdict

	mov si, s_done
	call puts
	jmp power_off

no_nic:
	mov si, s_no_nic
	call puts
	jmp power_off

; ZF set: "ok", else "FAILED", after the test's name in SI.
verdict:
	pushf
	push si
	mov si, s_prefix
	call puts
	pop si
	call puts
	popf
	mov si, s_ok
	je .say
	mov si, s_failed
.say:
	jmp puts

; After a TDT write: SI's test is ok when no good packet was counted and TDH reached TDT.
done_not_sent:
	mov ebx, GPTC
	call reg_read
	mov ecx, eax
	mov ebx, TDH
	call reg_read
	mov ebp, eax                    ; (reg_read uses DX)
	mov ebx, TDT
	call reg_read
	cmp eax, ebp
	jne .out
	test ecx, ecx
.out:
	jmp verdict

; EAX: ring base. 8 descriptors, head = tail = 0, transmitter on.
tx_ring:
	push eax
	mov ebx, TDBAL
	call reg_write
	mov ebx, TDBAH
	xor eax, eax
	call reg_write
	mov ebx, TDLEN
	mov eax, 128
	call reg_write
	mov ebx, TDH
	xor eax, eax
	call reg_write
	mov ebx, TDT
	xor eax, eax
	call reg_write
	mov ebx, TCTL
	mov eax, 2
	call reg_write
	pop eax
	ret

; EAX: ring base. 8 descriptors with 2 KiB buffers, 7 handed to the card, receiver on with
; broadcast accepted.
rx_ring:
	push eax
	xor edi, edi
.one:
	mov ebx, edi
	shl ebx, 11
	add ebx, RX_BUF
	mov si, di
	shl si, 4
	mov [RX_RING + si], ebx
	mov dword [RX_RING + si + 4], 0
	mov dword [RX_RING + si + 8], 0
	mov dword [RX_RING + si + 12], 0
	inc edi
	cmp edi, 8
	jb .one
	pop eax
	mov ebx, RDBAL
	call reg_write
	mov ebx, RDBAH
	xor eax, eax
	call reg_write
	mov ebx, RDLEN
	mov eax, 128
	call reg_write
	mov ebx, RDH
	xor eax, eax
	call reg_write
	mov ebx, RDT
	mov eax, 7
	call reg_write
	mov ebx, RCTL
	mov eax, 2 | 1 << 15 | 1 << 26  ; EN, BAM, SECRC
	jmp reg_write

; An ARP request "who has 10.0.2.2" from 10.0.2.15, through descriptor 0 of a fresh ring.
send_arp:
	mov si, arp_frame
	mov di, TX_BUF
	mov cx, arp_len
	rep movsb
	mov eax, TX_RING
	call tx_ring
	xor edi, edi
	mov eax, TX_BUF
	mov cx, 60
	call tx_desc
	mov ebx, TDT
	mov eax, 1
	jmp reg_write

; Legacy descriptor EDI of TX_RING: buffer EAX, CX bytes, EOP | RS.
tx_desc:
	push di
	shl di, 4
	mov [TX_RING + di], eax
	mov dword [TX_RING + di + 4], 0
	mov [TX_RING + di + 8], cx
	mov word [TX_RING + di + 10], EOP_RS << 8
	mov dword [TX_RING + di + 12], 0
	pop di
	ret

; EBX: register offset, EAX: value (through IOADDR/IODATA).
reg_write:
	push eax
	mov dx, [iobase]
	mov eax, ebx
	out dx, eax
	add dx, 4
	pop eax
	out dx, eax
	ret

; EBX: register offset -> EAX.
reg_read:
	mov dx, [iobase]
	mov eax, ebx
	out dx, eax
	add dx, 4
	in eax, dx
	ret

%include "guest-lib.inc"

iobase       dw 0
arp_frame:
	db 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x52, 0x54, 0x00, 0x12, 0x34, 0x56, 0x08, 0x06
	db 0x00, 0x01, 0x08, 0x00, 6, 4, 0x00, 0x01
	db 0x52, 0x54, 0x00, 0x12, 0x34, 0x56, 10, 0, 2, 15
	db 0, 0, 0, 0, 0, 0, 10, 0, 2, 2
	times 18 db 0
arp_len equ $ - arp_frame
s_prefix     db "e1000-hostile: ", 0
s_tx_outside db "tx-ring-outside: ", 0
s_zero       db "zero-length: ", 0
s_buf_outside db "buffer-outside: ", 0
s_chase      db "tdt-chase: ", 0
s_rx_outside db "rx-ring-outside: ", 0
s_arp        db "arp-reply: ", 0
s_ok         db "ok", 13, 10, 0
s_failed     db "FAILED", 13, 10, 0
s_done       db "e1000-hostile: done", 13, 10, 0
s_no_nic     db "e1000-hostile: no e1000 at 00:03.0", 13, 10, 0

	times 4 * 512 - ($ - $$) db 0
	times 1024 * 1024 - ($ - $$) db 0
