#!/usr/bin/env python3
"""The witness on a poor link: lost packets are recovered.

The relay and the judge's testimony-client are in one network namespace, the witness's in
another, joined by the userspace impairment link (tests/netem). 10 % loss in bursts, 200 ms
round trip, 20 ms jitter, both ways: the answers to the witness's client carry RTX (RFC 4588);
the relay asks the witness again for what it lost (NACK) and gets retransmissions; the judge
keeps decoding the witness's picture, in the witness's green, and hearing its tone, and the
witness the judge's red; the witness's receiving connection negotiates transport-cc and its
client sends the feedback; the judge's client, next to the relay, waits long enough for what the
relay gets back across the witness's link (the relay's `repair` message).

A rate step, 1 Mbit/s then 300 kbit/s both ways (100 ms drop-tail queues, no loss of its
own), the witness sending a moving zone plate (about 800 kbit/s of VP8 when it may): the relay's
estimate for the witness grows past 400 kbit/s, then falls to the new rate, and the pictures and
sound keep coming both ways.

Outcomes only (frames, colours, counters); how fast is the benchmark's (tests/bench/poor_network.py)."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "netem"))

from harness import (Client, Relay, buffers_from, check, finish, frames_from, log, remote_by_name,
                     shutdown, wait_until)
from netns_link import ImpairedLink


def witness_row(relay, token):
    try:
        status = relay.status_in(token)
    except Exception as e:
        log(f"status: {e}")
        return {}
    rows = [p for p in status.get("participants", []) if p.get("role") == "witness"]
    return rows[0] if rows else {}


def lossy_call():
    lossy = "gb=3 bg=27 delay=100 jitter=20"
    with ImpairedLink(a2b=lossy, b2a=lossy, seed=11) as link:
        in_b = lambda argv: link.command("b", argv)
        in_a = lambda argv: link.command("a", argv)
        os.environ["TESTIMONY_CLIENT_PRINT_OFFER"] = "1"  # the client prints offers and answers
        relay = Relay(host=link.B_ADDR, wrap=in_b)
        judge_token = relay.token("judge", "Judge Somchai")
        judge = Client(relay, judge_token, "judge", "ff0000", 440, 90, wrap=in_b, remote=True)
        witness = Client(relay, relay.token("witness", "Witness A"), "witness", "00ff00", 660, 90,
                         wrap=in_a, remote=True)
        del os.environ["TESTIMONY_CLIENT_PRINT_OFFER"]
        try:
            check(wait_until(lambda: frames_from(judge, "Witness A") > 30, 60),
                  "10 % loss: the judge decodes the witness's picture")
            start = frames_from(judge, "Witness A"), buffers_from(judge, "Witness A")
            # The judge's client is next to the relay (its own round trip ~1 ms), yet its jitter
            # buffers must wait for what the relay gets back across the witness's 200 ms link:
            # the relay's `repair` figures make them wait for that at once, where counting late
            # packets alone took 20-40 s (and a freeze for each).
            # At least two of the relay's retry waits and the witness's round trip (over 150 ms
            # here), at most what the jitter buffers may wait.
            waits = lambda: (remote_by_name(judge.last(), "Witness A") or {}).get("latency_ms", 0)
            retry = lambda: witness_row(relay, judge_token).get("nack_retry_ms", 0)
            check(wait_until(lambda: waits() >= min(2 * retry() + 200, 950), 10),
                  f"10 % loss: the judge's client waits for the repairs of the witness's far "
                  f"link within 10 s ({waits()} ms; the relay asks the witness again after "
                  f"{retry()} ms)")
            recovered = wait_until(lambda: witness_row(relay, judge_token).get("rtx_in", 0) > 20
                                   and witness_row(relay, judge_token).get("nack_recovered", 0)
                                   > 20, 60)
            row = witness_row(relay, judge_token)
            check(recovered, f"10 % loss: the relay NACKs the witness and RTX fills the holes "
                             f"(nacks {row.get('nacks_out')}, rtx in {row.get('rtx_in')}, "
                             f"recovered {row.get('nack_recovered')}, given up "
                             f"{row.get('nack_given_up')})")
            more = wait_until(lambda: frames_from(judge, "Witness A") > start[0] + 150 and
                              buffers_from(judge, "Witness A") > start[1] + 250, 60)
            check(more, f"10 % loss: the picture and the sound keep coming "
                        f"({frames_from(judge, 'Witness A') - start[0]} frames, "
                        f"{buffers_from(judge, 'Witness A') - start[1]} audio buffers)")
            r = remote_by_name(judge.last(), "Witness A") or {}
            v, a = r.get("video", {}), r.get("audio", {})
            check(abs(v.get("g", 0) - 255) <= 40 and v.get("r", 255) <= 40,
                  f"10 % loss: the judge sees the witness's green ({v})")
            # The tone over the last five report lines: one line's 85 ms window may hold a
            # concealed (lost) packet, which moves its spectrum's peak; a person hears the tone.
            tones = [(remote_by_name(line, "Witness A") or {}).get("audio", {}).get("freq_hz", 0)
                     for line in judge.lines()[-5:]]
            check(sum(1 for f in tones if abs(f - 660) <= 25) >= 3,
                  f"10 % loss: the judge hears the witness's 660 Hz (last five reports: {tones})")
            row = witness_row(relay, judge_token)
            check(row.get("retransmits", 0) > 0 and row.get("rtx_over_budget", -1) >= 0,
                  f"10 % loss: the relay resends to the witness what its link lost "
                  f"({row.get('nacks_in')} NACKs in, {row.get('retransmits')} resent, "
                  f"{row.get('rtx_repeats')} asked again within a round trip, "
                  f"{row.get('rtx_over_budget')} over the budget)")
            # The witness's own picture of the judge comes across the same lossy link: its count
            # is waited for, not read once (a clean-clone run read 99 frames of the 100 here).
            wait_until(lambda: frames_from(witness, "Judge Somchai") > 100, 30)
            w = remote_by_name(witness.last(), "Judge Somchai") or {}
            check(w.get("video", {}).get("frames", 0) > 100 and
                  abs(w.get("video", {}).get("r", 0) - 255) <= 40,
                  f"10 % loss: the witness sees the judge's red ({w.get('video')}; "
                  f"{witness_row(relay, judge_token).get('congestion_holds')} times held back "
                  f"for a full link)")
            answers = open(witness.stderr_path).read()
            subscribe = [a for a in answers.split("--- answer for ")[1:]
                         if not a.startswith("publish")]
            answers = answers[answers.find("--- answer for publish"):]
            check("rtx/90000" in answers and "apt=" in answers,
                  "the relay's answer to the witness's publish offer carries RTX")
            # The witness's client sends no REMB: the relay numbers what it sends it, and the
            # client's RTP session reports each packet's arrival (the relay's view of the
            # witness's downlink, docs/poor-networks.md).
            check(any("transport-wide-cc-extensions-01" in a and " transport-cc" in a
                      for a in subscribe),
                  "the relay's answer to the witness's subscribe offer carries transport-cc")
            fb = witness_row(relay, judge_token).get("twcc_feedback_in", 0)
            check(fb > 20, f"10 % loss: the witness's client reports what reaches it "
                           f"({fb} transport-cc feedback packets)")
        finally:
            shutdown(relay, [judge, witness], client_logs=True)


def rate_step_call():
    with ImpairedLink(a2b="rate=1000", b2a="rate=1000", seed=12) as link:
        in_b = lambda argv: link.command("b", argv)
        in_a = lambda argv: link.command("a", argv)
        relay = Relay(host=link.B_ADDR, wrap=in_b)
        judge_token = relay.token("judge", "Judge Somchai")
        judge = Client(relay, judge_token, "judge", "ff0000", 440, 90, wrap=in_b, remote=True)
        witness = Client(relay, relay.token("witness", "Witness A"), "witness", "00ff00", 660, 90,
                         wrap=in_a, remote=True, pattern="zone-plate")
        try:
            check(wait_until(lambda: frames_from(judge, "Witness A") > 60 and
                             frames_from(witness, "Judge Somchai") > 60, 60),
                  "1 Mbit/s: the judge and the witness decode each other's picture")
            # the estimate starts at 300 kbit/s (a browser's start rate) and grows while the
            # witness's sending grows (a solid colour would earn no more: bwe.h). Past 400: in
            # one run in four it stayed at 313-450 kbit/s for a minute (the same with the build
            # before); the figures below say why when it does
            grown = wait_until(
                lambda: witness_row(relay, judge_token).get("estimate_kbps", 0) > 400, 90)
            row = witness_row(relay, judge_token)
            check(grown, f"1 Mbit/s: the relay's estimate for the witness grows past 400 kbit/s "
                         f"({row.get('estimate_kbps')} kbit/s; the witness sends "
                         f"{row.get('bitrate_kbps')} kbit/s, queue {row.get('queue_ms')} ms, "
                         f"{row.get('first_lost_pct')} % lost at first, "
                         f"{row.get('nack_given_up')} given up)")
            link.set("both", "rate=300")
            start = (frames_from(judge, "Witness A"), buffers_from(judge, "Witness A"),
                     frames_from(witness, "Judge Somchai"))
            lowered = wait_until(
                lambda: 0 < witness_row(relay, judge_token).get("estimate_kbps", 0) <= 300, 30)
            check(lowered, f"300 kbit/s: the relay's estimate for the witness falls below the new "
                           f"rate ({witness_row(relay, judge_token).get('estimate_kbps')} kbit/s)")
            more = wait_until(lambda: frames_from(judge, "Witness A") > start[0] + 300 and
                              buffers_from(judge, "Witness A") > start[1] + 500 and
                              frames_from(witness, "Judge Somchai") > start[2] + 300, 90)
            check(more, f"300 kbit/s: the pictures and the sound keep coming "
                        f"(judge: {frames_from(judge, 'Witness A') - start[0]} frames, "
                        f"{buffers_from(judge, 'Witness A') - start[1]} audio buffers of the "
                        f"witness; witness: {frames_from(witness, 'Judge Somchai') - start[2]} "
                        f"frames of the judge)")
            w = (remote_by_name(witness.last(), "Judge Somchai") or {}).get("video", {})
            check(abs(w.get("r", 0) - 255) <= 40 and w.get("g", 255) <= 40,
                  f"300 kbit/s: the witness sees the judge's red ({w})")
        finally:
            shutdown(relay, [judge, witness], client_logs=True)


def main():
    lossy_call()
    rate_step_call()
    finish()


if __name__ == "__main__":
    main()
