#!/usr/bin/env python3
"""Evidence recording through the real relay: a three-party hearing recorded for 20 s with two
markers, a pause, and the witness's link dropping for 5 s. Everyone is told; the recording
verifies; the export has 3 audio and 3 video tracks of the recorded time minus the pause, each
with its participant's colour or tone, and the witness's gap stays where it happened (UTC)."""
import json
import os
import signal
import subprocess
import time

import harness
from harness import Client, Relay, check, ctl, finish, frames_from, log, wait_until

VERIFY = os.environ.get("TESTIMONY_VERIFY", "testimony-verify")
EXPORT = os.environ.get("TESTIMONY_EXPORT", "testimony-export")
PROBE_EXPORT = os.environ.get("PROBE_EXPORT", "probe-export")
PIPELINES = os.environ.get("TESTIMONY_PIPELINES", "")
PEOPLE = [("judge", "Judge Somchai", "ff0000", 440),
          ("witness", "Witness A", "00ff00", 660),
          ("clerk", "Clerk B", "0000ff", 880)]
COLOURS = {n: tuple(int(c[i:i + 2], 16) for i in (0, 2, 4)) for _, n, c, _ in PEOPLE}
TONES = {n: str(t) for _, n, _, t in PEOPLE}


def states_seen(client):
    return [l.get("recording") for l in client.lines()]


def main():
    relay = Relay()
    console = relay.token("clerk", "Recording console")
    clients = {role: Client(relay, relay.token(role, name), role, color, tone, duration=60)
               for role, name, color, tone in PEOPLE}
    witness = clients["witness"]
    try:
        wait_until(lambda: all(frames_from(clients[r], n) > 30 for r, _, _, _ in PEOPLE
                               for _, n, _, _ in PEOPLE if r != n.split()[0].lower()))
        t0 = time.time()
        plan = [(0, ["record", "start"]), (5, ["mark", "witness sworn in"]),
                (8, ["record", "pause"]), (11, ["record", "resume"]), (12, "drop"),
                (14, ["mark", "exhibit 3 shown"]), (17, "restore"), (20, ["record", "stop"])]
        path = None
        for at, what in plan:
            # The plan's own timetable (the lengths of the pause and the drop are what the
            # manifest and the export are checked against), not a wait for anything.
            time.sleep(max(0, t0 + at - time.time()))
            if what == "drop":
                witness.proc.send_signal(signal.SIGSTOP)  # the witness's link goes silent
            elif what == "restore":
                witness.proc.send_signal(signal.SIGCONT)
            else:
                rc, out, err = ctl(relay, console, *what)
                check(rc == 0, f"ctl {' '.join(what)} at {time.time() - t0:.1f} s: {out} {err}")
                if what == ["record", "stop"]:
                    path = out.splitlines()[-1] if out else None
        check(path is not None and os.path.isdir(path), f"record stop prints the recording {path}")

        def told(role):
            seen = states_seen(clients[role])
            return "recording" in seen and "paused" in seen and seen[-1] == "stopped"
        wait_until(lambda: all(told(role) for role, _, _, _ in PEOPLE))
        for role, name, _, _ in PEOPLE:
            check(told(role), f"{role}'s client was told: recording, paused, stopped")
        # Verify.
        key = os.path.join(relay.state, "keys", "evidence.pub")
        t = time.time()
        r = subprocess.run([VERIFY, path, "--key", key], capture_output=True, text=True)
        verify_s = time.time() - t
        check(r.returncode == 0, f"testimony-verify accepts it ({verify_s:.2f} s): "
                                 f"{r.stdout.splitlines()[:1]}")
        check("Participants: 3" in r.stdout and "Markers: 2" in r.stdout and
              "witness sworn in" in r.stdout and "Pauses: 1" in r.stdout,
              "the summary names 3 participants, 2 markers, 1 pause")
        manifest = json.load(open(os.path.join(path, "manifest.json")))
        wit = [p["index"] for p in manifest["participants"] if p["name"] == "Witness A"]
        gaps = [g for g in manifest["gaps"] if wit and g["participant"] == wit[0]]
        lengths = [(g["end_us"] - g["start_us"]) / 1e6 for g in gaps]
        check(gaps and all(4.0 <= x <= 6.5 for x in lengths),
              f"the manifest lists the witness's 5 s drop as a gap {lengths}")
        # Export.
        mkv = os.path.join(relay.dir, "hearing.mkv")
        t = time.time()
        r = subprocess.run([EXPORT, path, "-o", mkv, "--pipelines", PIPELINES],
                           capture_output=True, text=True, timeout=300)
        export_s = time.time() - t
        check(r.returncode == 0, f"testimony-export ({export_s:.1f} s) {r.stderr[-300:]}")
        p = json.loads(subprocess.run([PROBE_EXPORT, mkv], capture_output=True, text=True,
                                      timeout=300).stdout)
        kinds = [s["kind"] for s in p["streams"]]
        check(kinds.count("audio") == 3 and kinds.count("video") == 3, f"3 audio + 3 video {kinds}")
        check(abs(p["duration_s"] - 17.0) <= 1.5, f"duration {p['duration_s']:.1f} s = 20 s - 3 s pause")
        for s in p["decoded"]:
            name = s["title"].split(" (")[0]
            if s["kind"] == "video":
                ok = all(abs(a - b) <= 40 for a, b in zip(s["colour"], COLOURS[name]))
                check(ok, f"{s['title']}: colour {s['colour']}")
            else:
                tone = max(s["tones"], key=s["tones"].get)
                check(tone == TONES[name], f"{s['title']}: tone {tone} Hz")
            if name == "Witness A" and s["kind"] == "audio":
                # dropped 12-17 s in the hearing = 9-14 s on the export timeline (pause cut)
                check(abs(s["hole_at_s"] - 9.0) <= 1.0 and 4.0 <= s["max_hole_s"] <= 6.5,
                      f"the witness's gap stays in place: {s['hole_at_s']:.1f} s, "
                      f"{s['max_hole_s']:.1f} s long")
        size = sum(os.path.getsize(os.path.join(path, f)) for f in os.listdir(path))
        log(f"figures: recording {size} bytes for 17 s recorded ({size * 60 / 17 / 1e6:.1f} MB/min),"
            f" verify {verify_s:.2f} s, export {export_s:.1f} s")
        check(relay.alive(), "relay still running")
    finally:
        witness.proc.send_signal(signal.SIGCONT)
        harness.shutdown(relay, list(clients.values()))
    finish()


if __name__ == "__main__":
    main()
