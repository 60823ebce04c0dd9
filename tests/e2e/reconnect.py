#!/usr/bin/env python3
"""The witness's link drops and comes back: the same participant continues, without being
admitted again, and the judge sees the picture and hears the sound again.

The relay and the judge are in one network namespace, the witness in another, joined by the
userspace impairment link (tests/netem). The witness's client starts while the link is down: its
first connection times out and it tries again until the link is back. The hearing has a
waiting room: the judge admits the witness once, at the start. Then, while a recording runs:
  1. a 10 s outage: ICE survives it; the relay shows the witness as reconnecting, then back; the
     witness's picture reaches the judge again soon after the link returns;
  2. a 40 s outage: the relay gives the silent connections up after 30 s and keeps the witness's
     place; when the link returns the witness's client connects again, continues its place (same
     id, still admitted) and media flows both ways again.
The audit log names both drops and returns; the recording verifies and lists the gaps."""
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "netem"))

from harness import (Client, Relay, check, ctl, finish, frames_from, buffers_from, log,
                     remote_by_name, shutdown, wait_until)
from netns_link import ImpairedLink

VERIFY = os.environ.get("TESTIMONY_VERIFY", "testimony-verify")


def witness_row(relay, token):
    """The witness as the relay's status lists it (asked from the relay's namespace)."""
    try:
        status = relay.status_in(token)
    except Exception as e:  # the relay is busy or restarting: no answer this time
        log(f"status: {e}")
        return None
    rows = [p for p in status.get("participants", []) if p.get("role") == "witness"]
    return rows[0] if rows else None


def flowing(judge, witness, since_judge, since_witness):
    return (frames_from(judge, "Witness A") > since_judge + 30 and
            frames_from(witness, "Judge Somchai") > since_witness + 30)


def outage(link, relay, judge, witness, judge_token, seconds, what):
    """Cuts the link for SECONDS; checks the relay shows the witness reconnecting, then back
    with the same id and admitted; returns the seconds from the link's return until 30 more
    frames were shown each way, and the judge's longest freeze of the witness's picture minus
    the outage: when the first picture came back."""
    before = witness_row(relay, judge_token)
    link.outage(True)
    t_off = time.time()
    away = wait_until(lambda: (witness_row(relay, judge_token) or {}).get("connection")
                      == "reconnecting", timeout=seconds - 1, step=0.5)
    check(away, f"{what}: the relay shows the witness as reconnecting during the outage")
    # The outage lasts SECONDS: the test's timetable, not a wait for anything.
    time.sleep(max(0, t_off + seconds - time.time()))
    f_judge, f_witness = frames_from(judge, "Witness A"), frames_from(witness, "Judge Somchai")
    link.outage(False)
    t_on = time.time()
    back = wait_until(lambda: flowing(judge, witness, f_judge, f_witness), timeout=60)
    took = time.time() - t_on
    check(back, f"{what}: pictures flow both ways again {took:.1f} s after the link returned")
    row = wait_until(lambda: (lambda r: r if r and r.get("connection") == "connected" else None)(
        witness_row(relay, judge_token)), timeout=20)
    check(row is not None and before is not None and row["id"] == before["id"] and
          row["state"] == "admitted",
          f"{what}: the same participant ({(before or {}).get('id')} -> {(row or {}).get('id')}), "
          f"still admitted, shows as connected again")
    check(witness.proc.poll() is None, f"{what}: the witness's client is still running")
    r = remote_by_name(judge.last(), "Witness A")
    check(r is not None and abs(r["video"].get("g", 0) - 255) <= 40,
          f"{what}: the judge sees the witness's green again ({r and r['video']})")
    first = (r or {}).get("video", {}).get("longest_freeze_ms", 0) / 1000 - seconds
    return took, first


def main():
    with ImpairedLink(a2b="delay=20", b2a="delay=20", seed=5) as link:
        in_b = lambda argv: link.command("b", argv)
        in_a = lambda argv: link.command("a", argv)
        relay = Relay(host=link.B_ADDR, wrap=in_b, hearing_args=("--waiting-room", "on"))
        judge_token = relay.token("judge", "Judge Somchai")
        console = relay.token("judge", "Bench console")  # testimony-ctl's own session
        judge = Client(relay, judge_token, "judge", "ff0000", 440, 240, wrap=in_b, remote=True)
        # The witness's client starts while its link is down: its first connection times out
        # (15 s) and it tries again instead of giving up.
        link.outage(True)
        witness = Client(relay, relay.token("witness", "Witness A"), "witness", "00ff00", 660,
                         260, wrap=in_a, remote=True)
        try:
            # The outage lasts 17 s: the test's timetable, not a wait for anything.
            time.sleep(17)
            link.outage(False)
            check(wait_until(lambda: witness_row(relay, judge_token) is not None, 30),
                  "the witness is in the waiting room, its client having tried again")
            with open(witness.stderr_path) as f:
                said = [l for l in f.read().splitlines() if "trying again" in l]
            check(len(said) == 1 and "timed out" in said[0],
                  f"the witness's client said once that it tries again: {said}")
            rc, out, err = ctl(relay, console, "admit", "Witness A")
            check(rc == 0, f"the judge admits the witness once ({out} {err})")
            check(wait_until(lambda: flowing(judge, witness, 0, 0), 60),
                  "pictures flow both ways after the admission")
            rc, out, err = ctl(relay, console, "record", "start")
            check(rc == 0, f"recording starts ({err})")
            short = outage(link, relay, judge, witness, judge_token, 10, "10 s outage")
            long = outage(link, relay, judge, witness, judge_token, 40, "40 s outage")
            log(f"figures: after a 10 s outage the first picture of the witness came back "
                f"{short[1]:.1f} s after the link (the judge's longest freeze minus the outage), "
                f"30 frames each way {short[0]:.1f} s after; after a 40 s outage "
                f"{long[1]:.1f} s and {long[0]:.1f} s")
            rc, out, err = ctl(relay, console, "record", "stop")
            path = out.splitlines()[-1] if rc == 0 and out else None
            check(path is not None, f"recording stops ({err})")
            audit = open(os.path.join(relay.state, "hearings", "h1.audit.jsonl")).read()
            actions = [json.loads(l).get("action") for l in audit.splitlines()
                       if l.startswith("{") and '"action"' in l]
            check(actions.count("link-lost") >= 2 and actions.count("link-restored") >= 2,
                  f"the audit log names both drops and returns ({actions.count('link-lost')} "
                  f"link-lost, {actions.count('link-restored')} link-restored)")
            check("resume" in actions, "the audit log names the witness's client continuing")
            check(actions.count("admit") == 1, f"one admission only ({actions.count('admit')})")
            if path:
                r = subprocess.run(relay.wrap([VERIFY, path, "--key",
                                               os.path.join(relay.state, "keys",
                                                            "evidence.pub")]),
                                   capture_output=True, text=True)
                check(r.returncode == 0, f"the recording verifies: {r.stdout.splitlines()[:1]}")
                manifest = json.load(open(os.path.join(path, "manifest.json")))
                wit = [p["index"] for p in manifest["participants"] if p["name"] == "Witness A"]
                gaps = [(g["end_us"] - g["start_us"]) / 1e6 for g in manifest["gaps"]
                        if wit and g["participant"] == wit[0]]
                check(len(wit) == 1 and any(8 <= g for g in gaps) and any(38 <= g for g in gaps),
                      f"the recording lists the witness once, with both gaps {gaps}")
        finally:
            shutdown(relay, [judge, witness], client_logs=True)
    finish()


if __name__ == "__main__":
    main()
