#!/usr/bin/env python3
"""Bad signalling input gets an error with a code, and the hearing in progress keeps its media.

A judge and a clerk are in a hearing; meanwhile probe sessions send bad, expired, early, forged
and other-hearing tokens, malformed JSON, unknown types, an oversized message, messages before
joining, malformed SDP and subscriptions to unknown feeds."""
import json
import time

import tokens
from harness import Client, Relay, check, finish, log, probe, remote_by_name, wait_until

import harness


def first_error(msgs):
    for m in msgs:
        if m.get("type") == "error":
            return m
    return {}


def closed(msgs):
    return any(m.get("type") == "__closed__" for m in msgs)


def join(tok):
    return json.dumps({"type": "join", "token": tok})


def frames(client, name):
    r = remote_by_name(client.last(), name)
    return r.get("video", {}).get("frames", 0) if r else 0


def main():
    relay = Relay()
    key = tokens.relay_key(relay.state)
    judge = Client(relay, relay.token("judge", "Judge"), "judge", "ff0000", 440, duration=40)
    clerk = Client(relay, relay.token("clerk", "Clerk"), "clerk", "0000ff", 880, duration=40)
    try:
        wait_until(lambda: frames(judge, "Clerk") > 30)
        before = frames(judge, "Clerk")
        check(before > 0, f"judge receives the clerk before the bad input ({before} frames)")
        now = int(time.time())
        cases = [
            ("garbage token", join("not-a-token"), "bad-token", True),
            ("expired token", join(tokens.make(key, exp=now - 3600, iat=now - 7200,
                                               nbf=now - 7200)), "token-expired", True),
            ("not-yet-valid token", join(tokens.make(key, nbf=now + 3600, exp=now + 7200)),
             "token-not-yet-valid", True),
            ("forged token", join(tokens.make(b"\x01" * 32)), "bad-token", True),
            ("other hearing", join(tokens.make(key, hearing="h2")), "wrong-hearing", True),
            ("malformed JSON", "{not json", "bad-json", False),
            ("JSON array", "[1,2]", "bad-json", False),
            ("unknown type", '{"type":"launch"}', "unknown-type", False),
            ("publish before join", '{"type":"publish","sdp":"v=0"}', "not-joined", False),
            ("oversized message", "@70000", "too-large", True),
        ]
        for what, msg, code, expect_closed in cases:
            msgs = probe(relay, msg)
            err = first_error(msgs)
            check(err.get("code") == code and len(err.get("message", "")) > 10,
                  f"{what}: error {err.get('code')} \"{err.get('message')}\" (want {code})")
            check(closed(msgs) == expect_closed,
                  f"{what}: session {'closed' if closed(msgs) else 'kept'}")
        good = join(relay.token("observer", "Gallery"))
        msgs = probe(relay, good, '{"type":"publish","sdp":"v=0\\r\\ngarbage"}',
                     '{"type":"subscribe","feed":"p99","sdp":"v=0"}',
                     '{"type":"candidate","target":"nowhere","candidate":"","sdpMLineIndex":0}',
                     '{"type":"ping"}', wait_ms=1000)
        codes = [m.get("code") for m in msgs if m.get("type") == "error"]
        check(any(m.get("type") == "joined" for m in msgs), "a good token still joins")
        check(codes[:3] == ["bad-sdp", "unknown-feed", "unknown-feed"],
              f"bad SDP and unknown feeds are refused with codes ({codes})")
        check(any(m.get("type") == "pong" for m in msgs), "the session still answers after errors")
        wait_until(lambda: frames(judge, "Clerk") > before + 30)
        after = frames(judge, "Clerk")
        check(after > before + 30, f"the hearing kept its media ({before} -> {after} frames)")
        check(relay.alive(), "relay still running")
    finally:
        harness.shutdown(relay, [judge, clerk])
    finish()


if __name__ == "__main__":
    main()
