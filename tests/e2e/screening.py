#!/usr/bin/env python3
"""Screening the witness: judge, witness, defendant, defence counsel and an observer with
screen-witness on. The defendant and the observer hear the witness but decode no picture of
them, and the relay's counters show no witness video packets sent to them; the witness sees the
judge but not the defendant; judge and defence see everyone. Switched off live, the defendant
sees the witness within a few seconds."""
import time

import harness
from harness import (Client, Relay, buffers_from, check, ctl, finish, frames_from, log,
                     remote_by_name, wait_until)

PEOPLE = [("judge", "Judge", "ff0000", 440),
          ("witness", "Witness", "00ff00", 660),
          ("defendant", "Defendant", "ff00ff", 520),
          ("defence", "Defence", "00ffff", 600),
          ("observer", "Observer", "ffffff", 700)]


def relay_sent(status, to_name, from_name, track):
    ids = {p["name"]: p["id"] for p in status["participants"]}
    for p in status["participants"]:
        if p["name"] == to_name:
            return p.get("received", {}).get(ids.get(from_name, "?"), {}).get(track, 0)
    return -1


def main():
    relay = Relay(hearing_args=("--waiting-room", "off", "--protect", "screen-witness"))
    console = relay.token("judge", "Console")
    status_token = relay.token("clerk", "Status")
    c = {role: Client(relay, relay.token(role, name), role, color, tone, duration=60)
         for role, name, color, tone in PEOPLE}
    try:
        wait_until(lambda: all(frames_from(c[v], n) > 100 for v in ("judge", "defence")
                               for n in ("Judge", "Witness", "Defendant", "Defence")
                               if n.lower() != v) and frames_from(c["witness"], "Judge") > 100
                   and all(buffers_from(c[v], "Witness") > 150 for v in ("defendant", "observer")),
                   timeout=90)
        time.sleep(2)  # a screened stream would have shown up by now
        status = relay.status(status_token)
        for viewer in ("defendant", "observer"):
            v = c[viewer]
            w = remote_by_name(v.last(), "Witness") or {}
            check(frames_from(v, "Witness") == 0, f"{viewer} decodes no picture of the witness "
                                                  f"({frames_from(v, 'Witness')} frames)")
            check(abs(w.get("audio", {}).get("freq_hz", 0) - 660) <= 25,
                  f"{viewer} hears the witness ({w.get('audio', {}).get('freq_hz')} Hz)")
            sent = relay_sent(status, viewer.capitalize(), "Witness", "video")
            check(sent == 0, f"relay counters: no witness video packets sent to the {viewer} ({sent})")
            check(relay_sent(status, viewer.capitalize(), "Witness", "audio") > 100,
                  f"relay counters: witness audio packets were sent to the {viewer}")
        w = c["witness"]
        check(frames_from(w, "Judge") > 100, f"the witness sees the judge ({frames_from(w, 'Judge')})")
        check(frames_from(w, "Defendant") == 0, "the witness decodes no picture of the defendant")
        check(frames_from(w, "Defence") == 0, "the witness decodes no picture of defence counsel")
        check(buffers_from(w, "Defendant") > 0, "the witness still hears the defendant")
        for viewer in ("judge", "defence"):
            for _, name, _, _ in PEOPLE:
                if name.lower() in (viewer, "observer"):
                    continue
                check(frames_from(c[viewer], name) > 100,
                      f"{viewer} sees {name} ({frames_from(c[viewer], name)} frames)")
        check(remote_by_name(c["judge"].last(), "Observer") is None or
              frames_from(c["judge"], "Observer") == 0, "the observer publishes nothing")
        rc, out, err = ctl(relay, console, "protect", "screen-witness", "off")
        check(rc == 0, f"ctl protect screen-witness off (exit {rc}) {err}")
        deadline = time.time() + 5
        while time.time() < deadline and frames_from(c["defendant"], "Witness") == 0:
            time.sleep(0.25)
        waited = 5 - (deadline - time.time())
        check(frames_from(c["defendant"], "Witness") > 0,
              f"with screening off the defendant sees the witness after {waited:.1f} s")
        time.sleep(2)
        r = remote_by_name(c["defendant"].last(), "Witness") or {}
        v = r.get("video", {})
        check(v.get("g", 0) > 200 and v.get("r", 255) < 60,
              f"... in the witness's colour ({v.get('r')}, {v.get('g')}, {v.get('b')})")
        check(frames_from(c["witness"], "Defendant") > 0, "... and the witness sees the defendant")
        check(relay.alive(), "relay still running")
    finally:
        harness.shutdown(relay, list(c.values()), client_logs=True)
    finish()


if __name__ == "__main__":
    main()
