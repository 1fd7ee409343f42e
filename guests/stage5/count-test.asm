; guests/stage5/count-test.asm - a disk whose boot sector keeps a machine busy for the
; migration checks (tests/checks/stage5-migration.sh), on any KVM:
;   - counts, one line "count-test: count N" about twenty times a second (the TSC paces it);
;   - before each count, checks then rewrites the first and last dword of each of the 112
;     pages at 0x10000-0x7ffff with the count (on this host's KVM real mode is slow: a few
;     words a page, not whole pages): a page the migration lost or sent stale shows as
;     "count-test: BAD memory at SEG:OFF";
;   - every 8th count writes "count-test disk NNNNNNNN" (hex) to its disk's sector 9 by
;     INT 13h: the disk controller and the image keep up across the move;
;   - answers the console: a key is echoed ("count-test: echo X"); 'q' powers the machine off.
COM1      equ 0x3f8
PM1A_CNT  equ 0x604
S5_SLEEP  equ (5 << 10) | 0x2000
REST_SECTORS equ 3
DISK_SECTOR equ 10                  ; CHS sector numbers start at 1: this is LBA 9

bits 16
org 0x7c00
%include "boot-sector.inc"
s_no_load db "count-test: cannot load the rest", 13, 10, 0
	times 510 - ($ - $$) db 0
	dw 0xaa55

; ---- sector 1 on, at 0x7e00 ---------------------------------------------------------------
main:
	mov [drive], dl
	; With no VGA SeaBIOS mirrors its screen on COM1 and, from its timer interrupt, takes
	; COM1's input as keys: mask IRQ 0 at the PIC, so that the console's bytes come to us.
	in al, 0x21
	or al, 1
	out 0x21, al
	mov si, s_hello
	call puts
.count:
	call sweep
	mov eax, [count]
	mov [prev], eax
	mov byte [checked], 1
	mov si, s_count
	call puts
	mov eax, [count]
	call putdec
	call newline
	test byte [count], 7
	jnz .input
	call write_disk
.input:
	mov dx, COM1 + 5                ; line status: bit 0, a byte is there
	in al, dx
	test al, 1
	jz .wait
	mov dx, COM1
	in al, dx
	cmp al, 'q'
	je .bye
	mov [s_echo_char], al
	mov si, s_echo
	call puts
	jmp .input
.wait:
	call pace
	inc dword [count]
	jmp .count
.bye:
	mov si, s_bye
	call puts
	jmp power_off

; Check that 0x10000-0x7ffff still holds the last count (once there is one), write the new one:
; at offsets 0 and 0xffc of each page.
sweep:
	mov bx, 0x1000
.seg:
	mov es, bx
	xor di, di
.dword:
	cmp byte [checked], 0
	je .write
	mov eax, [es:di]
	cmp eax, [prev]
	je .write
	mov si, s_bad
	call puts
	mov ax, es
	call puthex16
	mov al, ':'
	call putc
	mov ax, di
	call puthex16
	call newline
.write:
	mov eax, [count]
	mov [es:di], eax
	xor di, 0x0ffc                  ; 0 -> 0xffc; 0xffc -> 0, then the next page
	test di, 0x0fff
	jnz .dword
	add di, 0x1000
	jnz .dword
	add bx, 0x1000
	cmp bx, 0x8000
	jb .seg
	xor ax, ax
	mov es, ax
	ret

; Busy-wait until bits 27 and up of the TSC move (about 50 ms on a 2.5 GHz host).
pace:
	rdtsc
	shrd eax, edx, 27
	cmp eax, [mark]
	je pace
	mov [mark], eax
	ret

; Sector 9 of the boot disk: "count-test disk " and the count in hex.
write_disk:
	mov eax, [count]
	mov di, disk_hex + 7
	mov cx, 8
.digit:
	mov bl, al
	and bl, 15
	add bl, '0'
	cmp bl, '9'
	jbe .put
	add bl, 'a' - '9' - 1
.put:
	mov [di], bl
	dec di
	shr eax, 4
	loop .digit
	mov ax, 0x0301                  ; write one sector
	mov cx, DISK_SECTOR             ; cylinder 0, sector DISK_SECTOR
	xor dh, dh
	mov dl, [drive]
	mov bx, disk_buf
	int 0x13
	jnc .ok
	mov si, s_disk_error
	call puts
.ok:
	ret

; EAX in decimal.
putdec:
	mov ecx, 10
	xor bx, bx
.div:
	xor edx, edx
	div ecx
	push dx
	inc bx
	test eax, eax
	jnz .div
.out:
	pop ax
	add al, '0'
	call putc
	dec bx
	jnz .out
	ret

puthex16:
	push ax
	mov al, ah
	call puthex
	pop ax
	jmp puthex

%include "guest-lib.inc"

s_hello      db "count-test: counting (q powers off)", 13, 10, 0
s_count      db "count-test: count ", 0
s_bad        db "count-test: BAD memory at ", 0
s_echo       db "count-test: echo "
s_echo_char  db "?", 13, 10, 0
s_bye        db "count-test: bye", 13, 10, 0
s_disk_error db "count-test: disk write failed", 13, 10, 0
drive   db 0
checked db 0
count   dd 1
prev    dd 0
mark    dd 0
	align 16
disk_buf db "count-test disk "
disk_hex db "00000000", 10
	times 512 - ($ - disk_buf) db 0
	times (REST_SECTORS + 1) * 512 - ($ - $$) db 0
