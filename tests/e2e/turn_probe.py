"""A minimal TURN Allocate (RFC 8656) with long-term credentials, over UDP, TCP or TLS: whether
a TURN server grants an allocation to USERNAME and PASSWORD (tests/e2e/strict_firewall.py).

    turn_probe.py HOST PORT udp|tcp|tls USERNAME PASSWORD [CA.pem [PEER]]

prints ('allocated', XOR-RELAYED-ADDRESS) or ('refused', ERROR-CODE); with PEER, whether the
server then lets the allocation send to PEER: ('permitted', PEER) or ('permission refused',
ERROR-CODE). With tls the server's certificate is checked against CA.pem (its name is not: tests
use addresses)."""
import hashlib
import hmac
import os
import socket
import ssl
import struct
import sys

MAGIC = 0x2112A442


def attr(t, v):
    return struct.pack("!HH", t, len(v)) + v + b"\0" * ((4 - len(v) % 4) % 4)


def message(mtype, tid, attrs, key=None):
    body = b"".join(attrs)
    if key is not None:
        head = struct.pack("!HHI", mtype, len(body) + 24, MAGIC) + tid
        mac = hmac.new(key, head + body, hashlib.sha1).digest()
        body += attr(0x0008, mac)
    return struct.pack("!HHI", mtype, len(body), MAGIC) + tid + body


def parse(data):
    mtype, length, _ = struct.unpack("!HHI", data[:8])
    attrs, i = {}, 20
    while i + 4 <= 20 + length:
        t, l = struct.unpack("!HH", data[i:i + 4])
        attrs[t] = data[i + 4:i + 4 + l]
        i += 4 + l + ((4 - l % 4) % 4)
    return mtype, attrs


class Conn:
    def __init__(self, host, port, transport, cafile=None):
        self.transport = transport
        if transport == "udp":
            self.s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            self.s.connect((host, port))
        else:
            self.s = socket.create_connection((host, port), timeout=5)
            if transport == "tls":
                ctx = ssl.create_default_context(cafile=cafile)
                ctx.check_hostname = False
                self.s = ctx.wrap_socket(self.s)
        self.s.settimeout(5)

    def ask(self, data):
        self.s.send(data)
        if self.transport == "udp":
            return self.s.recv(4096)
        head = self._read(20)
        return head + self._read(struct.unpack("!H", head[2:4])[0])

    def _read(self, n):
        out = b""
        while len(out) < n:
            chunk = self.s.recv(n - len(out))
            if not chunk:
                raise ConnectionError("closed")
            out += chunk
        return out


def error_code(a):
    err = a.get(0x0009, b"\0\0\0\0")
    return err[2] * 100 + err[3]


def allocate(host, port, transport, username, password, cafile=None, peer=None):
    """Returns ("allocated", relayed address bytes) or ("refused", error code); with PEER (an
    IPv4 address) it then asks for a permission to send to PEER and returns ("permitted", PEER)
    or ("permission refused", error code)."""
    c = Conn(host, port, transport, cafile)
    want = attr(0x0019, bytes([17, 0, 0, 0]))
    mtype, a = parse(c.ask(message(0x0003, os.urandom(12), [want])))
    if mtype != 0x0113 or 0x0015 not in a:
        return ("unexpected", mtype)
    realm, nonce = a[0x0014], a[0x0015]
    key = hashlib.md5(f"{username}:{realm.decode()}:{password}".encode()).digest()
    attrs = [want, attr(0x0006, username.encode()), attr(0x0014, realm), attr(0x0015, nonce)]
    mtype, a = parse(c.ask(message(0x0003, os.urandom(12), attrs, key)))
    if mtype != 0x0103:
        return ("refused", error_code(a))
    if peer is None:
        return ("allocated", a.get(0x0016))
    ip = bytes(b ^ m for b, m in zip(socket.inet_aton(peer), struct.pack("!I", MAGIC)))
    xpa = attr(0x0012, struct.pack("!BBH", 0, 1, 9 ^ (MAGIC >> 16)) + ip)
    mtype, a = parse(c.ask(message(0x0008, os.urandom(12), [xpa] + attrs[1:], key)))
    return ("permitted", peer) if mtype == 0x0108 else ("permission refused", error_code(a))


if __name__ == "__main__":
    print(allocate(sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5],
                   sys.argv[6] if len(sys.argv) > 6 and sys.argv[6] else None,
                   sys.argv[7] if len(sys.argv) > 7 else None))
