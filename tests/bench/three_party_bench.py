#!/usr/bin/env python3
"""Benchmark: the relay's CPU time and peak memory during a 20 s three-party call (640x480 VP8 +
Opus each), with the evidence recording off and on, alternating runs so both see the same
machine load; and join times: of the three who start together, and of a fourth participant who
joins the running call late (LATE of them one after another per call), from its client's start
and from its subscription to each feed to the first decoded frame. Not a test: it prints
figures for docs/performance.md.

    sh tests/e2e/netns-run.sh env TESTIMONY_RELAY=build/relay/shell/testimony-relay \\
       TESTIMONY_CLIENT=build/client/testimony-client TESTIMONY_CTL=build/client/testimony-ctl \\
       TESTIMONY_PIPELINES=pipelines python3 tests/bench/three_party_bench.py [ROUNDS]
"""
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "e2e"))
import harness  # noqa: E402
from harness import Client, Relay, ctl  # noqa: E402

PEOPLE = [("judge", "Judge", "ff0000", 440), ("witness", "Witness", "00ff00", 660),
          ("clerk", "Clerk", "0000ff", 880)]
CALL_S = 20
LATE = 3


def one_call(record):
    relay = Relay()
    clients = [Client(relay, relay.token(r, n), r, c, t, duration=CALL_S + 8 + 30 * LATE)
               for r, n, c, t in PEOPLE]
    try:
        time.sleep(6)  # everyone joined and media flowing
        if record:
            ctl(relay, relay.token("clerk", "Console"), "record", "start")
        cpu0, _ = relay.usage()
        time.sleep(CALL_S)
        cpu1, peak = relay.usage()
        joins = [r.get("first_frame_ms", 0) for c in clients
                 for r in (c.last() or {}).get("remotes", [])]
        size = 0
        if record:
            ctl(relay, relay.token("clerk", "Console 2"), "record", "stop")
            rec = os.path.join(relay.state, "recordings")
            for d in os.listdir(rec):
                size += sum(os.path.getsize(os.path.join(rec, d, f))
                            for f in os.listdir(os.path.join(rec, d)))
        late = [late_join(relay, i) for i in range(LATE)]
        return cpu1 - cpu0, peak, joins, size, late
    finally:
        for c in clients:
            c.stop()
        relay.stop()
        relay.cleanup()


def late_join(relay, i):
    """A judge's second screen joins the running call: ([start to first frame], [subscription to
    first frame]) of the three feeds, in ms, once all three are decoded (or after 30 s)."""
    c = Client(relay, relay.token("judge", f"Late {i}"), f"late-{i}", "ffffff", 330, duration=30)
    try:
        def all_decoded():
            remotes = (c.last() or {}).get("remotes", [])
            return len(remotes) == 3 and all(r.get("subscribe_frame_ms") for r in remotes)
        harness.wait_until(all_decoded, timeout=30)
        remotes = (c.last() or {}).get("remotes", [])
        return ([r["first_frame_ms"] for r in remotes if r.get("first_frame_ms")],
                [r["subscribe_frame_ms"] for r in remotes if r.get("subscribe_frame_ms")])
    finally:
        c.stop()


def main():
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    off, on, peaks, joins, sizes, late_start, late_sub = [], [], [], [], [], [], []
    for i in range(rounds):
        for record in (False, True):
            cpu, peak, j, size, late = one_call(record)
            for started, subscribed in late:
                late_start += started
                late_sub += subscribed
            (on if record else off).append(cpu)
            peaks.append(peak)
            joins += j
            if record:
                sizes.append(size)
            print(f"round {i + 1} recording {'on ' if record else 'off'}: relay CPU {cpu:.2f} s "
                  f"in {CALL_S} s, peak RSS {peak} KiB", flush=True)
    print(f"relay CPU per {CALL_S} s call: recording off median {statistics.median(off):.2f} s, "
          f"on median {statistics.median(on):.2f} s "
          f"(ratio {statistics.median(on) / max(statistics.median(off), 1e-9):.2f})")
    print(f"relay peak RSS: max {max(peaks)} KiB")
    print(f"join time (client start to first decoded frame of each remote): median "
          f"{statistics.median(joins):.0f} ms, max {max(joins)} ms over {len(joins)}")
    print(f"late joiner, client start to first decoded frame of each feed: median "
          f"{statistics.median(late_start):.0f} ms, max {max(late_start)} ms over "
          f"{len(late_start)}")
    print(f"late joiner, subscription to first decoded frame of each feed: median "
          f"{statistics.median(late_sub):.0f} ms, max {max(late_sub)} ms over {len(late_sub)}")
    print(f"recording size: {statistics.median(sizes) * 60 / CALL_S / 1e6:.2f} MB per minute")


if __name__ == "__main__":
    main()
