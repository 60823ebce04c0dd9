#!/usr/bin/env python3
"""Screening the witness: judge, witness, defendant, defence counsel and an observer with
screen-witness on. The defendant and the observer hear the witness but decode no picture of
them, and the relay's counters show no witness video packets sent to them; the witness sees the
judge but not the defendant; judge and defence see everyone. Switched off live, the defendant
sees the witness within a few seconds."""
import time

import harness
from harness import (Client, Relay, buffers_from, check, ctl, finish, frames_from, log,
                     remote_by_name, sent_to, wait_until)

# Pictures that reach those allowed to see them while the screened wait: (viewer, source).
ALLOWED = [("Judge", "Witness"), ("Defence", "Witness"), ("Judge", "Defendant"),
           ("Judge", "Defence")]

PEOPLE = [("judge", "Judge", "ff0000", 440),
          ("witness", "Witness", "00ff00", 660),
          ("defendant", "Defendant", "ff00ff", 520),
          ("defence", "Defence", "00ffff", 600),
          ("observer", "Observer", "ffffff", 700)]


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
        # Before checking that nothing screened arrived: the same pictures kept reaching those
        # allowed to see them (60 more packets at the relay, 30 more frames decoded: 1-2 s of
        # video) while every client wrote three more reports.
        start = relay.status(status_token)
        frames0 = {(v, n): frames_from(c[v.lower()], n) for v, n in ALLOWED}
        reports0 = {role: len(client.lines()) for role, client in c.items()}

        def allowed_pictures_flowed():
            now = relay.status(status_token)
            return (all(sent_to(now, v, n, "video") >= sent_to(start, v, n, "video") + 60 and
                        frames_from(c[v.lower()], n) >= frames0[(v, n)] + 30 for v, n in ALLOWED)
                    and all(len(client.lines()) >= reports0[role] + 3
                            for role, client in c.items()))
        check(wait_until(allowed_pictures_flowed),
              "meanwhile the witness's, the defendant's and defence counsel's pictures kept "
              "reaching the judge and defence counsel")
        status = relay.status(status_token)
        for viewer in ("defendant", "observer"):
            v = c[viewer]
            w = remote_by_name(v.last(), "Witness") or {}
            check(frames_from(v, "Witness") == 0, f"{viewer} decodes no picture of the witness "
                                                  f"({frames_from(v, 'Witness')} frames)")
            check(abs(w.get("audio", {}).get("freq_hz", 0) - 660) <= 25,
                  f"{viewer} hears the witness ({w.get('audio', {}).get('freq_hz')} Hz)")
            sent = sent_to(status, viewer.capitalize(), "Witness", "video")
            check(sent == 0, f"relay counters: no witness video packets sent to the {viewer} ({sent})")
            check(sent_to(status, viewer.capitalize(), "Witness", "audio") > 100,
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
        t_off = time.time()
        wait_until(lambda: frames_from(c["defendant"], "Witness") > 0)
        waited = time.time() - t_off
        check(frames_from(c["defendant"], "Witness") > 0 and waited <= 5,
              f"with screening off the defendant sees the witness after {waited:.1f} s (<= 5 s)")

        def witness_colour(report):
            v = (remote_by_name(report, "Witness") or {}).get("video", {})
            return v.get("g", 0) > 200 and v.get("r", 255) < 60
        wait_until(lambda: witness_colour(c["defendant"].last()) and
                   frames_from(c["witness"], "Defendant") > 0)
        report = c["defendant"].last()
        v = (remote_by_name(report, "Witness") or {}).get("video", {})
        check(witness_colour(report),
              f"... in the witness's colour ({v.get('r')}, {v.get('g')}, {v.get('b')})")
        check(frames_from(c["witness"], "Defendant") > 0, "... and the witness sees the defendant")
        check(relay.alive(), "relay still running")
    finally:
        harness.shutdown(relay, list(c.values()), client_logs=True)
    finish()


if __name__ == "__main__":
    main()
