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

With --witness chromium the witness is the court's page in Chromium (tests/bench/
browser_witness.mjs, through a wrapper that starts it in the witness's namespace; its camera a
looped y4m of the same pattern): what it got of the judge comes from the page's WebRTC
statistics (frames decoded, Chromium's own freeze count and duration, concealed audio).

    sudo python3 tests/bench/poor_network.py [--duration 60] [--only NAME...]
        [--pattern zone-plate|solid-color|snow|ball] [--witness client|chromium] [--trace FILE]

Run from a build tree (it reads TESTIMONY_* from the environment, or finds build/). With
--witness chromium the relay must find the court's pages (web/) from where its binary is: a
relay copied elsewhere serves none, and the page never joins (the page's log is printed). Figures go
to docs/performance.md, "The witness on a poor link". Not a test: nothing is asserted."""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
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
            f"{d(a0, a1, 'gaps')} sound gaps, {widths([v.get('width') for v, _ in rows])}")


def widths(values):
    """The picture's width over the rows (one a second), as the viewer's decoder gave it: the
    median and the least."""
    w = sorted(x for x in values if x)
    return f"{w[len(w) // 2]} wide (median; least {w[0]})" if w else "no picture"


def per_second(counts):
    """The frames of each second from COUNTS, the cumulative frames of each row (a row a
    second)."""
    return [b - a for a, b in zip(counts, counts[1:])]


def back_after(per_s, at):
    """Seconds from row AT (the step, or the link's return after the outage) until the picture
    flows again: the first second from which five in a row each show at least 10 new frames
    (PER_S: per_second); None if never."""
    for i in range(at, len(per_s) - 4):
        if all(n >= 10 for n in per_s[i:i + 5]):
            return i - at
    return None


def back_text(seconds):
    return "never" if seconds is None else f"{seconds} s"


NODE = shutil.which("node")  # and playwright-core in tests/browser (npm ci), as the browser tests
CHROMIUM = next((p for p in (os.environ.get("CHROMIUM"), "/usr/lib/chromium/chromium",
                             "/usr/bin/chromium") if p and os.path.exists(p)), None)
# the client's --test-source patterns (client/profile.c), as videotestsrc arguments
PATTERNS = {"zone-plate": "pattern=zone-plate kx2=20 ky2=20 kt=1",
            "solid-color": "pattern=solid-color foreground-color=0xff00ff00",
            "snow": "pattern=snow", "ball": "pattern=ball"}


class BrowserWitness:
    """The witness in Chromium, in namespace A of LINK: tests/bench/browser_witness.mjs joins
    and prints what the page received of the judge once a second. Its camera is a 10 s y4m of
    PATTERN (Chromium loops it)."""

    def __init__(self, link, relay, pattern, duration):
        self.tmp = tempfile.mkdtemp(prefix="testimony-bench-browser-")
        wrapper = os.path.join(self.tmp, "chromium-in-a")
        with open(wrapper, "w") as f:
            f.write(f'#!/bin/sh\nexec nsenter --net={link.netns("a")} -- {CHROMIUM} "$@"\n')
        os.chmod(wrapper, 0o755)
        y4m = os.path.join(self.tmp, "witness.y4m")
        subprocess.run(["gst-launch-1.0", "-q", "videotestsrc", *PATTERNS[pattern].split(),
                        "num-buffers=300", "!",
                        "video/x-raw,format=I420,width=640,height=480,framerate=30/1", "!",
                        "y4menc", "!", "filesink", f"location={y4m}"], check=True)
        env = dict(os.environ, RELAY_URL=relay.remote_url, TOKEN=relay.token("witness", "Witness"),
                   CHROMIUM_WRAPPER=wrapper, Y4M=y4m, TMP=self.tmp, DURATION=str(duration + 100),
                   JUDGE="Judge")
        self.rows = []
        self.log_path = os.path.join(self.tmp, "witness.log")
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen([NODE, os.path.join(HERE, "browser_witness.mjs")], env=env,
                                     stdout=subprocess.PIPE, stderr=self.log, text=True)
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for line in self.proc.stdout:
            if line.startswith("{"):
                self.rows.append(json.loads(line))

    def judge_rows(self):
        return [dict(r["judge"], shown=r.get("shown")) for r in self.rows if r.get("judge")]

    def own_rows(self):
        """What the page sent, a row a second (web/js/peers.js sending())."""
        return [dict(r["own"], time=r["time"]) for r in self.rows if r.get("own")]

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        self.log.close()
        if not self.judge_rows():  # why the page never got the judge's picture
            with open(self.log_path) as f:
                sys.stderr.write("the witness's page:\n" + "".join(f.readlines()[-20:]))
        shutil.rmtree(self.tmp, ignore_errors=True)


def browser_summary(rows, seconds):
    """What the witness's Chromium got of the judge over ROWS: frames decoded per second,
    Chromium's own freezes (webrtc-stats freezeCount: a frame later than 3 average frame
    intervals or 150 ms more than the average) and their total, and the share of audio
    samples it had to conceal; and, counted as testimony-client counts them, the pauses of
    more than 500 ms between pictures put on screen and the longest."""
    if len(rows) < 2:
        return "no stats"
    a, b = rows[0], rows[-1]
    d = lambda k: b.get(k, 0) - a.get(k, 0)
    samples = d("totalSamplesReceived")
    concealed = 100.0 * d("concealedSamples") / samples if samples else 0.0
    shown = [r["shown"] for r in rows if r.get("shown")]
    over = (f"{shown[-1]['freezes'] - shown[0]['freezes']} over 500 ms (longest "
            f"{max(s['longestMs'] for s in shown[1:]) / 1000:.1f} s), " if len(shown) > 1 else "")
    return (f"{d('framesDecoded') / seconds:.1f} fps, {over}{d('freezeCount')} freezes by "
            f"Chromium's count ({d('totalFreezesDuration'):.1f} s in all), {concealed:.1f} % of "
            f"sound concealed, {widths([r.get('frameWidth') for r in rows])}")


def trace_status(relay, token, path, t0):
    """Appends the relay's status (what it counts of each participant: estimates, NACKs,
    retransmissions) to PATH as one JSON line with the seconds since T0."""
    try:
        status = relay.status_in(token)
    except (RuntimeError, subprocess.TimeoutExpired, ValueError) as e:
        status = {"error": str(e)}
    with open(path, "a") as f:
        f.write(json.dumps({"t": round(time.time() - t0, 1), "status": status}) + "\n")


def run(name, settings, event, duration, seed, pattern, browser=False, trace=None):
    with ImpairedLink(a2b=settings, b2a=settings, seed=seed) as link:
        in_b = lambda argv: link.command("b", argv)
        in_a = lambda argv: link.command("a", argv)
        relay = Relay(host=link.B_ADDR, wrap=in_b)
        # the clients run for the measured minute plus the up to 60 s the first frame may take
        # (a witness whose first ICE checks fail joins again) and a margin
        judge = Client(relay, relay.token("judge", "Judge"), "judge", "ff0000", 440,
                       duration + 100, wrap=in_b, remote=True, pattern=pattern)
        if browser:
            witness = BrowserWitness(link, relay, pattern, duration)
        else:
            witness = Client(relay, relay.token("witness", "Witness"), "witness", "00ff00", 660,
                             duration + 100, wrap=in_a, remote=True, pattern=pattern)
        try:
            deadline = time.time() + 60
            while time.time() < deadline and not (
                    remote_by_name(judge.last(), "Witness") or {}).get("video", {}).get("frames"):
                time.sleep(0.5)
            start = len(judge.lines()), (len(witness.judge_rows()) if browser
                                         else len(witness.lines()))
            t0 = time.time()
            done_event = False
            event_rows = None
            judge_token = relay.token("judge", "Trace") if trace else None
            traced = 0.0
            while time.time() < t0 + duration:
                time.sleep(0.5)
                at = time.time() - t0
                if trace and at >= traced + 2:
                    traced = at
                    trace_status(relay, judge_token, trace, t0)
                if event and not done_event and at >= duration / 3:
                    done_event = True
                    if event[0] == "rate":
                        link.set("both", event[1])
                    elif event[0] == "outage":
                        link.outage(True)
                        time.sleep(event[1])
                        link.outage(False)
                    event_rows = len(judge.lines()), (len(witness.judge_rows()) if browser
                                                      else len(witness.lines()))
            seconds = time.time() - t0
            j = series(judge, "Witness")[start[0]:]
            if browser:
                at_witness = browser_summary(witness.judge_rows()[start[1]:], seconds)
            else:
                at_witness = summary(series(witness, "Judge")[start[1]:], seconds)
            alive = witness.proc.poll() is None
            # frames shown each second, both ways, from each side's first row
            j_per_s = per_second([v.get("shown", 0) for v, _ in series(judge, "Witness")])
            w_per_s = per_second([r.get("framesDecoded", 0) for r in witness.judge_rows()]
                                 if browser else
                                 [v.get("shown", 0) for v, _ in series(witness, "Judge")])
            if trace:  # for reading the run afterwards
                with open(trace, "a") as f:
                    f.write(json.dumps({"event_rows": event_rows, "start_rows": start,
                                        "witness_at_judge": j_per_s,
                                        "judge_at_witness": w_per_s,
                                        "witness_sent": witness.own_rows() if browser else None})
                            + "\n")
            if event_rows:
                j_back = back_after(j_per_s, event_rows[0])
                w_back = back_after(w_per_s, event_rows[1])
                at_witness += f", back {back_text(w_back)} after"
                j_summary = summary(j, seconds) + f", back {back_text(j_back)} after"
            else:
                j_summary = summary(j, seconds)
            return (f"| {name} | {j_summary} | {at_witness} | "
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
    p.add_argument("--witness", default="client", choices=["client", "chromium"],
                   help="the witness on testimony-client or in Chromium (the court's page)")
    p.add_argument("--trace", help="append the relay's status every 2 s to this file (JSON lines)")
    args = p.parse_args()
    if args.witness == "chromium" and (NODE is None or CHROMIUM is None):
        sys.exit("--witness chromium needs node, chromium and playwright-core (npm ci in "
                 "tests/browser), as the browser tests do")
    if os.environ.get("POOR_NETWORK_OUTER") != "1":
        os.environ["POOR_NETWORK_OUTER"] = "1"  # everything inside a namespace of its own
        os.execvp("unshare", ["unshare", "--net", "--", sys.executable, os.path.abspath(__file__),
                              *sys.argv[1:]])
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    print(f"{args.duration} s per condition, seed {args.seed}, the judge on testimony-client, "
          f"the witness on {'Chromium' if args.witness == 'chromium' else 'testimony-client'}, "
          f"test picture {args.pattern}")
    print("| link (each way) | witness at the judge | judge at the witness | witness still there |")
    print("| --- | --- | --- | --- |")
    for name, settings, event in CONDITIONS:
        if args.only and not any(name.startswith(o) for o in args.only):
            continue
        print(run(name, settings, event, args.duration, args.seed, args.pattern,
                  args.witness == "chromium", os.path.abspath(args.trace) if args.trace else None),
              flush=True)


if __name__ == "__main__":
    main()
