; input-test.asm - a boot sector that drives the i8042 keyboard controller and its PS/2 keyboard
; and mouse (stage5-full-machine/input/) straight at ports 0x60 and 0x64, polled.
;
; SeaBIOS loads it from an IDE disk on machine pc (after its own keyboard setup) and jumps here
; in real mode. With interrupts off it asks, and prints on COM1 each answer in hex:
;   the controller  self test (55), keyboard and mouse port tests (00), the command byte
;   the keyboard    reset (fa aa), identify (fa ab 83; through translation fa ab 41), scan code
;                   set (fa fa 02), echo (ee), an unknown command (fe)
;   the mouse       reset (fa aa 00), ID (fa 00), the IntelliMouse knock 200/100/80 and ID again
;                   (fa 03), status (fa 00 02 50), an unknown command (fe), reporting on; a line
;                   ends in " aux" when every byte came with the status register's mouse bit
;   hostile         an unknown controller command, 0xd4 (write to mouse) with no data byte (the
;                   next command must still work)
;   injected        keys and mouse packets from minivisor -input-script (input-test.script):
;                   the guest lights the keyboard LEDs to say it is ready (the script waits
;                   for them), then reads "Hi", Up (set 1, translated), two wheel-mouse
;                   packets; then, translation off, it lights other LEDs and does not read
;                   while the host floods the keyboard: the queue must stay bounded (17 bytes,
;                   the last the overrun code 00) and the keyboard work on afterwards.
; Last it pulses the reset line through the controller (command 0xfe): the VMM stops with
; "guest reset". Real mode, 16-bit code; sectors 1-4 are loaded by the BIOS (INT 13h).

bits 16
org 0x7c00

COM1      equ 0x3f8
KBD_DATA  equ 0x60
KBD_CMD   equ 0x64
STR_OBF   equ 0x01
STR_IBF   equ 0x02
STR_AUX   equ 0x20
PM1A_CNT  equ 0x604
S5_SLEEP  equ (5 << 10) | 0x2000
REST_SECTORS equ 4
TIMEOUT   equ 3000000             ; status polls before a byte counts as missing

%include "boot-sector.inc"

s_no_load db "input-test: cannot load sectors 1-4", 13, 10, 0

	times 510 - ($ - $$) db 0
	dw 0xaa55

; ---- sector 1 and on: loaded at 0x7e00 -----------------------------------------------------

%macro SAY 1                            ; print a label
	mov si, %1
	call puts
%endmacro

%macro READ 1                           ; read and print %1 bytes, then a new line
	mov cx, %1
	call read_print
%endmacro

main:
	cli
	SAY s_start
	call flush

	; -- the controller
	mov al, 0xaa
	call ctl
	SAY s_selftest
	READ 1
	mov al, 0xab
	call ctl
	SAY s_kbdtest
	READ 1
	mov al, 0xa9
	call ctl
	SAY s_auxtest
	READ 1
	mov ah, 0x04                    ; system flag; no interrupts, no translation, ports on
	call set_cb
	mov al, 0x20
	call ctl
	SAY s_cb
	READ 1

	; -- the keyboard
	mov al, 0xff
	call kbd
	SAY s_kbd_reset
	READ 2
	mov al, 0xf2
	call kbd
	SAY s_kbd_id
	READ 3
	mov ah, 0x44                    ; translate to set 1 from now on
	call set_cb
	mov al, 0xf2
	call kbd
	SAY s_kbd_id_xlat
	READ 3
	mov al, 0xf0
	call kbd
	mov al, 0x00
	call kbd
	SAY s_kbd_set
	READ 3
	mov al, 0xee
	call kbd
	SAY s_kbd_echo
	READ 1
	mov al, 0x01                    ; no such command
	call kbd
	SAY s_kbd_unknown
	READ 1

	; -- the mouse
	mov al, 0xff
	call aux
	SAY s_mouse_reset
	READ 3
	mov al, 0xf2
	call aux
	SAY s_mouse_id
	READ 2
	mov bl, 200                     ; the IntelliMouse knock
	call aux_rate
	mov bl, 100
	call aux_rate
	mov bl, 80
	call aux_rate
	SAY s_knock
	READ 6
	mov al, 0xf2
	call aux
	SAY s_mouse_id
	READ 2
	mov al, 0xe9
	call aux
	SAY s_mouse_status
	READ 4
	mov al, 0xd7                    ; no such command
	call aux
	SAY s_mouse_unknown
	READ 1
	mov al, 0xf4
	call aux
	SAY s_mouse_enable
	READ 1

	; -- hostile: a command nobody knows, a write-to-mouse with no data byte
	mov al, 0xc8
	call ctl
	mov al, 0xd4
	call ctl
	mov al, 0x20                    ; a command instead of the data byte
	call ctl
	SAY s_d4_nodata
	READ 1

	; -- injected: keys, then mouse packets
	mov bl, 7                       ; all three LEDs: ready for the script's keys
	call leds
	SAY s_keys
	READ 6                          ; "Hi": Shift, h, Shift up, h up; i, i up
	SAY s_keys_ext
	READ 4                          ; Up: e0 48, e0 c8
	SAY s_packet
	READ 4
	SAY s_packets
	READ 8

	; -- the flood: translation off, then the host sends 100 keys at once and we read late
	mov ah, 0x04
	call set_cb
	mov bl, 5
	call leds
	call read_byte                  ; the first byte: the flood has happened (all at once)
	jc .flood_timeout
	mov bl, 1
	mov bh, al
.more:
	in al, KBD_CMD
	test al, STR_OBF
	jz .flood_end
	in al, KBD_DATA
	mov bh, al
	inc bl
	jmp .more
.flood_end:
	SAY s_flood
	mov al, bl
	call puthex
	SAY s_flood_last
	mov al, bh
	call puthex
	call newline
	jmp .after
.flood_timeout:
	SAY s_flood
	SAY s_timeout
	call newline
.after:
	mov bl, 2                       ; and the keyboard still works
	call leds
	SAY s_after_flood
	READ 1

	SAY s_done
	mov al, 0xfe                    ; pulse the reset line
	call ctl
	SAY s_no_reset
	hlt

; ---- the controller ------------------------------------------------------------------------

wait_write:                             ; until the input buffer is empty (bounded)
	push ecx
	mov ecx, TIMEOUT
.poll:
	in al, KBD_CMD
	test al, STR_IBF
	jz .ok
	dec ecx
	jnz .poll
.ok:
	pop ecx
	ret

ctl:                                    ; al: a controller command
	push ax
	call wait_write
	pop ax
	out KBD_CMD, al
	ret

kbd:                                    ; al: a byte for the keyboard
	push ax
	call wait_write
	pop ax
	out KBD_DATA, al
	ret

aux:                                    ; al: a byte for the mouse (0xd4 first)
	push ax
	mov al, 0xd4
	call ctl
	call wait_write
	pop ax
	out KBD_DATA, al
	ret

aux_rate:                               ; bl: sample rate
	mov al, 0xf3
	call aux
	mov al, bl
	call aux
	ret

set_cb:                                 ; ah: the command byte
	mov al, 0x60
	call ctl
	mov al, ah
	call kbd
	ret

leds:                                   ; bl: the keyboard LEDs; prints and reads the ACKs
	mov al, 0xed
	call kbd
	mov al, bl
	call kbd
	SAY s_leds
	READ 2
	ret

flush:                                  ; drop whatever the firmware left
	in al, KBD_CMD
	test al, STR_OBF
	jz .end
	in al, KBD_DATA
	jmp flush
.end:
	ret

; A byte from the output buffer: al; ah: the status it came with. CF: none came.
read_byte:
	push ecx
	mov ecx, TIMEOUT
.poll:
	in al, KBD_CMD
	test al, STR_OBF
	jnz .ready
	dec ecx
	jnz .poll
	pop ecx
	stc
	ret
.ready:
	mov ah, al
	in al, KBD_DATA
	pop ecx
	clc
	ret

; Read cx bytes, print them; " aux" when every one had the mouse bit, "timeout" when missing.
read_print:
	mov byte [aux_all], STR_AUX
.next:
	call read_byte
	jc .timeout
	and [aux_all], ah
	call puthex
	cmp cx, 1
	je .last
	mov al, ' '
	call putc
.last:
	loop .next
	test byte [aux_all], STR_AUX
	jz .nl
	SAY s_aux
.nl:
	call newline
	ret
.timeout:
	SAY s_timeout
	call newline
	ret

; ---- printing ------------------------------------------------------------------------------

%include "guest-lib.inc"

s_start        db "input-test: start", 13, 10, 0
s_selftest     db "selftest: ", 0
s_kbdtest      db "kbd-port-test: ", 0
s_auxtest      db "aux-port-test: ", 0
s_cb           db "command-byte: ", 0
s_kbd_reset    db "kbd-reset: ", 0
s_kbd_id       db "kbd-id: ", 0
s_kbd_id_xlat  db "kbd-id-translated: ", 0
s_kbd_set      db "kbd-scancode-set: ", 0
s_kbd_echo     db "kbd-echo: ", 0
s_kbd_unknown  db "kbd-unknown: ", 0
s_mouse_reset  db "mouse-reset: ", 0
s_mouse_id     db "mouse-id: ", 0
s_knock        db "mouse-knock: ", 0
s_mouse_status db "mouse-status: ", 0
s_mouse_unknown db "mouse-unknown: ", 0
s_mouse_enable db "mouse-enable: ", 0
s_d4_nodata    db "d4-no-data, then read command byte: ", 0
s_leds         db "leds: ", 0
s_keys         db "keys: ", 0
s_keys_ext     db "keys-extended: ", 0
s_packet       db "packet: ", 0
s_packets      db "packets: ", 0
s_flood        db "flood: ", 0
s_flood_last   db " bytes, last ", 0
s_after_flood  db "after-flood: ", 0
s_aux          db " aux", 0
s_timeout      db "timeout", 0
s_done         db "input-test: done", 13, 10, 0
s_no_reset     db "input-test: still here after 0xfe", 13, 10, 0

aux_all db 0

	times 512 * (1 + REST_SECTORS) - ($ - $$) db 0
	times 1024 * 1024 - ($ - $$) db 0
