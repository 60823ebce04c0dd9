#!/usr/bin/env python3
"""The waiting room: a judge is in; a witness, a clerk and a prosecutor join and wait. Before
admission no media flows to or from them; after `admit` it flows both ways; after `to-waiting`
it stops again."""
import harness
from harness import (Client, Relay, check, ctl, finish, frames_from, log, participant,
                     reports_advanced, sent_to, wait_until)

WAITERS = [("witness", "Witness A", "00ff00", 660),
           ("clerk", "Clerk B", "0000ff", 880),
           ("prosecutor", "Prosecutor C", "ffff00", 550)]


def main():
    relay = Relay(hearing_args=("--title", "Hearing of case BK-2026-117"))
    console = relay.token("judge", "Courtroom console")
    judge = Client(relay, relay.token("judge", "Judge"), "judge", "ff0000", 440, duration=60)
    clients = {role: Client(relay, relay.token(role, name), role, color, tone, duration=60)
               for role, name, color, tone in WAITERS}
    try:
        def all_waiting():
            rc, out, _ = ctl(relay, console, "waiting")
            return rc == 0 and all(name in out for _, name, _, _ in WAITERS)
        wait_until(all_waiting, timeout=60, step=1)
        # Before checking that nothing flowed to or from those waiting: the judge's media kept
        # reaching the relay (100 more packets: about a second of audio and video) while every
        # client wrote three more reports.
        def judge_rx():
            return participant(relay.status(console), "Judge").get("rx_packets", 0)
        start = judge_rx()
        everyone = reports_advanced([judge, *clients.values()], 3)
        check(wait_until(lambda: judge_rx() >= start + 100 and everyone()),
              "meanwhile the judge's media reached the relay and every client kept reporting")
        rc, out, err = ctl(relay, console, "waiting")
        check(rc == 0 and all(name in out for _, name, _, _ in WAITERS),
              f"ctl waiting lists the three waiting participants (exit {rc}): {out!r} {err!r}")
        for role, name, _, _ in WAITERS:
            c = clients[role]
            total = sum(r.get("video", {}).get("frames", 0) + r.get("audio", {}).get("buffers", 0)
                        for r in (c.last() or {}).get("remotes", []))
            check(total == 0, f"waiting {role} decoded nothing from anyone ({total})")
            check(frames_from(judge, name) == 0, f"judge decoded nothing from waiting {role}")
        for _, name, _, _ in WAITERS:
            rc, out, err = ctl(relay, console, "admit", name)
            check(rc == 0, f"ctl admit {name} (exit {rc}) {out} {err}")
        wait_until(lambda: all(frames_from(clients[r], "Judge") > 30 and
                               frames_from(judge, n) > 30 for r, n, _, _ in WAITERS))
        for role, name, _, _ in WAITERS:
            c = clients[role]
            check(frames_from(c, "Judge") > 30, f"admitted {role} sees the judge "
                                                f"({frames_from(c, 'Judge')} frames)")
            check(frames_from(judge, name) > 30,
                  f"judge sees admitted {role} ({frames_from(judge, name)} frames)")
        check(wait_until(lambda: frames_from(clients["clerk"], "Witness A") > 30),
              f"admitted people see each other ({frames_from(clients['clerk'], 'Witness A')} "
              f"frames of the witness at the clerk)")
        rc, out, err = ctl(relay, console, "to-waiting", "Witness A")
        check(rc == 0, f"ctl to-waiting Witness A (exit {rc}) {err}")
        # The relay shows the witness waiting and both ends have reported twice since (what was
        # on its way when it stopped is counted by then).
        both = [clients["witness"], judge]
        wait_until(lambda: participant(relay.status(console), "Witness A").get("state") ==
                   "waiting")
        wait_until(reports_advanced(both, 2))
        w_before = frames_from(clients["witness"], "Judge")
        j_before = frames_from(judge, "Witness A")
        # Before checking that no more video flowed: the clerk's video kept reaching the judge
        # (60 more packets at the relay, 60 more frames decoded: 2 s of video) while both
        # reported four more times.
        start = relay.status(console)
        c_before = frames_from(judge, "Clerk B")
        reported = reports_advanced(both, 4)
        check(wait_until(lambda: sent_to(relay.status(console), "Judge", "Clerk B", "video") >=
                         sent_to(start, "Judge", "Clerk B", "video") + 60 and
                         frames_from(judge, "Clerk B") >= c_before + 60 and reported()),
              "meanwhile the clerk's video kept reaching the judge")
        w_after = frames_from(clients["witness"], "Judge")
        j_after = frames_from(judge, "Witness A")
        check(w_after - w_before <= 2, f"witness back in the waiting room gets no more video "
                                       f"({w_before} -> {w_after})")
        check(j_after - j_before <= 2, f"judge gets no more video from the waiting witness "
                                       f"({j_before} -> {j_after})")
        check(frames_from(judge, "Clerk B") > j_after, "the others still see each other")
        rc, out, err = ctl(relay, console, "admit", "Witness A")
        wait_until(lambda: frames_from(clients["witness"], "Judge") > w_after + 30, timeout=30)
        check(frames_from(clients["witness"], "Judge") > w_after + 30,
              "the witness sees the judge again after a second admission")
        check(relay.alive(), "relay still running")
    finally:
        harness.shutdown(relay, [judge, *clients.values()], client_logs=True)
    finish()


if __name__ == "__main__":
    main()
