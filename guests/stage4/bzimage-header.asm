; bzimage-header.asm - the smallest "bzImage" a Linux boot loader accepts (nasm -f bin).
;
; A bzImage starts with a boot sector and setup sectors whose header ("HdrS", at 0x202)
; tells a loader how to boot it (Documentation/arch/x86/boot.rst). A stage 4 test guest
; is a tiny 64-bit program; this header, put in front of it, lets minivisor-lite load it
; exactly as it loads Linux: the program goes to 1 MiB and starts at its 64-bit entry,
; 0x200 bytes in. Only the fields minivisor-lite reads are filled in.

	org 0
	times 0x1f1 - ($ - $$) db 0
	db 1                    ; 0x1f1 setup_sects: this sector and one more = 1024 bytes
	times 0x1fe - ($ - $$) db 0
	dw 0xaa55               ; 0x1fe boot_flag
	db 0xeb, 0x66           ; 0x200 jump over the header (never run: no real mode here)
	db "HdrS"               ; 0x202 header signature
	dw 0x020c               ; 0x206 boot protocol 2.12: has xloadflags
	times 0x22c - ($ - $$) db 0
	dd 0x7fffffff           ; 0x22c initrd_addr_max
	times 0x236 - ($ - $$) db 0
	dw 1                    ; 0x236 xloadflags: XLF_KERNEL_64, a 64-bit entry point
	dd 255                  ; 0x238 cmdline_size
	times 0x258 - ($ - $$) db 0
	dq 0x100000             ; 0x258 pref_address: run where loaded
	dd 0x100000             ; 0x260 init_size: 1 MiB is plenty
	times 1024 - ($ - $$) db 0
