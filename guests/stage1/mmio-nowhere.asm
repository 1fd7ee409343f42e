; mmio-nowhere.asm - a long-mode guest that writes to an address with no RAM behind it.
;
; Run with --mem 1M: the host's page tables map whole 2 MiB pages, so 0x1ff000 is mapped
; but lies past the end of RAM. KVM finds no memory slot there and hands the write to the
; VMM as KVM_EXIT_MMIO; simple-kvm has no device there and must say so.

	bits 64
	section .text.entry
	global _start
_start:
	mov dword [0x1ff000], 0x1234
	hlt
