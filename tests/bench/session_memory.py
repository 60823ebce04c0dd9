#!/usr/bin/env python3
"""The relay's memory with idle signalling sessions: N testimony-probe sessions (default 50)
join hearings over HTTPS/WebSocket and stay, sending nothing; the relay's VmRSS and VmHWM are
read from /proc before they connect and once all have joined. Runs inside a private network
namespace:

    sh tests/e2e/netns-run.sh python3 tests/bench/session_memory.py [--sessions N]

with TESTIMONY_RELAY and TESTIMONY_PROBE naming the binaries (as meson sets them for the
end-to-end tests)."""
import argparse
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "e2e"))
import harness  # noqa: E402
from harness import RELAY, Probe, Relay  # noqa: E402

PER_HEARING = 12  # a hearing holds at most 16 participants


def memory(pid):
    fields = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                fields[key] = int(value.split()[0]) / 1024
    return fields


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sessions", type=int, default=50)
    args = ap.parse_args()
    relay = Relay()
    probes = []
    try:
        hearings = [relay.hearing]
        for i in range(1, (args.sessions + PER_HEARING - 1) // PER_HEARING):
            hearings.append(f"m{i}")
            subprocess.run([RELAY, "hearing", "create", "--state-dir", relay.state, "--id",
                            hearings[-1], "--case", f"M-{i}", "--waiting-room", "off"],
                           check=True, stdout=subprocess.DEVNULL)
        time.sleep(1)  # the relay settles after start (not a wait for a condition)
        before = memory(relay.proc.pid)
        for i in range(args.sessions):
            tok = relay.token("observer", f"Observer {i}", hearing=hearings[i // PER_HEARING])
            probes.append(Probe(relay, '{"type": "join", "token": "%s"}' % tok,
                                wait_ms=600000))
        joined = harness.wait_until(lambda: all(p.got("joined") for p in probes), timeout=120)
        n = sum(p.got("joined") for p in probes)
        time.sleep(2)  # what the sessions hold once idle (not a wait for a condition)
        after = memory(relay.proc.pid)
        print(f"{n} of {args.sessions} sessions joined{'' if joined else ' (not all)'}")
        print(f"before: VmRSS {before['VmRSS']:.1f} MiB, VmHWM {before['VmHWM']:.1f} MiB")
        print(f"after:  VmRSS {after['VmRSS']:.1f} MiB, VmHWM {after['VmHWM']:.1f} MiB")
        print(f"per session: {(after['VmRSS'] - before['VmRSS']) / max(n, 1) * 1024:.0f} KiB "
              f"(VmRSS)")
        return 0 if joined else 1
    finally:
        for p in probes:
            p.proc.kill()
            p.join(timeout=10)
        harness.shutdown(relay, [])


if __name__ == "__main__":
    sys.exit(main())
