#!/usr/bin/env python3
"""A judge, a witness and a clerk in one hearing through the real relay, 20 s.

Each decodes at least 100 frames of each other participant, with the sender's colour and tone;
nobody receives itself. Then the witness leaves: the others see it leave and stop receiving it,
and the relay's status reports two participants."""
import time

from harness import (Client, Relay, check, finish, frames_from, hex_rgb, log, remote_by_name,
                     wait_until)

PEOPLE = [("judge", "Judge Somchai", "ff0000", 440),
          ("witness", "Witness A", "00ff00", 660),
          ("clerk", "Clerk B", "0000ff", 880)]
CALL_SECONDS = 20


def check_media(who, report, sender):
    role, name, color, tone = sender
    r = remote_by_name(report, name)
    if not check(r is not None, f"{who} sees {name}"):
        return
    v, a = r.get("video", {}), r.get("audio", {})
    check(r.get("role") == role, f"{who} sees {name} with role {role} (got {r.get('role')})")
    check(v.get("frames", 0) >= 100, f"{who} decoded {v.get('frames', 0)} frames of {name} (>= 100)")
    want = hex_rgb(color)
    got = (v.get("r", -999), v.get("g", -999), v.get("b", -999))
    check(all(abs(g - w) <= 40 for g, w in zip(got, want)),
          f"{who} sees {name}'s colour {got} ~ {want}")
    check(abs(a.get("freq_hz", 0) - tone) <= 25,
          f"{who} hears {name}'s tone {a.get('freq_hz', 0):.0f} Hz ~ {tone} Hz")
    check(v.get("width", 0) == 640 and v.get("height", 0) == 480,
          f"{who} decodes {name} at 640x480 (got {v.get('width')}x{v.get('height')})")


def main():
    relay = Relay()
    tokens = {role: relay.token(role, name) for role, name, _, _ in PEOPLE}
    t0 = time.time()
    clients = {}
    for role, name, color, tone in PEOPLE:
        duration = CALL_SECONDS + 5 if role == "witness" else CALL_SECONDS + 20
        clients[role] = Client(relay, tokens[role], role, color, tone, duration)
    try:
        # The three-party call.
        witness = clients["witness"]
        rc = witness.wait(timeout=CALL_SECONDS + 40)
        cpu, peak = relay.usage()
        check(rc == 0, f"witness client left cleanly (exit {rc})")
        for role, name, _, _ in PEOPLE:
            report = clients[role].last()
            if role == "witness":
                before = report
            else:  # the judge's and clerk's view from before the witness left
                before = None
                for line in clients[role].lines():
                    if remote_by_name(line, "Witness A") is not None:
                        before = line
            if not check(before is not None, f"{role} wrote a report"):
                continue
            names = [r.get("name") for r in before.get("remotes", [])]
            check(name not in names, f"{role} does not receive itself ({names})")
            for sender in PEOPLE:
                if sender[0] != role:
                    check_media(role, before, sender)
        # The witness has left: wait until the judge's and the clerk's last two reports are
        # without it while the other remaining participant's video kept coming, and until the
        # relay lists two participants.
        other = {"judge": "Clerk B", "clerk": "Judge Somchai"}
        frames_at_leave = {role: frames_from(clients[role], other[role]) for role in other}

        def witness_gone(role):
            lines = clients[role].lines()
            return (len(lines) >= 2 and
                    all(remote_by_name(l, "Witness A") is None for l in lines[-2:]) and
                    frames_from(clients[role], other[role]) > frames_at_leave[role])
        wait_until(lambda: all(witness_gone(role) for role in other))
        for role in other:
            lines = clients[role].lines()
            gone = [l for l in lines[-2:] if remote_by_name(l, "Witness A") is None]
            check(len(lines) >= 2 and len(gone) == 2,
                  f"{role} no longer receives the witness after it left")
            check(remote_by_name(lines[-1] if lines else None, other[role]) is not None,
                  f"{role} still receives the other remaining participant")

        def roles_now():
            return sorted(p["role"] for p in relay.status(tokens["judge"]).get("participants", []))
        wait_until(lambda: roles_now() == ["clerk", "judge"])
        status = relay.status(tokens["judge"])
        roles = sorted(p["role"] for p in status.get("participants", []))
        check(roles == ["clerk", "judge"], f"relay status lists judge and clerk only ({roles})")
        # Figures for docs/performance.md.
        joins, subscribed = [], []
        for role in clients:
            for r in (clients[role].last() or {}).get("remotes", []):
                if r.get("first_frame_ms"):
                    joins.append(r["first_frame_ms"])
                    subscribed.append(r.get("subscribe_frame_ms", 0))
        check(joins and all(0 < s <= j for s, j in zip(subscribed, joins)),
              f"each first frame is timed from the client's start {joins} and, no longer, from "
              f"its subscription {subscribed}")
        profiles = sorted({p.get("srtp_profile") for p in status.get("participants", [])})
        log(f"figures: join_ms_min={min(joins) if joins else 0} "
            f"subscribe_frame_ms_max={max(subscribed) if subscribed else 0} "
            f"join_ms_max={max(joins) if joins else 0} relay_cpu_s={cpu:.2f} "
            f"relay_peak_rss_kib={peak} wall_s={time.time() - t0:.1f} srtp={profiles}")
        for role in ("judge", "clerk"):
            rc = clients[role].wait(timeout=60)
            check(rc == 0, f"{role} client left cleanly (exit {rc})")
        check(relay.alive(), "relay is still running")
    finally:
        for c in clients.values():
            c.stop()
        code = relay.stop()
        check(code == 0, f"relay stopped cleanly (exit {code})")
        if failures_exist():
            log(open(relay.log_path).read()[-4000:])
            for c in clients.values():
                log(f"--- {c.name} ---")
                log(open(c.stderr_path).read()[-2000:])
        relay.cleanup()
    finish()


def failures_exist():
    import harness
    return bool(harness.failures)


if __name__ == "__main__":
    main()
