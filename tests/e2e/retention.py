#!/usr/bin/env python3
"""`testimony-relay retention` on recordings the real relay made, while it runs.

Hearing h1: a witness's client publishes, the clerk records twice (A, then B) and the judge ends
the hearing. Hearing h2: a recording (C) is still being made. Counting the age from a time when A is older than the limit
and B is not:
  - a dry run names A and changes nothing;
  - A is moved to the archive and still verifies there; B and C are kept, C as not finished;
  - h1's audit log verifies with testimony-verify and its new `retention` entry names A and
    the SHA-256 of A's signed manifest (the same one its `record-stop` entry holds);
  - the running relay, asked to open the ended hearing again, refuses the join and does not
    take the lengthened log for a damaged one;
  - later (B older too) B is deleted; C, whose hearing has not ended, is still kept;
  - a recording whose manifest was altered is left alone and named (exit 1);
  - a bad age is refused with a clear message.
"""
import datetime
import glob
import hashlib
import json
import os
import shutil
import subprocess

from harness import (RELAY, Client, Probe, Relay, check, ctl, finish, log, participant,
                     wait_until)

VERIFY = os.environ.get("TESTIMONY_VERIFY", "testimony-verify")


def retention(relay, *args):
    p = subprocess.run([RELAY, "retention", "--state-dir", relay.state, *args],
                       capture_output=True, text=True, timeout=60)
    log(f"$ retention {' '.join(args)} -> {p.returncode}\n{p.stdout}{p.stderr}")
    return p.returncode, p.stdout + p.stderr


def verify(*args):
    p = subprocess.run([VERIFY, *args], capture_output=True, text=True, timeout=60)
    return p.returncode, (p.stdout + p.stderr).strip()


def entries(path):
    return [json.loads(l) for l in open(path).read().splitlines() if l.startswith('{"seq"')]


def manifest(path):
    raw = open(os.path.join(path, "manifest.json"), "rb").read()
    return json.loads(raw), hashlib.sha256(raw).hexdigest()


def record(relay, console):
    rc, out, err = ctl(relay, console, "record", "start")
    check(rc == 0, f"record start: {err}")
    rc, out, err = ctl(relay, console, "record", "stop")
    path = out.splitlines()[-1] if out else ""
    check(rc == 0 and os.path.isdir(path), f"record stop gives the recording {path} {err}")
    return path


def iso(us):
    t = datetime.datetime.fromtimestamp(us / 1e6, datetime.timezone.utc)
    return t.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def main():
    relay = Relay()
    witness = stay = None
    try:
        clerk = relay.token("clerk", "Clerk console")
        judge = relay.token("judge", "Judge console")
        witness = Client(relay, relay.token("witness", "Witness"), "witness", "00ff00", 660,
                         duration=120)
        check(wait_until(lambda: participant(relay.status(clerk), "Witness").get("rx_packets", 0) > 50
                         or witness.proc.poll() is not None) and witness.proc.poll() is None,
              "the witness's client joins and publishes")
        a = record(relay, clerk)
        b = record(relay, clerk)
        rc, out, err = ctl(relay, judge, "end")
        check(rc == 0, f"the judge ends h1: {err}")
        log_path = os.path.join(relay.state, "hearings", "h1.audit.jsonl")
        wait_until(lambda: open(log_path).read().rstrip().splitlines()[-1].startswith(
            '{"signature"'), timeout=20)
        subprocess.run([RELAY, "hearing", "create", "--state-dir", relay.state, "--id", "h2",
                        "--waiting-room", "off"], check=True, stdout=subprocess.DEVNULL)
        # A session that keeps h2 open while its recording runs.
        stay = Probe(relay, json.dumps({"type": "join", "token": relay.token(
            "judge", "Judge", hearing="h2")}), wait_ms=120000)
        wait_until(lambda: stay.got("joined"))
        rc, out, err = ctl(relay, relay.token("clerk", "Clerk console", hearing="h2"),
                           "record", "start")
        check(rc == 0, f"h2's recording starts: {err}")
        c = [p for p in glob.glob(os.path.join(relay.state, "recordings", "h2-*"))]
        check(len(c) == 1 and not os.path.exists(os.path.join(c[0], "manifest.json")),
              f"h2's recording is being written: {c}")
        c = c[0] if c else ""
        (ma, sum_a), (mb, sum_b) = manifest(a), manifest(b)
        check(ma["end_us"] < mb["end_us"], "A ended before B")
        # 90 days after a moment between A's end and B's: A is older than 90 days, B is not.
        as_of = iso((ma["end_us"] + mb["end_us"]) // 2 + 90 * 86400 * 10**6)
        key = os.path.join(relay.state, "keys", "evidence.pub")
        before = open(log_path).read()
        archive = os.path.join(relay.dir, "archive")

        rc, out = retention(relay, "--older-than", "90d", "--as-of", as_of, "--dry-run",
                            "--archive", archive)
        check(rc == 0 and "would archive" in out and os.path.basename(a) in out and
              os.path.isdir(a) and open(log_path).read() == before and not os.path.exists(archive),
              "a dry run names A and changes nothing")

        rc, out = retention(relay, "--older-than", "90d", "--as-of", as_of, "--archive", archive)
        moved = os.path.join(archive, os.path.basename(a))
        check(rc == 0 and not os.path.exists(a) and os.path.isdir(moved),
              f"A, older than 90 days, is moved to the archive: {moved}")
        check(os.path.isdir(b) and f"kept      {os.path.basename(b)}: newer than the limit" in out,
              "B, newer, is kept and the output says why")
        check(os.path.isdir(c) and "not finished" in out,
              "C, not finished, is kept and the output says why")
        rc, out = verify(moved, "--key", key)
        check(rc == 0, f"the archived recording still verifies: {out.splitlines()[-1:]}")
        rc, out = verify("--audit", log_path, "--key", key)
        check(rc == 0 and out.splitlines()[-1].startswith("OK"),
              f"h1's audit log verifies after retention: {out}")
        ents = entries(log_path)
        ret = [e for e in ents if e["action"] == "retention"]
        stop = [e for e in ents if e["action"] == "record-stop"]
        check(len(ret) == 1 and sum_a in ret[0]["detail"] and "archived" in ret[0]["detail"] and
              os.path.basename(a) in ret[0]["detail"] and "/" not in ret[0]["detail"],
              f"a retention entry names A and its manifest's SHA-256: {ret}")
        check(any(sum_a in e["detail"] for e in stop),
              "the same hash as A's record-stop entry")

        # The running relay opens the ended hearing again: it refuses the join and keeps the log.
        rc, out, err = ctl(relay, judge, "mute", "Nobody")
        check(rc != 0 and "ended" in (out + err), f"joining the ended hearing is refused: {err}")
        damaged = glob.glob(log_path + ".*")
        check(not damaged, f"the relay does not take the log for a damaged one: {damaged}")
        rc, out = verify("--audit", log_path, "--key", key)
        check(rc == 0, f"and it still verifies: {out.splitlines()[-1:]}")

        later = iso(mb["end_us"] + 91 * 86400 * 10**6)
        rc, out = retention(relay, "--older-than", "90d", "--as-of", later)
        check(rc == 0 and not os.path.exists(b) and "deleted" in out,
              "later, B is deleted")
        check(os.path.isdir(c), "C is still kept")
        rc, out = verify("--audit", log_path, "--key", key)
        ret = [e for e in entries(log_path) if e["action"] == "retention"]
        check(rc == 0 and len(ret) == 2 and sum_b in ret[1]["detail"] and
              "deleted" in ret[1]["detail"],
              f"the log verifies and names B's deletion with its manifest's hash: {out}")

        rc, out, err = ctl(relay, relay.token("clerk", "Clerk console", hearing="h2"),
                           "record", "stop")
        rc, out = retention(relay, "--older-than", "0s")
        check(rc == 0 and os.path.isdir(c) and "has not ended" in out,
              "C, finished in a hearing that has not ended, is kept and the output says why")
        # A manifest altered to look older (its signature no longer matches): left alone, named.
        forged = os.path.join(relay.state, "recordings", "h1-20200101T000000Z")
        shutil.copytree(moved, forged)
        ma["end_us"] -= 365 * 86400 * 10**6
        with open(os.path.join(forged, "manifest.json"), "w") as f:
            json.dump(ma, f)
        rc, out = retention(relay, "--older-than", "90d", "--as-of", later)
        check(rc == 1 and os.path.isdir(forged) and "not signed by this relay's evidence key" in out,
              "a recording whose manifest does not verify is kept, named, and the exit status is 1")
        rc, out = retention(relay, "--older-than", "90x")
        check(rc == 2 and "not an age" in out, "a bad age is refused")
    finally:
        if witness is not None:
            witness.stop()
        if stay is not None:
            stay.proc.kill()
            stay.join()
        relay.stop()
        relay.cleanup()
    finish()


if __name__ == "__main__":
    main()
