#!/usr/bin/env python3
"""The witness on a poor, far-away link: what the judge sees and hears, per condition.

The relay and the judge's testimony-client sit in one network namespace, the witness's
testimony-client in another (both sending a moving videotestsrc zone plate at about the profile's
800 kbit/s; --pattern snow for the worst case, noise no encoder compresses, or solid-color),
joined by testimony-impair (tests/netem). For each condition the link is impaired both ways for
DURATION seconds. From the clients' reports (client/timeline.h: counted on the presentation
timeline, as a sink would show and play them) it gives the witness's video frames shown per
second at the judge, the freezes (no new picture for more than 500 ms) and the longest, the
frames that came too late to show, and the holes of more than 200 ms in the witness's sound;
the same for the judge at the witness; and whether the witness was still there.

    sudo python3 tests/bench/poor_network.py [--duration 60] [--only NAME...]

Run from a build tree (it reads TESTIMONY_* from the environment, or finds build/). Figures go
to docs/performance.md, "The witness on a poor link". Not a test: nothing is asserted."""
import argparse
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
BUILD = os.environ.get("TESTIMONY_BUILD", os.path.join(ROOT, "build"))
for var, rel in [("TESTIMONY_RELAY", "relay/shell/testimony-relay"),
                 ("TESTIMONY_CLIENT", "client/testimony-client"),
                 ("TESTIMONY_CTL", "client/testimony-ctl"),
                 ("TESTIMONY_IMPAIR", "tests/netem/testimony-impair")]:
    os.environ.setdefault(var, os.path.join(BUILD, rel))
os.environ.setdefault("TESTIMONY_PIPELINES", os.path.join(ROOT, "pipelines"))
sys.path.insert(0, os.path.join(ROOT, "tests", "e2e"))
sys.path.insert(0, os.path.join(ROOT, "tests", "netem"))

from harness import Client, Relay, remote_by_name  # noqa: E402
from netns_link import ImpairedLink  # noqa: E402

# name, settings both ways, what happens during the run
CONDITIONS = [
    ("clean", "", None),
    ("2 % loss, 30 ms", "loss=2 delay=15", None),
    ("5 % loss, 150 ms RTT", "loss=5 delay=75", None),
    ("10 % loss in bursts, 200 ms RTT, 20 ms jitter", "gb=3 bg=27 delay=100 jitter=20", None),
    ("1 Mbit/s, then 300 kbit/s", "rate=1000", ("rate", "rate=300")),
    ("clean, 10 s outage", "", ("outage", 10)),
]


def series(client, name):
    """NAME's video and audio as CLIENT saw them (its report, a line a second): a list of the
    cumulative (video, audio) objects of each line."""
    rows = []
    for line in client.lines():
        r = remote_by_name(line, name)
        rows.append((r.get("video", {}), r.get("audio", {})) if r else ({}, {}))
    return rows


def summary(rows, seconds):
    """Over ROWS (from the start of the condition to its end): frames shown in time per second,
    freezes (no new picture for more than 500 ms of presentation), the longest, frames too late
    to show, and holes of more than 200 ms in the sound (docs/performance.md)."""
    if len(rows) < 2:
        return "no report"
    (v0, a0), (v1, a1) = rows[0], rows[-1]
    d = lambda a, b, k: b.get(k, 0) - a.get(k, 0)
    fps = d(v0, v1, "shown") / seconds
    return (f"{fps:.1f} fps, {d(v0, v1, 'freezes')} freezes (longest "
            f"{v1.get('longest_freeze_ms', 0) / 1000:.1f} s), {d(v0, v1, 'late')} late, "
            f"{d(a0, a1, 'gaps')} sound gaps")


def run(name, settings, event, duration, seed, pattern):
    with ImpairedLink(a2b=settings, b2a=settings, seed=seed) as link:
        in_b = lambda argv: link.command("b", argv)
        in_a = lambda argv: link.command("a", argv)
        relay = Relay(host=link.B_ADDR, wrap=in_b)
        judge = Client(relay, relay.token("judge", "Judge"), "judge", "ff0000", 440,
                       duration + 40, wrap=in_b, remote=True, pattern=pattern)
        witness = Client(relay, relay.token("witness", "Witness"), "witness", "00ff00", 660,
                         duration + 40, wrap=in_a, remote=True, pattern=pattern)
        try:
            deadline = time.time() + 30
            while time.time() < deadline and not (
                    remote_by_name(judge.last(), "Witness") or {}).get("video", {}).get("frames"):
                time.sleep(0.5)
            start = len(judge.lines()), len(witness.lines())
            t0 = time.time()
            done_event = False
            while time.time() < t0 + duration:
                time.sleep(0.5)
                at = time.time() - t0
                if event and not done_event and at >= duration / 3:
                    done_event = True
                    if event[0] == "rate":
                        link.set("both", event[1])
                    elif event[0] == "outage":
                        link.outage(True)
                        time.sleep(event[1])
                        link.outage(False)
            seconds = time.time() - t0
            j = series(judge, "Witness")[start[0]:]
            w = series(witness, "Judge")[start[1]:]
            alive = witness.proc.poll() is None
            return (f"| {name} | {summary(j, seconds)} | {summary(w, seconds)} | "
                    f"{'yes' if alive else 'no (client exited)'} |")
        finally:
            for c in (judge, witness):
                c.stop()
            relay.stop()
            relay.cleanup()


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--duration", type=int, default=60)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--only", nargs="*", help="conditions whose name starts with one of these")
    p.add_argument("--pattern", default="zone-plate",
                   help="the clients' test picture: zone-plate, snow, solid-color, ball")
    args = p.parse_args()
    if os.environ.get("POOR_NETWORK_OUTER") != "1":
        os.environ["POOR_NETWORK_OUTER"] = "1"  # everything inside a namespace of its own
        os.execvp("unshare", ["unshare", "--net", "--", sys.executable, os.path.abspath(__file__),
                              *sys.argv[1:]])
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    print(f"{args.duration} s per condition, seed {args.seed}, testimony-client both ends, "
          f"test picture {args.pattern}")
    print("| link (each way) | witness at the judge | judge at the witness | witness still there |")
    print("| --- | --- | --- | --- |")
    for name, settings, event in CONDITIONS:
        if args.only and not any(name.startswith(o) for o in args.only):
            continue
        print(run(name, settings, event, args.duration, args.seed, args.pattern), flush=True)


if __name__ == "__main__":
    main()
