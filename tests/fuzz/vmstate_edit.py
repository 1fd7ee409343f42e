#!/usr/bin/env python3
"""vmstate_edit.py - change one field of one section of a fuzz_vmstate input (a seed), and
optionally replace the op stream that follows the sections: how the vmstate crashes were found
(a field a loader did not check, then the register access that makes the device use it).

    vmstate_edit.py IN OUT SECTION OFFSET FORMAT VALUE [OPS_HEX]
    vmstate_edit.py --list IN

FORMAT is a struct module letter (B, H, I, Q: little-endian u8..u64) at OFFSET inside the
section's payload (offsetof() of the saved struct: a few lines of C print them). OPS_HEX is the
op stream in hex (tests/fuzz/README.md: op table; op 3 is the target's own, fuzz_vmstate.c).
Example: crash-virtio-net-ring-alignment is seed-machine-120 with three edits of section
virtio-net.0 - queue 0 ready (26 B 1), its available ring at an odd address (40 Q 1), status
DRIVER_OK (16 B 15) - the last with OPS_HEX: op 4 writes avail->idx = 1, op 3 case 6 hands
back end 0 a 64-byte frame:
    OPS=$(python3 -c "print('04' '03000000' '01000000' '03' '06' '00' '4000' + 'ff' * 64)")

Teaches: the input's layout (fuzz_vmstate.c's header comment) is a list of records; a seed
written by FUZZ_WRITE_SEED holds the real sections of a machine, so one changed field is a
stream a sender could have written.
"""
import struct
import sys


def parse(data):
    """The machine byte, the records [name, version, length, payload], the op stream."""
    machine, at, records = data[0], 1, []
    while True:
        n = data[at]
        at += 1
        if n == 0:
            break
        name = data[at:at + n].decode()
        at += n
        version, length, stored = struct.unpack_from('<III', data, at)
        at += 12
        payload = bytearray(data[at:at + stored]) + bytes(length - stored)
        at += stored
        records.append([name, version, length, payload])
    return machine, records, data[at:]


def write(machine, records, ops):
    """The same layout; trailing zeros are left to the harness's padding again."""
    out = bytearray([machine])
    for name, version, length, payload in records:
        used = len(payload)
        while used and payload[used - 1] == 0:
            used -= 1
        out += bytes([len(name)]) + name.encode()
        out += struct.pack('<III', version, length, used) + payload[:used]
    return bytes(out + b'\0' + ops)


def main(argv):
    if len(argv) == 3 and argv[1] == '--list':
        machine, records, ops = parse(open(argv[2], 'rb').read())
        print('machine 0x%02x, ops %d bytes' % (machine, len(ops)))
        for name, version, length, _ in records:
            print('  %-16s version %u, %u bytes' % (name, version, length))
        return 0
    if len(argv) not in (7, 8):
        sys.stderr.write(__doc__)
        return 2
    src, dst, section, offset, fmt, value = argv[1:7]
    machine, records, ops = parse(open(src, 'rb').read())
    if len(argv) == 8:
        ops = bytes.fromhex(argv[7])
    for record in records:
        if record[0] == section:
            struct.pack_into('<' + fmt, record[3], int(offset, 0), int(value, 0))
            break
    else:
        sys.stderr.write('%s: no section %s (it has %s)\n' %
                         (src, section, ', '.join(r[0] for r in records)))
        return 2
    open(dst, 'wb').write(write(machine, records, ops))
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
