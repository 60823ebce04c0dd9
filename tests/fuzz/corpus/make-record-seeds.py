#!/usr/bin/env python3
"""Writes the seed corpus of fuzz-record (tests/fuzz/corpus/record/) from the byte layout in
docs/recording-format.md, independently of the C writer: small recordings with every record
type, and their damaged forms (flipped byte, truncations, deleted and swapped chunks, a length
beyond its cap, an unknown record type). Real recordings made by make-recording (one plain, one
encrypted) sit beside them as real-*.tmr."""
import hashlib
import os
import struct

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "record")
T0 = 1_700_000_000_000_000


def s16(text):
    b = text.encode()
    return struct.pack(">H", len(b)) + b


def header(hearing="H-1", case="CASE 1"):
    body = struct.pack(">qB", T0, 0) + s16(hearing) + s16(case)
    return b"TMREC\x00\x01\n" + struct.pack(">I", len(body)) + body


def record(rtype, participant, track, t, body):
    return struct.pack(">BHBqI", rtype, participant, track, t, len(body)) + body


def rtp(seq, ts, pt=96, payload=b"\x10\x00\x9d\x01\x2a"):
    return struct.pack(">BBHII", 0x80, pt, seq, ts, 0x1234) + payload


def chunk(index, prev, records):
    times = [struct.unpack(">q", r[4:12])[0] for r in records]
    payload = b"".join(records)
    head = b"TMCK" + struct.pack(">Iqq II", index, min(times), max(times), len(records),
                                 len(payload)) + prev
    assert len(head) == 64
    return head + payload + hashlib.sha256(head + payload).digest()


def recording(n_chunks=4):
    h = header()
    prev = hashlib.sha256(h).digest()
    out, chunks = [h], []
    for i in range(n_chunks):
        t = T0 + i * 1_000_000
        recs = []
        if i == 0:
            recs.append(record(2, 0, 0xFF, t, s16("p1") + s16("Judge") + s16("judge")))
            recs.append(record(4, 0, 1, t, struct.pack(">IB", 90000, 96) + s16("VP8")))
            recs.append(record(4, 0, 0, t, struct.pack(">IB", 48000, 111) + s16("opus")))
        for k in range(3):
            recs.append(record(1, 0, 1, t + k * 33000, rtp(i * 3 + k, 3000 * (i * 3 + k))))
            recs.append(record(1, 0, 0, t + k * 20000, rtp(i * 3 + k, 960 * k, 111, b"\x78")))
        if i == 1:
            recs.append(record(5, 0xFFFF, 0xFF, t + 500000, b""))
            recs.append(record(6, 0xFFFF, 0xFF, t + 700000, b""))
            recs.append(record(7, 0xFFFF, 0xFF, t + 800000, s16("clerk") + s16("exhibit 3")))
        if i == 2:
            recs.append(record(8, 0, 1, t, struct.pack(">q", t + 2_000_000)))
            recs.append(record(3, 0, 0xFF, t + 900000, b""))
        c = chunk(i, prev, recs)
        prev = c[-32:]
        chunks.append(c)
    return h, chunks


def main():
    os.makedirs(OUT, exist_ok=True)
    h, cs = recording()
    whole = h + b"".join(cs)
    seeds = {
        "ok.tmr": whole,
        "header-only.tmr": h,
        "truncated.tmr": whole[:-40],
        "flipped.tmr": whole[:len(h) + len(cs[0]) + 70] + bytes([whole[len(h) + len(cs[0]) + 70] ^ 1])
        + whole[len(h) + len(cs[0]) + 71:],
        "deleted.tmr": h + cs[0] + cs[2] + cs[3],
        "swapped.tmr": h + cs[0] + cs[2] + cs[1] + cs[3],
        "garbage-tail.tmr": whole + b"not a chunk",
        "bad-magic.tmr": b"TMREC\x00\x02\n" + whole[8:],
        "huge-header.tmr": whole[:8] + b"\xff\xff\xff\xff" + whole[12:],
        "huge-payload.tmr": h + cs[0][:28] + b"\x7f\xff\xff\xff" + cs[0][32:],
        "unknown-record.tmr": h + chunk(0, hashlib.sha256(h).digest(),
                                        [record(99, 0, 0, T0, b"x")]),
        "oversized-string.tmr": h + chunk(0, hashlib.sha256(h).digest(),
                                          [record(7, 0xFFFF, 0xFF, T0, b"\xff\xff" + b"a" * 20)]),
    }
    for name, data in seeds.items():
        with open(os.path.join(OUT, name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
