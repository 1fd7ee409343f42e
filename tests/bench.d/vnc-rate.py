#!/usr/bin/python3
# tests/bench.d/vnc-rate.py HOST PORT SECONDS - a measuring VNC client (RFC 6143, raw encoding,
# 32 bpp) for tests/bench.d/stage5-display.sh: it asks for incremental updates as fast as the
# server sends them and prints how many screens' worth of pixels arrived per second
# ("screens/s": all rectangles' areas over the screen's) and the update messages per second.
import select, socket, struct, sys, time

host, port, seconds = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
s = socket.create_connection((host, port))
buf = b""


def read(n):
    global buf
    while len(buf) < n:
        chunk = s.recv(max(65536, n - len(buf)))
        if not chunk:
            sys.exit("vnc-rate: the server closed the connection")
        buf += chunk
    data, buf = buf[:n], buf[n:]
    return data


def wait_message(until):
    """True when a message is there to read before the time runs out."""
    return bool(buf) or bool(select.select([s], [], [], max(0, until - time.monotonic()))[0])


read(12)                                   # "RFB 003.008\n"
s.sendall(b"RFB 003.008\n")
n = read(1)[0]
types = read(n)
if 1 not in types:
    sys.exit("vnc-rate: the server wants a password")
s.sendall(b"\x01")                          # security type None
if struct.unpack(">I", read(4))[0] != 0:
    sys.exit("vnc-rate: security handshake failed")
s.sendall(b"\x01")                          # ClientInit: shared
w, h = struct.unpack(">HH", read(4))
read(16)                                    # the server's pixel format
read(struct.unpack(">I", read(4))[0])       # its name
# SetPixelFormat: 32 bpp, depth 24, little endian, true colour, 8 bits each
s.sendall(struct.pack(">B3xBBBBHHHBBB3x", 0, 32, 24, 0, 1, 255, 255, 255, 16, 8, 0))
# SetEncodings: raw, and DesktopSize (a pseudo-encoding) so a mode change is a message too
s.sendall(struct.pack(">BxHii", 2, 2, 0, -223))


def request(incremental):
    s.sendall(struct.pack(">BBHHHH", 3, incremental, 0, 0, w, h))


request(0)
pixels = updates = 0
start = None
while True:
    if start is not None and not wait_message(start + seconds):
        break                               # an idle screen: nothing more came
    kind = read(1)[0]
    if kind != 0:                           # bell, cut text, colour map: skip what we can
        if kind == 2:
            continue
        sys.exit("vnc-rate: unexpected message %d" % kind)
    read(1)
    (nrects,) = struct.unpack(">H", read(2))
    for _ in range(nrects):
        x, y, rw, rh, enc = struct.unpack(">HHHHi", read(12))
        if enc == 0:
            read(rw * rh * 4)
            if start is not None:
                pixels += rw * rh
        elif enc == -223:
            w, h = rw, rh
        else:
            sys.exit("vnc-rate: unexpected encoding %d" % enc)
    now = time.monotonic()
    if start is None:
        start = now                         # the first (full) frame only starts the clock
    else:
        updates += 1
    if now - start >= seconds:
        break
    request(1)
elapsed = time.monotonic() - start
print("%dx%d %.1f screens/s %.1f updates/s" % (w, h, pixels / (w * h) / elapsed,
                                               updates / elapsed))
