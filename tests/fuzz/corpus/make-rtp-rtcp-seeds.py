#!/usr/bin/env python3
"""Writes the seed corpora tests/fuzz/corpus/rtp/ and tests/fuzz/corpus/rtcp/.

Run once from anywhere (the files are committed): python3 tests/fuzz/corpus/make-rtp-rtcp-seeds.py
Each seed is built field by field here, independently of the C serializers, so that the fuzz
targets start from packets shaped like a browser's: Opus and VP8 RTP with header extensions,
CSRCs and padding, RTX with its OSN and padding-only RTX probes; compound SR+SDES and RR+SDES+PLI, NACK, FIR, REMB, transport-cc; and
malformed packets that must be refused without harm.
"""
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))


# ---- RTP ----

def rtp(pt, seq, ts, ssrc, payload=b"", marker=False, csrcs=(), ext=None, pad=0, version=2):
    """ext: (profile, bytes) with len(bytes) % 4 == 0; pad: padding length incl. count byte."""
    b0 = version << 6 | (0x20 if pad else 0) | (0x10 if ext else 0) | len(csrcs)
    out = struct.pack("!BBHII", b0, (0x80 if marker else 0) | pt, seq, ts, ssrc)
    for c in csrcs:
        out += struct.pack("!I", c)
    if ext:
        profile, data = ext
        out += struct.pack("!HH", profile, len(data) // 4) + data
    out += payload
    if pad:
        out += bytes(pad - 1) + bytes([pad])
    return out


def one_byte_ext(*items):
    """RFC 8285 one-byte header extensions: (id, bytes) items, padded to a word."""
    data = b"".join(bytes([i << 4 | (len(v) - 1)]) + v for i, v in items)
    return (0xBEDE, data + bytes(-len(data) % 4))


AUDIO_LEVEL = (1, bytes([0x80 | 42]))          # voice, -42 dBov
ABS_SEND_TIME = (3, bytes([0x12, 0x34, 0x56]))
TRANSPORT_CC = (5, struct.pack("!H", 0x0102))
OPUS = bytes([0x78]) + bytes(range(60))        # TOC: SILK-only WB 20 ms, one frame

# VP8 (RFC 7741): descriptor, then a key frame header (P = 0, start code, 640x480)
VP8_KEY = bytes([0x50, 0x42, 0x00, 0x9D, 0x01, 0x2A, 0x80, 0x02, 0xE0, 0x01]) + bytes(40)
VP8_INTER = bytes([0x31, 0x02, 0x00]) + bytes(30)

RTP_SEEDS = {
    "opus": rtp(111, 1000, 48000, 0x1A2B3C4D, OPUS),
    "opus-audio-level": rtp(111, 1001, 48960, 0x1A2B3C4D, OPUS, marker=True,
                            ext=one_byte_ext(AUDIO_LEVEL, TRANSPORT_CC)),
    "opus-dtx": rtp(111, 65535, 0xFFFFFC40, 0x1A2B3C4D, bytes([0xF8, 0xFF, 0xFE])),
    "vp8-keyframe": rtp(96, 20000, 90000, 0x5E6F7081,
                        bytes([0x90, 0x80, 0x81, 0x23]) + VP8_KEY, marker=False,
                        ext=one_byte_ext(ABS_SEND_TIME, TRANSPORT_CC)),
    "vp8-keyframe-no-x": rtp(96, 20001, 90000, 0x5E6F7081, bytes([0x10]) + VP8_KEY),
    "vp8-continuation": rtp(96, 20002, 90000, 0x5E6F7081,
                            bytes([0x80, 0x80, 0x81, 0x23]) + bytes(100), marker=True),
    "vp8-inter-tl0-tid": rtp(96, 20003, 93000, 0x5E6F7081,
                             bytes([0x90, 0xF0, 0x24, 0x11, 0x40]) + VP8_INTER, marker=True),
    "csrc-2": rtp(111, 7, 960, 0x01020304, OPUS, csrcs=(0xAAAA0001, 0xBBBB0002)),
    "csrc-15": rtp(111, 8, 1920, 0x01020304, b"\x01", csrcs=tuple(range(1, 16))),
    "padding-4": rtp(96, 9, 0, 0x0BADF00D, bytes([0x10]) + VP8_INTER, pad=4),
    "padding-only": rtp(96, 10, 0, 0x0BADF00D, b"", pad=224),
    "two-byte-ext": rtp(96, 11, 0, 0x0BADF00D, b"\x10\x31",
                        ext=(0x1000, bytes([7, 3, 1, 2, 3, 0, 0, 0]))),
    "empty-ext": rtp(111, 12, 0, 0x0BADF00D, OPUS, ext=(0xBEDE, b"")),
    "everything": rtp(96, 13, 1, 2, bytes([0x90, 0x80, 0x05]) + VP8_KEY, marker=True,
                      csrcs=(9,), ext=one_byte_ext(AUDIO_LEVEL, ABS_SEND_TIME), pad=3),
    "header-only": rtp(0, 0, 0, 0),
    # RTX (RFC 4588): the original sequence number first in the payload
    "rtx-vp8": rtp(97, 4242, 93000, 0x22222222, struct.pack("!H", 20003) + bytes([0x10]) + VP8_INTER,
                   marker=True, ext=one_byte_ext(ABS_SEND_TIME, TRANSPORT_CC)),
    "rtx-osn-wrap": rtp(97, 65535, 0, 0x22222222, b"\xff\xff" + bytes([0x10]) + VP8_KEY, pad=4),
    "rtx-padding-probe": rtp(97, 4243, 93000, 0x22222222, b"", pad=255),
    "rtx-osn-only": rtp(97, 4244, 93000, 0x22222222, b"\x00\x01"),
    # malformed
    "bad-version-1": rtp(111, 1, 1, 1, OPUS, version=1),
    "bad-short-11": rtp(111, 1, 1, 1)[:11],
    "bad-padding-zero": rtp(111, 1, 1, 1, OPUS, pad=4)[:-1] + b"\x00",
    "bad-padding-too-big": rtp(111, 1, 1, 1, b"\x01\x02", pad=1)[:-1] + b"\x09",
    "bad-ext-past-end": rtp(96, 1, 1, 1, b"", ext=(0xBEDE, b"\x10\x00\x00\x00"))[:-2],
    "bad-csrc-past-end": rtp(111, 1, 1, 1, csrcs=(1, 2, 3))[:20],
    "empty": b"",
}


# ---- RTCP ----

def rtcp(pt, count, body, padding=0, version=2):
    """One RTCP packet; BODY without padding, a multiple of 4 bytes (with PADDING added)."""
    if padding:
        body += bytes(padding - 1) + bytes([padding])
    assert len(body) % 4 == 0
    b0 = version << 6 | (0x20 if padding else 0) | count
    return struct.pack("!BBH", b0, pt, len(body) // 4) + body


def report_block(ssrc, fraction, lost, highest, jitter, lsr, dlsr):
    return struct.pack("!IB", ssrc, fraction) + (lost & 0xFFFFFF).to_bytes(3, "big") + \
        struct.pack("!IIII", highest, jitter, lsr, dlsr)


def sr(ssrc, blocks=()):
    ntp = 0xE5A1B2C3_80000000
    body = struct.pack("!IQIII", ssrc, ntp, 0x12345678, 1500, 1500 * 120)
    return rtcp(200, len(blocks), body + b"".join(blocks))


def rr(ssrc, blocks=(), padding=0):
    return rtcp(201, len(blocks), struct.pack("!I", ssrc) + b"".join(blocks), padding)


def sdes(ssrc, cname):
    chunk = struct.pack("!IBB", ssrc, 1, len(cname)) + cname + b"\x00"
    return rtcp(202, 1, chunk + bytes(-len(chunk) % 4))


def fb(pt, fmt, sender, media, fci=b""):
    return rtcp(pt, fmt, struct.pack("!II", sender, media) + fci)


def nack(sender, media, items):
    return fb(205, 1, sender, media, b"".join(struct.pack("!HH", p, b) for p, b in items))


def remb_fci(exp, mantissa, ssrcs):
    return b"REMB" + bytes([len(ssrcs)]) + (exp << 18 | mantissa).to_bytes(3, "big") + \
        b"".join(struct.pack("!I", s) for s in ssrcs)


BLOCK = report_block(0x5E6F7081, 12, 345, 0x0001_4E20, 180, 0xB2C38000, 0x0002_8000)
NEG_BLOCK = report_block(0x1A2B3C4D, 0, -3, 0x0000_03E8, 7, 0, 0)
CNAME = b"x9YdN3lT4vq0Jc2B"
# transport-cc (RTPFB fmt 15): base seq 1000, 3 packets, one run-length chunk, 3 deltas
TWCC = fb(205, 15, 0x01, 0x5E6F7081,
          struct.pack("!HHI", 1000, 3, 0x000A0B00 | 7) + struct.pack("!H", 0x2003) +
          bytes([4, 8, 12]) + b"\x00\x00\x00")

RTCP_SEEDS = {
    "sr-sdes": sr(0x5E6F7081, [BLOCK]) + sdes(0x5E6F7081, CNAME),
    "sr-no-blocks": sr(0x1A2B3C4D),
    "rr-empty-sdes": rr(0x01) + sdes(0x01, b"relay"),
    "rr-two-blocks-negative-loss": rr(0x01, [BLOCK, NEG_BLOCK]),
    "rr-sdes-pli": rr(0x01, [BLOCK]) + sdes(0x01, CNAME) + fb(206, 1, 0x01, 0x5E6F7081),
    "rr-padding": rr(0x01, [BLOCK], padding=8),
    "nack-one": nack(0x01, 0x5E6F7081, [(20005, 0)]),
    "nack-three-wrap": nack(0x01, 0x5E6F7081, [(65530, 0x8001), (3, 0xFFFF), (100, 0x0102)]),
    "pli": fb(206, 1, 0x01, 0x5E6F7081),
    "fir-two": fb(206, 4, 0x01, 0, struct.pack("!IB3xIB3x", 0x5E6F7081, 3, 0x11111111, 255)),
    "remb": fb(206, 15, 0x01, 0, remb_fci(3, 187500, [0x5E6F7081, 0x1A2B3C4D])),
    "remb-zero-mantissa-exp63": fb(206, 15, 0x01, 0, remb_fci(63, 0, [1])),
    "remb-overflow": fb(206, 15, 0x01, 0, remb_fci(63, 0x3FFFF, [1])),
    "transport-cc": TWCC,
    "rr-transport-cc": rr(0x01) + TWCC,
    "bye": rtcp(203, 1, struct.pack("!I", 0x1A2B3C4D)),
    "app": rtcp(204, 0, struct.pack("!I", 1) + b"TEST" + b"\x00\x01\x02\x03"),
    "sr-rr-sdes-bye": sr(1, [BLOCK]) + rr(2) + sdes(1, CNAME) + rtcp(203, 1, struct.pack("!I", 1)),
    # malformed
    "bad-truncated-length": rr(0x01, [BLOCK])[:-4],
    "bad-version-1": rtcp(201, 0, struct.pack("!I", 1), version=1),
    "bad-nack-65-items": nack(0x01, 0x02, [(i, 0) for i in range(65)]),
    "bad-fir-length-12": fb(206, 4, 0x01, 0, struct.pack("!IB3xI", 1, 1, 2)),
    "bad-padding-zero": rr(0x01, padding=4)[:-1] + b"\x00",
    "bad-sdes-nul-cname": rtcp(202, 1, struct.pack("!IBB", 1, 1, 3) + b"a\x00b" + bytes(3)),
    "pli-then-garbage": fb(206, 1, 0x01, 0x02) + b"\x9f\xce\xff\xff\x00",
}


def write(folder, seeds):
    path = os.path.join(HERE, folder)
    os.makedirs(path, exist_ok=True)
    for name, data in seeds.items():
        with open(os.path.join(path, name), "wb") as f:
            f.write(data)
    print(f"{folder}: {len(seeds)} seeds")


if __name__ == "__main__":
    write("rtp", RTP_SEEDS)
    write("rtcp", RTCP_SEEDS)
