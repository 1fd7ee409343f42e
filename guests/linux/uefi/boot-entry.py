#!/usr/bin/env python3
"""uefi/boot-entry.py - a copy of OVMF's empty variable store with one boot option in it.

    boot-entry.py VARS_IN VARS_OUT DISK_SIGNATURE PART_START PART_SECTORS LOADER CMDLINE

Writes two UEFI variables (vendor EFI_GLOBAL_VARIABLE) into the store of VARS_IN, as OVMF's
variable driver would lay them out (edk2 MdeModulePkg/Include/Guid/VariableFormat.h, the
authenticated header, 4-byte aligned):
  Boot0000   an EFI_LOAD_OPTION (UEFI spec 3.1.3): active, "minivisor Linux", the device path
             HD(1,MBR,DISK_SIGNATURE,PART_START,PART_SECTORS)/\\LOADER - a short-form path
             that the boot manager completes with the disk it finds - and CMDLINE as the
             option's data: the load options the loaded image receives (UTF-16)
  BootOrder  0000 first
So OVMF starts the kernel's EFI stub straight from the disk with its command line (initrd=...),
without the UEFI shell. Used by guests/linux/uefi-disk.sh.
"""
import struct
import sys

GLOBAL = bytes.fromhex("61dfe48bca93d211aa0d00e098032b8c")  # 8be4df61-93ca-11d2-aa0d-00e098032b8c
STORE = 0x48              # the variable store header, after the firmware volume header
FIRST = STORE + 0x1c      # the first variable, after that header
ATTRS = 0x7               # non-volatile, boot service and runtime access


def utf16z(text):
    return (text + "\0").encode("utf-16-le")


def variable(name, data):
    """One variable: the authenticated header (60 bytes), the name, the data."""
    name = utf16z(name)
    header = struct.pack("<HBBIQ16sIII16s", 0x55AA, 0x3F, 0, ATTRS, 0, bytes(16), 0,
                         len(name), len(data), GLOBAL)
    blob = header + name + data
    return blob + b"\xff" * (-len(blob) % 4)


def load_option(signature, start, sectors, loader, cmdline):
    hd = struct.pack("<BBHIQQ16sBB", 4, 1, 42, 1, start, sectors,
                     struct.pack("<I", signature) + bytes(12), 1, 1)
    path = utf16z(loader)
    file_node = struct.pack("<BBH", 4, 4, 4 + len(path)) + path
    end = struct.pack("<BBH", 0x7F, 0xFF, 4)
    paths = hd + file_node + end
    return (struct.pack("<IH", 1, len(paths)) + utf16z("minivisor Linux") + paths +
            utf16z(cmdline))


def main():
    src, dst, sig, start, sectors, loader, cmdline = sys.argv[1:8]
    store = bytearray(open(src, "rb").read())
    if store[STORE + 0x15] != 0xFE or store[FIRST:FIRST + 2] != b"\xff\xff":
        sys.exit("%s: not an empty OVMF variable store" % src)
    blob = variable("Boot0000", load_option(int(sig, 0), int(start), int(sectors), loader,
                                            cmdline))
    blob += variable("BootOrder", struct.pack("<H", 0))
    store[FIRST:FIRST + len(blob)] = blob
    open(dst, "wb").write(store)


main()
