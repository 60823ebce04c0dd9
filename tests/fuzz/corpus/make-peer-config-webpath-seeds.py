#!/usr/bin/env python3
"""Writes the seed corpora tests/fuzz/corpus/peer/, config/ and webpath/.

Run once from anywhere (the files are committed):
    python3 tests/fuzz/corpus/make-peer-config-webpath-seeds.py

peer (tests/fuzz/fuzz-peer.c): a setup byte (roles, waiting room) and a list of operations, as
fuzz-peer.c reads them: [op][length, 2 bytes big-endian][bytes]. They play what happens in a
hearing: media forwarded with key frames awaited, losses asked for again and resent, reports,
key-frame requests, the waiting room, mutes and the screened witness, replayed and altered
packets, garbage, a browser that closes, people leaving, and extra connections offered in SDP.

webpath: request paths the relay serves (the join page, scripts, styles, translations, icons) and
paths it must refuse (climbing out, doubled or back slashes, control characters, unknown suffixes,
too long). config: configuration files as docs/configuration.md shows them, and ones the relay
must refuse (unknown group or key, a bad port range), with values the parser has to unescape.
"""
import importlib.util
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))


def seed_writer():
    """write(folder, seeds) of make-rtp-rtcp-seeds.py: one file a seed below this folder."""
    spec = importlib.util.spec_from_file_location(
        "rtp_rtcp_seeds", os.path.join(HERE, "make-rtp-rtcp-seeds.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.write


# Operations (fuzz-peer.c).
MEDIA, RTP, RTCP_PUB, RTCP_SUB, FEEDBACK, RAW, TIME, CONTROL, REPLAY, OFFER = range(10)
# Roles (relay/engine/role.h).
JUDGE, CLERK, WITNESS, SUPPORT, INTERPRETER, PROSECUTOR, DEFENCE, DEFENDANT = range(8)
OBSERVER_BIT, WAITING_ROOM_BIT = 0x40, 0x80
# Control actions: low bits what, 0x20 video, 0x40 the receiver (else the publisher), 0x80 on.
STATE, MUTE, SCREEN, KEYFRAMES, UNSUBSCRIBE, LEAVE, CLOSE_DTLS, LOSE = range(8)
VIDEO_BIT, RECEIVER_BIT, ON_BIT = 0x20, 0x40, 0x80
# Feedback kinds and SSRC choices.
NACK, PLI, FIR, RR, REMB = range(5)
SSRC_VIDEO, SSRC_AUDIO, SSRC_OTHER = range(3)

VP8_KEY = bytes([0x10, 0x00, 0x9D, 0x01, 0x2A, 0x80, 0x02, 0xE0, 0x01]) + bytes(40)
VP8_DELTA = bytes([0x10, 0x01, 0x02, 0x03]) + bytes(30)
OPUS = bytes([0xFC, 0xFF, 0xFE]) + bytes(20)


def setup(pub=JUDGE, sub=CLERK, observer=False, waiting_room=False):
    return bytes([pub | sub << 3 | (OBSERVER_BIT if observer else 0) |
                  (WAITING_ROOM_BIT if waiting_room else 0)])


def op(code, payload=b""):
    return bytes([code]) + struct.pack("!H", len(payload)) + payload


def audio(step=1, payload=OPUS):
    return op(MEDIA, bytes([0, step & 0xFF]) + payload)


def video(payload=VP8_DELTA, step=1, marker=True, new_ssrc=False):
    flags = 1 | (2 if marker else 0) | (4 if new_ssrc else 0)
    return op(MEDIA, bytes([flags, step & 0xFF]) + payload)


def time(ms):
    return op(TIME, struct.pack("!H", ms))


def control(what, receiver=False, video_track=False, on=False):
    return op(CONTROL, bytes([what | (RECEIVER_BIT if receiver else 0) |
                              (VIDEO_BIT if video_track else 0) | (ON_BIT if on else 0)]))


def nack(*items, ssrc=SSRC_VIDEO):
    """items: (packets back from the highest the receiver was sent, BLP)."""
    return op(FEEDBACK, bytes([NACK, ssrc]) + b"".join(struct.pack("!BH", b, blp)
                                                        for b, blp in items))


def feedback(kind, ssrc=SSRC_VIDEO, rest=b""):
    return op(FEEDBACK, bytes([kind, ssrc]) + rest)


def rtp_header(pt, seq, ts, ssrc, marker=False, ext=None, csrcs=(), pad=0):
    b0 = 0x80 | (0x20 if pad else 0) | (0x10 if ext else 0) | len(csrcs)
    out = struct.pack("!BBHII", b0, (0x80 if marker else 0) | pt, seq, ts, ssrc)
    out += b"".join(struct.pack("!I", c) for c in csrcs)
    if ext:
        out += struct.pack("!HH", 0xBEDE, len(ext) // 4) + ext
    return out


def rtcp(pt, count, body):
    return struct.pack("!BBH", 0x80 | count, pt, (len(body) + 4) // 4 - 1) + body


def offer(direction):
    fp = ":".join(["AB"] * 32)
    return ("v=0\r\no=- 9 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE a v\r\n"
            "a=ice-ufrag:xtra\r\na=ice-pwd:extrapasswordextrapassword\r\n"
            f"a=fingerprint:sha-256 {fp}\r\na=setup:actpass\r\n"
            "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\na=mid:a\r\n"
            f"a={direction}\r\na=rtcp-mux\r\na=rtpmap:111 opus/48000/2\r\n"
            "m=video 9 UDP/TLS/RTP/SAVPF 96 97\r\nc=IN IP4 0.0.0.0\r\na=mid:v\r\n"
            f"a={direction}\r\na=rtcp-mux\r\na=rtpmap:96 VP8/90000\r\n"
            "a=rtpmap:97 rtx/90000\r\na=fmtp:97 apt=96\r\na=rtcp-fb:96 nack\r\n"
            "a=ssrc:4242 cname:extra\r\n").encode()


def offer_op(direction):
    """An offer to receive the publisher is of odd length, to publish of even length."""
    text = offer(direction)
    if len(text) % 2 != (direction == "recvonly"):
        text += b"a=x\r\n"  # an attribute the parser ignores
    return op(OFFER, text)


SEEDS = {
    # Audio at once, video from the first key frame; reports after a second.
    "forward": setup() + audio() + video() + video(VP8_KEY) + video() + audio() +
    time(1000) + feedback(RR, rest=bytes([SSRC_VIDEO, 0, 1, SSRC_AUDIO, 10, 0])) + time(1000),
    # A loss upstream: the relay asks again until the packet comes or it gives up.
    "nack-upstream": setup() + video(VP8_KEY) + video(step=3) + time(100) + time(100) +
    video(step=-1) + video(step=3) + time(100) + time(100) + time(100) + time(100) + time(500),
    # The receiver lost packets: resent from the buffer; one never sent is not.
    # The publisher's RTX fills the hole the relay NACKed (2002; video starts at 2000), then a
    # padding probe and a copy; the receiver NACKs and gets RTX; REMB both ways after a second.
    "rtx-remb": setup() + video(VP8_KEY) + video(step=3) +
    op(MEDIA, bytes([1 | 8, 0, 97]) + struct.pack("!H", 2002) + VP8_DELTA) +
    op(MEDIA, bytes([1 | 8, 0, 97])) +
    op(MEDIA, bytes([1 | 8, 0, 97]) + struct.pack("!H", 2001) + VP8_DELTA) +
    nack((1, 0b11)) + time(1000) + feedback(REMB, rest=b"\x00\x20\x00") + time(1000),
    "nack-downstream": setup() + video(VP8_KEY) + video() + op(CONTROL, bytes([LOSE | 0x20])) +
    video() + video() + nack((1, 0x0001)) + nack((0, 0)) + nack((200, 0xFFFF)) +
    nack((1, 0), ssrc=SSRC_AUDIO),
    # Key-frame requests from the receiver, rate-limited, and from the recording.
    "keyframe-requests": setup() + video(VP8_KEY) + video() + feedback(PLI) + feedback(PLI) +
    feedback(FIR, rest=b"\x01") + time(400) + feedback(PLI) + control(KEYFRAMES) +
    feedback(REMB, ssrc=SSRC_VIDEO),
    # The receiver waits, then is admitted: video waits for a key frame again.
    "waiting-room": setup(JUDGE, WITNESS, waiting_room=True) + audio() + video(VP8_KEY) +
    control(STATE, receiver=True) + audio() + video() + video(VP8_KEY) + video() +
    control(STATE, receiver=True, on=True) + video() + audio(),
    # Sent to the waiting room after receiving video, the receiver asks for it again.
    "waiting-then-nack": setup(JUDGE, CLERK) + video(VP8_KEY) + op(CONTROL, bytes([LOSE])) +
    video() + video() +
    control(STATE, receiver=True, on=True) + nack((1, 0)) + time(50),
    # Screening the witness stops its video to the defendant; audio goes on.
    "screen-witness": setup(WITNESS, DEFENDANT) + video(VP8_KEY) + audio() +
    control(SCREEN, on=True) + video(VP8_KEY) + audio() + nack((0, 0)) +
    control(SCREEN) + video() + video(VP8_KEY),
    # The judge mutes the publisher's audio, then video, then lifts both.
    "mute": setup(PROSECUTOR, DEFENCE) + audio() + control(MUTE, on=True) + audio() +
    video(VP8_KEY) + control(MUTE, video_track=True, on=True) + video() +
    control(MUTE) + control(MUTE, video_track=True) + audio() + video() + video(VP8_KEY),
    # An observer receives; a new SSRC from the publisher resets its stream.
    "observer": setup(INTERPRETER, observer=True) + video(VP8_KEY) + video(new_ssrc=True) +
    video(VP8_KEY, step=-20) + audio() + time(1200),
    # Replayed, altered and unencrypted packets are dropped.
    "replay": setup() + audio() + op(REPLAY, b"\x00") + op(REPLAY, b"\x00\x05\x01") +
    op(REPLAY, b"\x00\x30\x80") + feedback(PLI) + op(REPLAY, b"\x01") +
    op(RAW, b"\x00" + rtp_header(111, 7, 960, 1) + OPUS),
    # Garbage of every class to each connection: DTLS, STUN, RTP, RTCP, unknown, too long.
    "raw": setup() + op(RAW, b"\x00\x16\xfe\xfd" + bytes(20)) + op(RAW, b"\x01\x00\x01\x00\x00") +
    op(RAW, b"\x01\x80\xc8\x00\x06" + bytes(24)) + op(RAW, b"\x00\x7f") +
    op(RAW, b"\x00\x80\x60" + bytes(1700)) + op(RAW, b"\x01"),
    # Whatever RTP header the publisher sends is parsed: extensions, CSRCs, padding, wrong PT.
    "rtp-headers": setup() +
    op(RTP, rtp_header(96, 2001, 180000, 0x5EED0001, marker=True,
                       ext=bytes([0x10, 0x42, 0x22, 0x12, 0x34, 0x56, 0, 0])) + VP8_KEY) +
    op(RTP, rtp_header(111, 1001, 90960, 0x5EED0000, csrcs=(1, 2)) + OPUS) +
    op(RTP, rtp_header(111, 1002, 91920, 0x5EED0000, pad=4) + OPUS + b"\x00\x00\x00\x04") +
    op(RTP, rtp_header(100, 1003, 92880, 0x5EED0000) + OPUS) +
    op(MEDIA, bytes([1 | 8, 1, 35]) + VP8_KEY) + op(RTP, rtp_header(96, 1, 1, 1)[:11]),
    # Compound RTCP as browsers send it, from both sides.
    "rtcp": setup() + video(VP8_KEY) + audio() + time(1000) +
    op(RTCP_PUB, rtcp(200, 0, struct.pack("!IQIII", 0x5EED0001, 0xE5000000_80000000, 1, 2, 3)) +
       rtcp(202, 1, struct.pack("!IBB", 0x5EED0001, 1, 5) + b"brwsr" + bytes(2))) +
    op(RTCP_SUB, rtcp(201, 0, struct.pack("!I", 0x5EED0000)) +
       rtcp(205, 15, struct.pack("!II", 0x5EED0000, 0) + b"\x00\x01\x00\x00")) +
    op(RTCP_SUB, rtcp(203, 1, struct.pack("!I", 0x5EED0000))) + time(1000),
    # The receiver's browser closes its DTLS connection: the subscription is closed.
    "close-receiver": setup() + audio() + control(CLOSE_DTLS, receiver=True) + audio() + time(100),
    # The publisher's browser closes: the publisher is removed, with the subscription to it.
    "close-publisher": setup() + video(VP8_KEY) + control(CLOSE_DTLS) + video() +
    feedback(PLI) + time(2000),
    # Leaving and unsubscribing; operations on connections that are gone do nothing.
    "leave": setup() + audio() + control(UNSUBSCRIBE) + audio() + control(LEAVE, receiver=True) +
    audio() + control(LEAVE) + audio() + time(1000),
    # Extra connections offered in SDP: one receiving, one publishing; DTLS bytes to the last.
    "offers": setup() + offer_op("recvonly") + audio() + video(VP8_KEY) +
    op(RAW, b"\x02\x16\xfe\xff" + bytes(60)) + offer_op("sendonly") +
    op(RAW, b"\x02\x16\xfe\xfd\x00\x00") + time(1000) + time(3000),
    # Large packets: the largest forwarded, and one too large to forward.
    "large": setup() + video(VP8_KEY + bytes(1500 - 12 - len(VP8_KEY))) +
    video(VP8_KEY + bytes(1550)) + nack((0, 0), (1, 0)),
    # Long silences and a sequence number wrap.
    "time": setup() + audio(step=0x7F) + time(65535) + audio(step=0x7F) + time(1) + time(0) +
    b"".join(audio(step=0x7F, payload=b"\xfc") for _ in range(520)) + time(1000),
}


WEBPATH = {
    "root": b"/",
    "join": b"/join",
    "index": b"/index.html",
    "script": b"/js/join.js",
    "style": b"/css/court.css",
    "translation": b"/i18n/fr.json",
    "icon": b"/favicon.svg",
    "png": b"/img/seal.png",
    "ico": b"/favicon.ico",
    "font": b"/fonts/court.woff2",
    "longest": b"/" + b"a" * (256 - 1 - 1 - 3) + b".js",
    "bad-too-long": b"/" + b"a" * (256 - 1 - 3) + b".js",
    "bad-dotdot": b"/../etc/passwd.html",
    "bad-dotdot-inside": b"/js/../../index.html",
    "bad-double-slash": b"//etc/index.html",
    "bad-backslash": b"/js\\..\\index.html",
    "bad-control": b"/index\x01.html",
    "bad-del": b"/index\x7f.html",
    "bad-nul": b"/index.html\x00.js",
    "bad-relative": b"index.html",
    "bad-suffix-only": b"/.js",
    "bad-unknown-suffix": b"/keys/token.key",
    "bad-query": b"/index.html?x=1",
    "bad-empty": b"",
    "dot-segment": b"/./index.html",
    "percent": b"/%2e%2e/index.html",
    "utf8": "/i18n/fran\u00e7ais.json".encode(),
}

DOCUMENTED = b"""[relay]
# HTTPS address for signalling and status (IPv4, or [IPv6]).
listen = 127.0.0.1:8443
# Addresses ICE may offer for media; a list separated by ';'. Only these are used.
media-address = 127.0.0.1
# UDP ports ICE may bind (0-0 = any port the system gives).
ports = 20000-29999
# Where the relay keeps its keys, certificate and hearings.
state-dir = /var/lib/testimony
certificate =
private-key =
# remote-candidates = 10.0.0.0/8;192.0.2.0/24
ice-tcp = false
# turn-server = turns:turn.court.example:443?transport=tcp;turn:turn.court.example:3478?transport=udp;
# turn-secret = (openssl rand -hex 32)
# turn-lifetime = 43200
"""

CONFIG = {
    "documented": DOCUMENTED,
    "empty": b"",
    "group-only": b"[relay]\n",
    "ipv6": b"[relay]\nlisten=[::1]:443\nmedia-address=::1;192.0.2.7;\nports=0-0\n",
    "all-keys": b"[relay]\nlisten=0.0.0.0:8443\nmedia-address=10.0.0.2\nports=40000-40100\n"
                b"state-dir=/srv/testimony\ncertificate=/etc/ssl/court.pem\n"
                b"private-key=/etc/ssl/private/court.key\nweb-dir=/srv/court-web\n"
                b"remote-candidates=10.0.0.0/8;192.0.2.0/24;2001:db8::/32\n"
                b"ice-tcp=true\nturn-server=turns:turn.court.example:443?transport=tcp;"
                b"turn:[2001:db8::5]:3478?transport=udp;\n"
                b"turn-secret=0123456789abcdef0123456789abcdef\nturn-lifetime=600\n",
    "escapes": b"[relay]\nstate-dir=\\s/var/lib/test\\timony\\n\nmedia-address=a\\;b;c\n"
               b"web-dir=C:\\\\web\n",
    "crlf": b"[relay]\r\nlisten = 127.0.0.1:9443\r\nports = 1-65535\r\n",
    "duplicate-key": b"[relay]\nports=1-2\nports=3-4\n",
    "one-port": b"[relay]\nports=5000-5000\n",
    "bad-group": b"[relay]\nlisten=127.0.0.1:8443\n[server]\nlisten=127.0.0.1:8443\n",
    "bad-key": b"[relay]\nlisten=127.0.0.1:8443\nport=8443\n",
    "bad-ports-reversed": b"[relay]\nports=30000-20000\n",
    "bad-ports-zero": b"[relay]\nports=0-100\n",
    "bad-ports-big": b"[relay]\nports=1-65536\n",
    "bad-ports-sign": b"[relay]\nports=+1-2\n",
    "bad-no-group": b"listen=127.0.0.1:8443\n",
    "bad-syntax": b"[relay\nlisten\n",
    "listen-values": b"[relay]\nlisten=localhost:8443\n"
                     b"# values given to --listen and --ports as well\n"
                     b"x=[fe80::1%eth0]:443\nx=::ffff:192.0.2.1:80\nx=[]:80\nx=1.2.3.4:0\n"
                     b"x=1.2.3.4:65535\nx=65535-1\nx=0-0\nx=1-\n",
    "locale-key": b"[relay]\nlisten[fr]=127.0.0.1:8443\n",
    "workers-cc": b"[relay]\nmedia-workers=2\ntransport-cc=true\n",
    "workers-auto": b"[relay]\nmedia-workers=AUTO\ntransport-cc=false\n"
                    b"x=0\nx=64\nx=65\nx=-1\nx= 3\n",
    "bad-workers": b"[relay]\nmedia-workers=many\n",
    "bad-transport-cc": b"[relay]\ntransport-cc=yes\n",
}


if __name__ == "__main__":
    write = seed_writer()
    write("peer", SEEDS)
    write("webpath", WEBPATH)
    write("config", CONFIG)
