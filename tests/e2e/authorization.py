#!/usr/bin/env python3
"""Authorisation: a witness trying every judge-only command is refused each time with a clear
error and no effect; reused, expired, not-yet-valid, revoked, forged and other-hearing tokens are
refused; a rotated key keeps old tokens valid; 1,000 join attempts with bad tokens are
rate-limited while the hearing in progress keeps its media flowing."""
import json
import re
import subprocess
import time

import harness
import tokens
from harness import (PROBE, RELAY, Client, Relay, check, ctl, finish, frames_from, log, probe,
                     reports_advanced, wait_until)

ACTIONS = [("waiting", {}), ("admit", {"target": "p1"}), ("refuse", {"target": "p1"}),
           ("to-waiting", {"target": "p1"}), ("mute", {"target": "p1"}),
           ("unmute-request", {"target": "p1"}), ("video-off", {"target": "p1"}),
           ("remove", {"target": "p1"}), ("protect", {"measure": "screen-witness", "on": True}),
           ("lock", {}), ("unlock", {}), ("end", {}), ("record", {"op": "start"}),
           ("mark", {"text": "not allowed"})]


def join(tok, **extra):
    return json.dumps({"type": "join", "token": tok, **extra})


def codes(msgs):
    return [m.get("code") for m in msgs if m.get("type") == "error"]


def main():
    relay = Relay()
    key = tokens.relay_key(relay.state)
    judge_token = relay.token("judge", "Judge")
    judge = Client(relay, judge_token, "judge", "ff0000", 440, duration=90)
    clerk = Client(relay, relay.token("clerk", "Clerk"), "clerk", "0000ff", 880, duration=90)
    try:
        wait_until(lambda: frames_from(judge, "Clerk") > 30)
        # A witness tries every judge-only command.
        msgs = [join(relay.token("witness", "Witness"))]
        msgs += [json.dumps({"type": "control", "action": a, **extra}) for a, extra in ACTIONS]
        msgs.append('{"type":"status"}')
        out = probe(relay, *msgs, wait_ms=1500)
        errors = [m for m in out if m.get("type") == "error"]
        check(len(errors) == len(ACTIONS) and all(e.get("code") == "forbidden" for e in errors),
              f"every judge-only command refused as forbidden ({[e.get('code') for e in errors]})")
        check(all("witness may not" in e.get("message", "") for e in errors),
              f"with a clear message (e.g. \"{errors[0].get('message') if errors else ''}\")")
        status = [m for m in out if m.get("type") == "status"]
        judge_p = [p for p in (status[0]["participants"] if status else []) if p["role"] == "judge"]
        check(bool(judge_p) and judge_p[0]["audio"] == "on" and judge_p[0]["video"] == "on"
              and judge_p[0]["state"] == "admitted" and not status[0]["locked"]
              and not status[0]["protection"]["screen-witness"],
              "and none of them had any effect")
        rc, _, err = ctl(relay, relay.token("witness", "Witness 2"), "mute", "Judge")
        check(rc != 0 and "forbidden" in err, f"testimony-ctl with a witness token is refused: {err}")
        # Tokens.
        now = int(time.time())
        cases = [
            ("reused token (live session)", join(judge_token), "token-in-use"),
            ("expired token", join(tokens.make(key, iat=now - 7200, nbf=now - 7200,
                                               exp=now - 3600)), "token-expired"),
            ("not-yet-valid token", join(tokens.make(key, nbf=now + 3600, exp=now + 7200)),
             "token-not-yet-valid"),
            ("forged token", join(tokens.make(bytes(32), role="judge")), "bad-token"),
            ("other-hearing token", join(tokens.make(key, hearing="elsewhere")), "wrong-hearing"),
        ]
        revoked = relay.token("witness", "Revoked")
        subprocess.run([RELAY, "token", "revoke", "--state-dir", relay.state, "--token", revoked],
                       check=True, capture_output=True)
        cases.append(("revoked token", join(revoked), "token-revoked"))
        for what, msg, code in cases:
            got = codes(probe(relay, msg))
            check(got == [code], f"{what} refused with {code} ({got})")
        # Key rotation: old tokens stay valid for one rotation, new ones work at once.
        old = relay.token("observer", "Before rotation")
        subprocess.run([RELAY, "key", "rotate", "--state-dir", relay.state], check=True,
                       capture_output=True)
        new = relay.token("observer", "After rotation")
        for what, tok in (("a token from before the rotation", old),
                          ("a token from after it", new)):
            got = [m.get("type") for m in probe(relay, join(tok))]
            check("joined" in got, f"{what} joins without a restart ({got})")
        subprocess.run([RELAY, "key", "rotate", "--state-dir", relay.state], check=True,
                       capture_output=True)
        got = codes(probe(relay, join(old)))
        check(got == ["bad-token"], f"two rotations later the old token is refused ({got})")
        # A thousand bad joins in a loop.
        before = frames_from(judge, "Clerk")
        t0 = time.time()
        p = subprocess.run([PROBE, "--relay", relay.url, "--ca", relay.ca, "--repeat", "1000",
                            "--wait", "200", join("not-a-token")],
                           capture_output=True, text=True, timeout=240)
        spent = time.time() - t0
        lines = p.stdout.splitlines()
        limited = sum("rate-limited" in l for l in lines)
        bad = sum("bad-token" in l for l in lines)
        log(f"figures: 1000 bad joins in {spent:.1f} s: {bad} bad-token, {limited} rate-limited")
        check(len(lines) == 1000 and limited > 500 and bad + limited == 1000,
              f"1000 bad joins: {bad} checked, {limited} rate-limited")
        # Two reports written after the flood, so that AFTER counts what arrived during it.
        wait_until(reports_advanced([judge], 2))
        after = frames_from(judge, "Clerk")
        rate = (after - before) / (time.time() - t0)
        check(rate > 20, f"the hearing kept its media meanwhile ({before} -> {after} frames, "
                         f"{rate:.0f} fps)")
        check(relay.alive(), "relay still running")
    finally:
        harness.shutdown(relay, [judge, clerk])
    finish()


if __name__ == "__main__":
    main()
