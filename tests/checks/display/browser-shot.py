#!/usr/bin/python3
# tests/checks/display/browser-shot.py URL OUT.png - load URL (noVNC's page, served by
# websockify) in headless chromium and save a screenshot once noVNC says it is connected.
#
# chromium --screenshot shoots when the page has loaded, before noVNC's WebSocket has brought
# a frame; so this drives chromium through its DevTools protocol instead (JSON messages over a
# WebSocket: RFC 6455's handshake and masked text frames, a few lines below): navigate, poll
# noVNC's status line, wait for a frame to be drawn, capture. Prints noVNC's status and exits 0
# when it connected.
import base64, json, os, socket, struct, subprocess, sys, tempfile, time, urllib.parse
import urllib.request


class DevTools:
    """The least of a WebSocket client that chromium's DevTools endpoint accepts."""

    def __init__(self, ws_url):
        u = urllib.parse.urlparse(ws_url)
        self.s = socket.create_connection((u.hostname, u.port))
        key = base64.b64encode(os.urandom(16)).decode()
        self.s.sendall(("GET %s HTTP/1.1\r\nHost: %s:%d\r\nUpgrade: websocket\r\n"
                        "Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\n"
                        "Sec-WebSocket-Version: 13\r\n\r\n"
                        % (u.path, u.hostname, u.port, key)).encode())
        head = b""
        while b"\r\n\r\n" not in head:
            head += self.s.recv(1)
        if b" 101 " not in head.split(b"\r\n")[0]:
            raise RuntimeError("DevTools refused the WebSocket: %r" % head[:80])
        self.n = 0

    def _read(self, n):
        data = b""
        while len(data) < n:
            chunk = self.s.recv(n - len(data))
            if not chunk:
                raise RuntimeError("DevTools closed the connection")
            data += chunk
        return data

    def _frame(self):
        b0, b1 = self._read(2)
        n = b1 & 0x7f
        if n == 126:
            n = struct.unpack(">H", self._read(2))[0]
        elif n == 127:
            n = struct.unpack(">Q", self._read(8))[0]
        return b0 & 0x0f, self._read(n)

    def call(self, method, **params):
        self.n += 1
        data = json.dumps({"id": self.n, "method": method, "params": params}).encode()
        mask = os.urandom(4)
        head = bytes([0x81])   # FIN, text
        if len(data) < 126:
            head += bytes([0x80 | len(data)])
        else:
            head += bytes([0x80 | 126]) + struct.pack(">H", len(data))
        self.s.sendall(head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(data)))
        msg = b""
        while True:
            op, payload = self._frame()
            msg += payload
            if op not in (0, 1) or not payload and op == 0:
                continue
            try:
                reply = json.loads(msg)
            except ValueError:
                continue   # a message in several frames
            msg = b""
            if reply.get("id") == self.n:
                return reply.get("result", {})

url, out = sys.argv[1], sys.argv[2]
s = socket.socket()
s.bind(("127.0.0.1", 0))
port = s.getsockname()[1]
s.close()
profile = tempfile.mkdtemp(prefix="display-chromium-")
chrome = subprocess.Popen(["chromium", "--headless=new", "--no-sandbox", "--disable-gpu",
                           "--hide-scrollbars", "--window-size=760,480",
                           "--remote-debugging-address=127.0.0.1",
                           "--remote-debugging-port=%d" % port, "--remote-allow-origins=*",
                           "--user-data-dir=" + profile, "about:blank"],
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
try:
    page = None
    for _ in range(120):
        try:
            with urllib.request.urlopen("http://127.0.0.1:%d/json/list" % port) as r:
                page = [t for t in json.load(r) if t["type"] == "page"][0]
            break
        except Exception:
            time.sleep(0.5)
    if not page:
        sys.exit("browser-shot: chromium's DevTools endpoint did not come up")
    call = DevTools(page["webSocketDebuggerUrl"]).call

    call("Page.navigate", url=url)
    status = ""
    for _ in range(60):
        time.sleep(1)
        r = call("Runtime.evaluate", expression="(document.getElementById('status')||{})"
                 ".textContent || ''", returnByValue=True)
        status = r.get("result", {}).get("value", "")
        if status.startswith("Connected"):
            break
    print("browser: noVNC status: %s" % status)
    time.sleep(2)   # the first framebuffer update
    shot = call("Page.captureScreenshot", format="png")
    with open(out, "wb") as f:
        f.write(base64.b64decode(shot["data"]))
    sys.exit(0 if status.startswith("Connected") else 1)
finally:
    chrome.terminate()
    chrome.wait()
    subprocess.run(["rm", "-rf", profile])
