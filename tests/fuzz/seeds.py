#!/usr/bin/env python3
"""tests/fuzz/seeds.py - write the hand-made seeds of the device targets into corpus/NAME/.

A seed is what a driver does first (set up a ring, issue one command), in the op stream that
fuzz_ops.c replays; the fuzzer then mutates from there instead of from nothing. Range indexes
are the bus's order (FUZZ_RANGES=1 build/fuzz/bin/fuzz_NAME FILE lists them).
Run it again after changing the op format: `python3 tests/fuzz/seeds.py`.
"""
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))


class Ops:
    """The op stream of fuzz_ops.h."""

    def __init__(self, prefix=b""):
        self.b = bytearray(prefix)

    def ram(self, gpa, data):                       # op 0, in pieces of <= 256 bytes
        data = bytes(data)
        for i in range(0, len(data), 256):
            piece = data[i:i + 256]
            self.b += bytes([0, len(piece) - 1]) + struct.pack("<I", gpa + i) + piece
        return self

    def w(self, rng, off, value, size=4):            # op 1
        code = {1: 0, 2: 1, 4: 2, 8: 3}[size]
        self.b += bytes([1, rng, code]) + struct.pack("<IQ", off, value & (2**64 - 1))
        return self

    def r(self, rng, off, size=4):                   # op 2
        code = {1: 0, 2: 1, 4: 2, 8: 3}[size]
        self.b += bytes([2, rng, code]) + struct.pack("<I", off)
        return self

    def hook(self, args=b""):                        # op 3
        self.b += bytes([3]) + bytes(args)
        return self


def save(target, name, data):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "seed-" + name), "wb") as f:
        f.write(bytes(data))


def le32(v):
    return struct.pack("<I", v)


# ---- AHCI: range 1 = ABAR; port 0 a disk, port 2 a CD-ROM -----------------------------------
def ahci_cmd(port, fis, prdt, atapi_cdb=None, write=False):
    o = Ops()
    base = 0x100 + 0x80 * port
    clb, fb, ctba, buf = 0x1000, 0x2000, 0x3000, 0x8000
    o.w(1, 0x04, 1 << 31)                              # GHC.AE
    o.w(1, base + 0x00, clb).w(1, base + 0x04, 0)     # PxCLB
    o.w(1, base + 0x08, fb).w(1, base + 0x0c, 0)      # PxFB
    o.w(1, base + 0x18, 1 << 4)                       # PxCMD.FRE
    o.w(1, base + 0x18, (1 << 4) | 1)                 # PxCMD.ST
    flags = 5 | (0x20 if atapi_cdb else 0) | (0x40 if write else 0)
    o.ram(clb, struct.pack("<IIII", flags | (len(prdt) << 16), 0, ctba, 0) + bytes(16))
    table = bytearray(0x80 + 16 * len(prdt))
    table[0:len(fis)] = fis
    if atapi_cdb:
        table[0x40:0x40 + len(atapi_cdb)] = atapi_cdb
    for i, (addr, n) in enumerate(prdt):
        table[0x80 + 16 * i:0x90 + 16 * i] = struct.pack("<IIII", addr, 0, 0, (n - 1) | 1 << 31)
    o.ram(ctba, table)
    o.w(1, base + 0x38, 1)                            # PxCI: slot 0
    o.r(1, base + 0x10).r(1, 0x08)                    # PxIS, IS
    return o.b


def h2d(cmd, lba=0, count=1, features=0, device=0x40):
    return bytes([0x27, 0x80, cmd, features & 0xff, lba & 0xff, lba >> 8 & 0xff, lba >> 16 & 0xff,
                  device, lba >> 24 & 0xff, 0, 0, features >> 8, count & 0xff, count >> 8, 0, 0,
                  0, 0, 0, 0])


def ahci():
    save("ahci", "identify", ahci_cmd(0, h2d(0xec, device=0), [(0x8000, 512)]))
    save("ahci", "read-dma-ext", ahci_cmd(0, h2d(0x25, lba=3, count=2),
                                          [(0x8000, 512), (0x9000, 512)]))
    save("ahci", "write-dma-ext", ahci_cmd(0, h2d(0x35, lba=5, count=1), [(0x8000, 512)],
                                           write=True))
    inquiry = bytes([0x12, 0, 0, 0, 36, 0, 0, 0, 0, 0, 0, 0])
    read10 = bytes([0x28, 0, 0, 0, 0, 1, 0, 0, 1, 0, 0, 0])
    save("ahci", "atapi-inquiry", ahci_cmd(2, h2d(0xa0, features=1, device=0), [(0x8000, 36)],
                                           atapi_cdb=inquiry))
    save("ahci", "atapi-read10", ahci_cmd(2, h2d(0xa0, features=1, device=0), [(0x8000, 2048)],
                                          atapi_cdb=read10))


# ---- IDE: 1 = 0x1f0, 2 = 0x3f6, 3 = 0x170, 4 = 0x376, 5 = bus master ----------------------
def ide():
    o = Ops()                                         # IDENTIFY by PIO, then read the data
    o.w(1, 6, 0xa0, 1).w(1, 7, 0xec, 1).r(1, 7, 1)
    for _ in range(16):
        o.r(1, 0, 2)
    save("ide", "identify-pio", o.b)

    o = Ops()                                         # READ DMA: 2 sectors through 2 PRDs
    o.ram(0x1000, struct.pack("<IHH", 0x8000, 512, 0) + struct.pack("<IHH", 0x9000, 512, 0x8000))
    o.w(5, 4, 0x1000).w(1, 6, 0xe0, 1).w(1, 2, 2, 1).w(1, 3, 4, 1).w(1, 4, 0, 1).w(1, 5, 0, 1)
    o.w(1, 7, 0xc8, 1).w(5, 0, 0x09, 1).r(5, 2, 1).r(1, 7, 1).w(5, 0, 0, 1)
    save("ide", "read-dma", o.b)

    o = Ops()                                         # ATAPI INQUIRY on the secondary master
    o.w(3, 6, 0xa0, 1).w(3, 4, 0x00, 1).w(3, 5, 0x08, 1).w(3, 7, 0xa0, 1)
    cdb = bytes([0x12, 0, 0, 0, 36, 0, 0, 0, 0, 0, 0, 0])
    for i in range(0, 12, 2):
        o.w(3, 0, cdb[i] | cdb[i + 1] << 8, 2)
    for _ in range(18):
        o.r(3, 0, 2)
    o.r(3, 7, 1)
    save("ide", "atapi-inquiry-pio", o.b)


# ---- e1000: 1 = BAR0 (MMIO), 2 = BAR1 (IOADDR/IODATA); op 3 = a frame arrives -----------------
def e1000():
    o = Ops()
    o.ram(0x1000, struct.pack("<QHBBBBH", 0x4000, 60, 0, 0x0b, 0, 0, 0) * 2)   # EOP|IFCS|RS
    o.ram(0x4000, bytes(range(60)))
    o.w(1, 0x3800, 0x1000).w(1, 0x3804, 0).w(1, 0x3808, 128).w(1, 0x3810, 0).w(1, 0x0400, 0x2)
    o.w(1, 0x3818, 2).r(1, 0x00c0)                    # TDT: two frames; ICR
    save("e1000", "transmit", o.b)

    o = Ops()
    o.ram(0x2000, struct.pack("<QHHBBH", 0x6000, 0, 0, 0, 0, 0) * 4)
    o.w(1, 0x2800, 0x2000).w(1, 0x2804, 0).w(1, 0x2808, 128).w(1, 0x2810, 0).w(1, 0x2818, 3)
    o.w(1, 0x00d0, 0x9d).w(1, 0x0100, 0x2 | 0x8000)  # IMS; RCTL: EN, BAM
    frame = bytes([0xff] * 6 + [0x52, 0x54, 0, 1, 2, 3, 8, 0]) + bytes(46)
    o.hook(struct.pack("<H", len(frame)) + frame).r(1, 0x00c0)
    save("e1000", "receive", o.b)

    o = Ops()                                         # the I/O window and the EEPROM
    o.w(2, 0, 0x0014).w(2, 4, 0x0001).r(2, 4).w(1, 0x0014, 1 | 2 << 8).r(1, 0x0014)
    save("e1000", "io-window-eeprom", o.b)


# ---- virtio (modern PCI): 1 = BAR with common 0x0, ISR 0x1000, device 0x2000, notify 0x3000 ---
def virtio_setup(o, nqueues, qsize=8):
    o.w(1, 0x14, 1, 1).w(1, 0x14, 3, 1)              # ACKNOWLEDGE, DRIVER
    o.w(1, 0x08, 1).w(1, 0x0c, 1)                    # VIRTIO_F_VERSION_1 (bit 32)
    o.w(1, 0x14, 0xb, 1).r(1, 0x14, 1)               # FEATURES_OK
    for q in range(nqueues):
        base = 0x10000 + q * 0x1000
        o.w(1, 0x16, q, 2).w(1, 0x18, qsize, 2)
        o.w(1, 0x20, base).w(1, 0x24, 0).w(1, 0x28, base + 0x100).w(1, 0x2c, 0)
        o.w(1, 0x30, base + 0x200).w(1, 0x34, 0).w(1, 0x1c, 1, 2)
    o.w(1, 0x14, 0xf, 1)                             # DRIVER_OK
    return o


def chain(o, q, descs, head=0):
    """descs: (addr, len, writable); a chain from descriptor 0, offered in avail slot 0."""
    base = 0x10000 + q * 0x1000
    table = b""
    for i, (addr, n, wr) in enumerate(descs):
        flags = (1 if i + 1 < len(descs) else 0) | (2 if wr else 0)
        table += struct.pack("<QIHH", addr, n, flags, i + 1 if i + 1 < len(descs) else 0)
    o.ram(base, table)
    o.ram(base + 0x100, struct.pack("<HHH", 0, 1, head))
    return o


def virtio():
    for kind, sector in (("read", 0), ("write", 1)):
        o = virtio_setup(Ops(), 1)
        o.ram(0x8000, struct.pack("<IIQ", sector, 0, 2))
        chain(o, 0, [(0x8000, 16, False), (0x9000, 512, kind == "read"), (0xa000, 1, True)])
        o.w(1, 0x3000, 0, 2).r(1, 0x1000, 1).r(1, 0x2000, 8)
        save("virtio_blk", kind, o.b)

    o = virtio_setup(Ops(), 2)                        # net: transmit one frame (queue 1)
    o.ram(0x8000, bytes(12) + bytes([0xff] * 6) + bytes(54))
    chain(o, 1, [(0x8000, 12, False), (0x800c, 60, False)])
    o.w(1, 0x3000 + 4, 1, 2)                          # notify: queue_notify_off * multiplier
    o.w(1, 0x3004, 1, 2).r(1, 0x2000, 4)
    save("virtio_net", "transmit", o.b)
    o = virtio_setup(Ops(), 2)                        # net: a receive buffer, then a frame
    chain(o, 0, [(0x8000, 2048, True)])
    o.w(1, 0x3000, 0, 2).hook(struct.pack("<H", 60) + bytes(range(60))).r(1, 0x1000, 1)
    save("virtio_net", "receive", o.b)

    o = virtio_setup(Ops(), 1)
    chain(o, 0, [(0x8000, 64, True), (0x9000, 32, True)])
    o.w(1, 0x3000, 0, 2).r(1, 0x1000, 1)
    save("virtio_rng", "fill", o.b)


# ---- fw_cfg: 0 = selector/data (0x510), 1 = DMA (0x514, big-endian address) ----------------------
def fw_cfg():
    o = Ops()
    o.w(0, 0, 0x0000, 2)
    for _ in range(4):
        o.r(0, 1, 1)                                  # "QEMU"
    o.w(0, 0, 0x0019, 2).r(0, 1, 1).r(0, 1, 1)        # the file directory
    save("fw_cfg", "ports", o.b)
    for name, ctl, length in (("dma-read-dir", 0x0019 << 16 | 0x0a, 64),
                              ("dma-skip-read", 0x0020 << 16 | 0x0c, 16),
                              ("dma-write", 0x0020 << 16 | 0x18, 8)):
        o = Ops()
        o.ram(0x1000, struct.pack(">IIQ", ctl, length, 0x2000))
        o.w(1, 0, int.from_bytes(struct.pack(">I", 0), "little"))
        o.w(1, 4, int.from_bytes(struct.pack(">I", 0x1000), "little"))
        o.r(1, 0)
        save("fw_cfg", name, o.b)


# ---- the rest: a few meaningful starts ------------------------------------------------------
def others():
    o = Ops()                                         # uart: DLAB, divisor, FIFO, loopback
    o.w(0, 3, 0x80, 1).w(0, 0, 12, 1).w(0, 1, 0, 1).w(0, 3, 3, 1).w(0, 2, 0xc7, 1)
    o.w(0, 4, 0x10, 1).w(0, 0, 0x41, 1).r(0, 5, 1).r(0, 0, 1).hook(struct.pack("<H", 3) + b"abc")
    o.r(0, 2, 1).r(0, 0, 1)
    save("uart", "setup-loop-input", o.b)

    o = Ops()                                         # i8042: self test, command byte, keyboard
    o.w(0, 4, 0xaa, 1).r(0, 0, 1).w(0, 4, 0x60, 1).w(0, 0, 0x47, 1).w(0, 0, 0xff, 1).r(0, 0, 1)
    o.w(0, 4, 0xd4, 1).w(0, 0, 0xf4, 1).r(0, 0, 1).hook(bytes([0, 0, 0x61, 0, 0, 0, 1]))
    o.r(0, 4, 1).r(0, 0, 1)
    save("i8042", "selftest-key", o.b)

    o = Ops()                                         # std-vga: VBE 800x600x32, then draw
    for idx, val in ((4, 0), (1, 800), (2, 600), (3, 32), (4, 0x41)):
        o.w(3, 0, idx, 2).w(3, 2, val, 2)
    o.w(4, 0, 0x12345678).hook(b"\x01")
    o.w(2, 0x3c4 - 0x3b0, 0x02, 1).w(2, 0x3c5 - 0x3b0, 0x0f, 1).hook(b"\x00")
    save("std_vga", "vbe-mode", o.b)

    o = Ops(struct.pack("<H", 8) + le32(0) * 3)       # virtqueue: size 8, rings at 0
    save("virtqueue", "empty", o.b)
    o = Ops(struct.pack("<H", 8) + le32(0x1000) + le32(0x2000) + le32(0x3000))
    o.ram(0x1000, struct.pack("<QIHH", 0x5000, 64, 1, 1) + struct.pack("<QIHH", 0x6000, 64, 2, 0))
    o.ram(0x2000, struct.pack("<HHH", 0, 1, 0)).hook(b"\x00")
    save("virtqueue", "one-chain", o.b)

    o = Ops()                                         # pci: size BAR0 of 00:01.0, move it
    o.w(0, 0, 0x80000810).w(0, 4, 0xffffffff).r(0, 4).w(0, 4, 0xd0000000).w(0, 0, 0x80000804)
    o.w(0, 4, 0x0, 2).w(0, 4, 0x7, 2).w(1, 0, 5)
    save("pci", "move-bar", o.b)


def files():
    # qcow2: a 1 MiB image as qemu-img lays it out, 4 KiB clusters: header, L1, refcounts
    hdr = struct.pack(">IIQIIQIIQQIIQ", 0x514649fb, 3, 0, 0, 12, 1 << 20, 0, 1, 0x1000,
                      0x2000, 1, 0, 0)
    hdr += struct.pack(">QQQII", 0, 0, 0, 4, 104)
    img = bytearray(0x4000)
    img[0:len(hdr)] = hdr
    img[0x2000:0x2008] = struct.pack(">Q", 0x3000)              # refcount table -> block
    for i in range(4):                                          # clusters 0..3 used
        img[0x3000 + 2 * i:0x3002 + 2 * i] = struct.pack(">H", 1)
    save("qcow2", "empty-1m", img)

    save("manager", "create", b"create vm1 /tmp/vm.yaml -m 256 \"-append\" \"a b\"")
    save("manager", "wait", b"wait vm1 output \"login:\" 30")
    save("manager", "screendump", b"screendump vm1 /tmp/shot.png")
    save("yaml", "pc", b"-m 256 -smp 1\nmachine: pc\nmemory: 256M\ndisplay: { vga: std }\n")
    mb = bytearray(8192)
    mb[0:12] = struct.pack("<III", 0x1badb002, 0x00000003, (-(0x1badb002 + 3)) & 0xffffffff)
    save("multiboot", "header", mb[:64])
    elf = bytearray(0x200)
    elf[0:16] = b"\x7fELF\x01\x01\x01" + bytes(9)
    elf[16:52] = struct.pack("<HHIIIIIHHHHHH", 2, 3, 1, 0x100000, 52, 0, 0, 52, 32, 1, 0, 0, 0)
    elf[52:84] = struct.pack("<IIIIIIII", 1, 0x100, 0x100000, 0x100000, 0x100, 0x1000, 5, 0x1000)
    elf[0x100:0x10c] = struct.pack("<III", 0x1badb002, 3, (-(0x1badb002 + 3)) & 0xffffffff)
    save("multiboot", "elf", elf)
    save("atapi", "inquiry", bytes([0x12, 0, 0, 0, 36, 0, 0, 0, 0, 0, 0, 0]) + b"\x00\x10\x00\x10")
    save("atapi", "read-toc", bytes([0x43, 0, 0, 0, 0, 0, 0, 0x03, 0x24, 0, 0, 0]) + b"\x00\x10\x00\x10")
    save("hpet", "enable-timer", bytes([0]) + b"\x10\x00" + le32(0) + struct.pack("<Q", 1) + b"\x03"
         + bytes([0]) + b"\x08\x01" + le32(0) + struct.pack("<Q", 100) + b"\x03"
         + bytes([0]) + b"\x00\x01" + le32(0) + struct.pack("<Q", 0x4c) + b"\x03"
         + bytes([2]) + b"\x00\x00" + le32(1000000))
    save("pflash", "query-program", bytes([0, 0x01, 0x98]) + struct.pack("<Q", 0)
         + bytes([2 << 1, 0x20]) + bytes([1 << 1 | 1, 0]) + struct.pack("<Q", 0x40)
         + bytes([1 << 1 | 1, 0]) + struct.pack("<Q", 0x12))
    # page walk: CR0.PG|PE, CR3 0x1000, CR4.PAE, EFER.LME|LMA; identity-mapped 2 MiB page
    pw = struct.pack("<QIQQB", 0x80000001, 0x1000, 0x20, 0x500, 0x11 << 1) + struct.pack("<HH", 0, 0)
    tables = bytearray(8192)
    tables[0:8] = struct.pack("<Q", 0x2003)
    tables[0x1000:0x1008] = struct.pack("<Q", 0x3003)
    pw += bytes(tables) + struct.pack("<Q", 0x10) + b"\x00" + struct.pack("<H", 100)
    save("page_walk", "long-mode", pw)
    save("hypercall", "print-regs", bytes([0, 2, 1]) + struct.pack("<QQQ", 0, 42, 5)
         + bytes([6, 2, 1]) + struct.pack("<QQQ", 0, 7, 5) + bytes([6, 2, 0]) + bytes(24)
         + bytes([5, 2, 1]) + struct.pack("<QQQ", 1, 0, 0))


# ---- USB: the stick's own requests, and the controllers that carry them -----------------------
def setup_pkt(rtype, req, value=0, index=0, length=0):
    return struct.pack("<BBHHH", rtype, req, value, index, length)


def cbw(tag, length, host_in, cdb):
    return struct.pack("<IIIBBB", 0x43425355, tag, length, 0x80 if host_in else 0, 0,
                       len(cdb)) + bytes(cdb) + bytes(16 - len(cdb))


INQUIRY = [0x12, 0, 0, 0, 36, 0]
READ10 = [0x28, 0, 0, 0, 0, 1, 0, 0, 1, 0]           # LBA 1, one sector
WRITE10 = [0x2a, 0, 0, 0, 0, 2, 0, 0, 1, 0]          # LBA 2, one sector


def usb_storage():
    """fuzz_usb_storage's records: 0 control, 1 bulk OUT, 2 bulk IN, 3 reset, 4 any endpoint."""
    b = bytearray([0])                                # a high-speed stick
    b += bytes([0]) + setup_pkt(0x80, 6, 0x100, 0, 18)           # GET_DESCRIPTOR(DEVICE)
    b += bytes([0]) + setup_pkt(0x80, 6, 0x200, 0, 32)           # GET_DESCRIPTOR(CONFIG)
    b += bytes([0]) + setup_pkt(0, 9, 1)                         # SET_CONFIGURATION 1
    b += bytes([0]) + setup_pkt(0xa1, 0xfe, 0, 0, 1)             # GET_MAX_LUN
    for cdb, n, host_in in ((INQUIRY, 36, True), (READ10, 512, True), (WRITE10, 512, False)):
        c = cbw(7, n, host_in, cdb)
        b += bytes([1]) + struct.pack("<H", len(c)) + c
        if host_in:
            b += bytes([2]) + struct.pack("<H", n)
        else:
            b += bytes([1]) + struct.pack("<H", n) + bytes(range(256)) * 2
        b += bytes([2]) + struct.pack("<H", 13)                   # the CSW
    save("usb_storage", "enumerate-inquiry-read-write", b)
    bad = cbw(1, 36, True, INQUIRY)[:30]                          # a short CBW: stall
    b = bytearray([1]) + bytes([1]) + struct.pack("<H", len(bad)) + bad
    b += bytes([0]) + setup_pkt(0x21, 0xff)                       # Bulk-Only reset
    b += bytes([0]) + setup_pkt(0x02, 1, 0, 0x81)                 # CLEAR_FEATURE(HALT) IN
    b += bytes([0]) + setup_pkt(0x02, 1, 0, 0x02)                 # ... OUT
    save("usb_storage", "bad-cbw-reset-recovery", b)


def trb(param, status, ttype, flags=0, cycle=1):
    return struct.pack("<QII", param, status, ttype << 10 | flags | cycle)


def xhci():
    """Range 1 = BAR0: capabilities 0, operational 0x40, ports 0x440, runtime 0x1000, doorbells
    0x2000. The stick is on port 1. Enable Slot, Address Device, GET_DESCRIPTOR on endpoint 0;
    then Configure Endpoint (bulk OUT DCI 4, bulk IN DCI 3) and a CBW, its data, its CSW."""
    dcbaa, cmd, erst, evring, inctx, outctx = 0x1000, 0x2000, 0x3000, 0x4000, 0x5000, 0x6000
    ep0, epout, epin, buf = 0x7000, 0x7400, 0x7800, 0x8000
    o = Ops()
    o.w(1, 0x78, 16)                                          # CONFIG: 16 slots
    o.w(1, 0x70, dcbaa).w(1, 0x74, 0)                          # DCBAAP
    o.w(1, 0x58, cmd | 1).w(1, 0x5c, 0)                        # CRCR, RCS
    o.ram(erst, struct.pack("<QII", evring, 64, 0))
    o.w(1, 0x1028, 1).w(1, 0x1030, erst).w(1, 0x1034, 0)       # ERSTSZ, ERSTBA
    o.w(1, 0x1038, evring).w(1, 0x103c, 0).w(1, 0x1020, 2)     # ERDP, IMAN.IE
    o.w(1, 0x40, 1 | 4)                                        # USBCMD: RS, INTE
    o.w(1, 0x440, 1 << 9 | 1 << 4)                             # PORTSC1: PP, PR
    o.ram(dcbaa + 8, struct.pack("<Q", outctx))
    ctx = bytearray(0x20 * 33)
    ctx[0:8] = struct.pack("<II", 0, 3)                        # add slot, ep0
    ctx[0x20:0x28] = struct.pack("<II", 1 << 27 | 3 << 20, 1 << 16)   # 1 entry; port 1
    ctx[0x40:0x50] = struct.pack("<IIQ", 0, 4 << 3 | 3 << 1 | 64 << 16, ep0 | 1)
    o.ram(inctx, ctx)
    o.ram(cmd, trb(0, 0, 9) + trb(inctx, 0, 11, 1 << 24))     # Enable Slot, Address Device
    o.w(1, 0x2000, 0)                                          # doorbell 0: the command ring
    o.ram(ep0, trb(struct.unpack("<Q", setup_pkt(0x80, 6, 0x100, 0, 18))[0], 8, 2,
                   1 << 6 | 3 << 16) + trb(buf, 18, 3, 1 << 16) + trb(0, 0, 4, 1 << 5))
    o.w(1, 0x2004, 1)                                          # doorbell 1, DCI 1
    o.r(1, 0x1038).r(1, 0x44)
    save("xhci", "address-get-descriptor", o.b)

    o2 = Ops(o.b)
    o2.ram(ep0 + 48, trb(struct.unpack("<Q", setup_pkt(0, 9, 1))[0], 8, 2, 1 << 6) +
           trb(0, 0, 4, 1 << 16 | 1 << 5))                    # SET_CONFIGURATION, status IN
    o2.w(1, 0x2004, 1)
    ctx = bytearray(0x20 * 33)
    ctx[0:8] = struct.pack("<II", 0, 1 | 1 << 3 | 1 << 4)      # slot, DCI 3, DCI 4
    ctx[0x20:0x28] = struct.pack("<II", 4 << 27 | 3 << 20, 1 << 16)
    ctx[0x20 * 4:0x20 * 4 + 16] = struct.pack("<IIQ", 0, 6 << 3 | 3 << 1 | 512 << 16, epin | 1)
    ctx[0x20 * 5:0x20 * 5 + 16] = struct.pack("<IIQ", 0, 2 << 3 | 3 << 1 | 512 << 16, epout | 1)
    o2.ram(inctx, ctx)
    o2.ram(cmd + 32, trb(inctx, 0, 12, 1 << 24))               # Configure Endpoint, slot 1
    o2.w(1, 0x2000, 0)
    o2.ram(buf, cbw(9, 512, True, READ10))
    o2.ram(epout, trb(buf, 31, 1, 1 << 5))                     # Normal TRB, IOC
    o2.w(1, 0x2004, 4)
    o2.ram(epin, trb(buf + 0x400, 512, 1, 1 << 5) + trb(buf + 0x800, 13, 1, 1 << 5))
    o2.w(1, 0x2004, 3)
    o2.r(1, 0x1038)
    save("xhci", "configure-bulk-read", o2.b)


def uhci():
    """Range 1 = the I/O BAR: USBCMD 0, USBSTS 2, FRNUM 6, FRBASEADD 8, PORTSC1 0x10, PORTSC2
    0x12. The first byte: 0 keyboard, 1 tablet on port 2. A frame list whose every entry is a
    QH holding a control transfer to address 0 (GET_DESCRIPTOR), then frames (op 3, even)."""
    flist, qh, td, buf = 0x1000, 0x2000, 0x2100, 0x3000
    o = Ops(bytes([0]))
    o.ram(flist, struct.pack("<I", qh | 2) * 1024)
    o.ram(qh, struct.pack("<II", 1, td))                       # head: T; element: first TD
    tds = [(0x2d, 8, buf), (0x69, 18, buf + 0x100), (0xe1, 0, 0)]   # SETUP, IN, OUT status
    raw = b""
    for i, (pid, n, b) in enumerate(tds):
        link = td + 32 * (i + 1) if i + 1 < len(tds) else 1
        token = pid | ((n - 1) & 0x7ff) << 21 | (1 << 19 if i == 1 else 0)
        raw += struct.pack("<IIII", link | 4, 1 << 23 | 3 << 27, token, b) + bytes(16)
    o.ram(td, raw)
    o.ram(buf, setup_pkt(0x80, 6, 0x100, 0, 18))
    o.w(1, 0x10, 1 << 9, 2).w(1, 0x10, 0, 2).w(1, 0x10, 1 << 2, 2)   # port 1: reset, enable
    o.w(1, 0x08, flist).w(1, 0x06, 0, 2).w(1, 0x00, 1, 2)           # FRBASEADD, FRNUM, RS
    for _ in range(4):
        o.hook(b"\x00")
    o.r(1, 0x02, 2)
    save("uhci", "get-descriptor", o.b)


# ---- VFIO: a fake host device (config space, BAR sizes, mmap mask), then the op stream --------
def vfio_device(caps):
    cfg = bytearray(256)
    cfg[0:4] = struct.pack("<HH", 0x8086, 0x10d3)      # an 82574L, as a NIC passed through
    cfg[6] = 0x10                                     # status: capability list
    cfg[0x0b] = 0x02                                  # class: network
    cfg[0x10:0x14] = le32(0)                          # BAR0: 32-bit memory
    cfg[0x18:0x1c] = le32(1)                          # BAR2: I/O
    cfg[0x3d] = 1                                     # INTA#
    cfg[0x34] = caps[0][0] if caps else 0
    for i, (at, body) in enumerate(caps):
        nxt = caps[i + 1][0] if i + 1 < len(caps) else 0
        cfg[at:at + 1 + len(body)] = bytes([body[0], nxt]) + bytes(body[1:])
    sizes = bytes([14, 0, 8, 0, 0, 0])                # BAR0 16 KiB, BAR2 256 ports
    return bytes(cfg) + sizes + bytes([1])            # BAR0 mmap()ed


def vfio():
    """Range 0 = 0xcf8, then the BAR traps in the order of their BARs (FUZZ_RANGES=1).
    MSI (64-bit) at 0x40, MSI-X (8 vectors, table in BAR0 at 0x2000, PBA at 0x3000) at 0x50,
    power management at 0x60."""
    caps = [(0x40, [0x05, 0x80, 0x00]), (0x50, [0x11, 0x07, 0x00, 0x00, 0x20, 0, 0, 0x00, 0x30,
                                                0, 0]), (0x60, [0x01, 0x03, 0x00])]
    def cfgw(reg, value, size=4):
        code = {1: 0, 2: 1, 4: 2}[size]
        return bytes([3, reg, 0x80 | code]) + le32(value)
    o = Ops(vfio_device(caps))
    o.b += cfgw(0x44, 0xfee00000) + cfgw(0x48, 0) + cfgw(0x4c, 0x41, 2) + cfgw(0x42, 1, 2)
    o.b += cfgw(0x42, 0, 2)                           # MSI off again: INTx back
    o.b += cfgw(0x52, 0x8000, 2)                      # MSI-X on
    o.w(1, 0x2000, 0xfee00000).w(1, 0x2004, 0).w(1, 0x2008, 0x42).w(1, 0x200c, 0)
    o.r(1, 0x2000).r(1, 0x3000).w(1, 0x100, 0x12345678)   # the table; the PBA; a register
    o.b += cfgw(0x52, 0xc000, 2) + cfgw(0x52, 0, 2)   # masked, off
    o.b += cfgw(0x64, 0x0003, 2) + cfgw(0x04, 0x0007, 2) + cfgw(0x10, 0xffffffff)
    o.w(2, 0x10, 0xab, 1).r(2, 0x10, 1)               # BAR2: I/O, forwarded
    save("vfio", "msi-msix-pm", o.b)


if __name__ == "__main__":
    ahci()
    ide()
    e1000()
    virtio()
    fw_cfg()
    others()
    files()
    usb_storage()
    xhci()
    uhci()
    vfio()
