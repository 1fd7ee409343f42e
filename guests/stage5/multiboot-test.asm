; multiboot-test.asm - the smallest Multiboot (version 1) kernel: it reports what its boot
; loader handed it and powers off. minivisor -kernel loads it (board/multiboot.h), as QEMU and
; GRUB would.
;
; What it teaches: the Multiboot contract from the kernel's side. The header (magic, flags,
; checksum) in the first 8 KiB asks for page-aligned modules (flag 0) and memory information
; (flag 1). At the entry the CPU is in 32-bit protected mode with flat segments and paging off,
; EAX holds 0x2BADB002 and EBX the physical address of the Multiboot information (MBI). The
; kernel sets up its own stack, then prints on COM1, one "multiboot-test: " line each:
;   magic 2badb002                     (or "bad magic" and the value)
;   mem_lower/mem_upper in KiB
;   cmdline <text>                     (flag 2)
;   mods <count>, then each module: its string, its bytes [start, end) and its contents
;   (printable text up to 200 bytes, others as '.')
;   mmap <base> <length> <type> for each entry of the memory map (flag 6)
; and powers off by ACPI (PM1a_CNT, S5). Built by guests/stage5/guests.mk: nasm -f elf32, then
; ld -m elf_i386 at 1 MiB (an ELF file, the form this loader takes). Bad-input variants:
; -DBAD_CHECKSUM (the header's sum is 1), -DAOUT_KLUDGE (flag 16, in a flat binary).

bits 32

COM1         equ 0x3f8
PM1A_CONTROL equ 0x604                  ; SeaBIOS puts the ACPI PM block at 0x600 (pc and q35)
SLP_S5       equ (5 << 10) | 0x2000     ; SLP_TYP = S5 (minivisor's \_S5), SLP_EN
MB_MAGIC     equ 0x1badb002
%ifdef AOUT_KLUDGE
MB_FLAGS     equ 0x10003                ; addresses in the header (the a.out kludge)
%else
MB_FLAGS     equ 0x3                    ; page-aligned modules, memory information
%endif
MODULE_SHOW  equ 200

section .text
global start

align 4
mb_header:
	dd MB_MAGIC
	dd MB_FLAGS
%ifdef BAD_CHECKSUM
	dd -(MB_MAGIC + MB_FLAGS) + 1       ; the sum is 1, not 0
%else
	dd -(MB_MAGIC + MB_FLAGS)
%endif

start:
	mov esp, stack_top
	mov esi, ebx                    ; ESI: the MBI from here on
	cmp eax, 0x2badb002
	je .magic_ok
	push eax
	mov edx, s_bad_magic
	call puts
	pop eax
	call puthex
	call newline
	jmp power_off
.magic_ok:
	mov edx, s_magic
	call puts
	call newline

	mov edx, s_mem                  ; flag 0: mem_lower, mem_upper
	call puts
	mov eax, [esi + 4]
	call puthex
	mov al, ' '
	call putc
	mov eax, [esi + 8]
	call puthex
	call newline

	test dword [esi], 1 << 2        ; flag 2: a command line
	jz .no_cmdline
	mov edx, s_cmdline
	call puts
	mov edx, [esi + 16]
	call puts
	call newline
.no_cmdline:

	test dword [esi], 1 << 3        ; flag 3: modules
	jz .no_mods
	call modules
.no_mods:
	test dword [esi], 1 << 6        ; flag 6: the memory map
	jz .no_mmap
	call memory_map
.no_mmap:
	mov edx, s_done
	call puts
	call newline
power_off:
	mov dx, PM1A_CONTROL
	mov ax, SLP_S5
	out dx, ax
.halt:
	hlt
	jmp .halt

; Each module: "module <string> <start> <end>", then "contents <text>".
modules:
	mov edx, s_mods
	call puts
	mov eax, [esi + 20]
	call puthex
	call newline
	mov ecx, [esi + 20]
	mov edi, [esi + 24]             ; the mods array: start, end, string, reserved
.next:
	test ecx, ecx
	jz .done
	push ecx
	mov edx, s_module
	call puts
	mov edx, [edi + 8]
	call puts
	mov al, ' '
	call putc
	mov eax, [edi]
	call puthex
	mov al, ' '
	call putc
	mov eax, [edi + 4]
	call puthex
	call newline
	mov edx, s_contents
	call puts
	mov ebx, [edi]                  ; the module's bytes, printable ones as they are
	mov ecx, [edi + 4]
	sub ecx, ebx
	cmp ecx, MODULE_SHOW
	jbe .show
	mov ecx, MODULE_SHOW
.show:
	jecxz .shown
	mov al, [ebx]
	cmp al, ' '
	jb .dot
	cmp al, '~'
	jbe .put
.dot:
	mov al, '.'
.put:
	call putc
	inc ebx
	dec ecx
	jmp .show
.shown:
	call newline
	pop ecx
	dec ecx
	add edi, 16
	jmp .next
.done:
	ret

; Each entry: size (of the rest), base (64-bit), length (64-bit), type.
memory_map:
	mov edi, [esi + 48]             ; mmap_addr
	mov ecx, [esi + 44]             ; mmap_length
	add ecx, edi
.next:
	cmp edi, ecx
	jae .done
	push ecx
	mov edx, s_mmap
	call puts
	mov eax, [edi + 8]              ; base, high half first
	call puthex
	mov eax, [edi + 4]
	call puthex
	mov al, ' '
	call putc
	mov eax, [edi + 16]             ; length
	call puthex
	mov eax, [edi + 12]
	call puthex
	mov al, ' '
	call putc
	mov eax, [edi + 20]             ; type: 1 RAM, 2 reserved ...
	call puthex
	call newline
	pop ecx
	add edi, [edi]
	add edi, 4
	jmp .next
.done:
	ret

; ---- COM1 output ----------------------------------------------------------------------
putc:                                   ; AL
	push edx
	mov dx, COM1
	out dx, al
	pop edx
	ret

puts:                                   ; EDX: a NUL-terminated string
	push eax
.next:
	mov al, [edx]
	test al, al
	jz .end
	call putc
	inc edx
	jmp .next
.end:
	pop eax
	ret

puthex:                                 ; EAX as 8 hex digits
	push ecx
	mov ecx, 8
.digit:
	rol eax, 4
	push eax
	and al, 0x0f
	add al, '0'
	cmp al, '9'
	jbe .out
	add al, 'a' - '9' - 1
.out:
	call putc
	pop eax
	loop .digit
	pop ecx
	ret

newline:
	push eax
	mov al, 13
	call putc
	mov al, 10
	call putc
	pop eax
	ret

section .data
s_magic     db 'multiboot-test: magic 2badb002', 0
s_bad_magic db 'multiboot-test: bad magic ', 0
s_mem       db 'multiboot-test: mem_lower/mem_upper KiB ', 0
s_cmdline   db 'multiboot-test: cmdline ', 0
s_mods      db 'multiboot-test: mods ', 0
s_module    db 'multiboot-test: module ', 0
s_contents  db 'multiboot-test: contents ', 0
s_mmap      db 'multiboot-test: mmap ', 0
s_done      db 'multiboot-test: done, powering off', 0

section .bss
align 16
	resb 4096
stack_top:
