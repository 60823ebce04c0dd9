#!/usr/bin/env python3
"""The hearing's audit log, as the court and as an attacker who can write the state directory
meet it.

A real hearing (joins, admission, mute, protection, recording, lock, end) leaves a log whose every
write is signed as it is made, closed by a signature when the hearing ends; testimony-verify
accepts it with the evidence key (exit 0), says "integrity only" without it (exit 3), and refuses
it for another hearing or another key (exit 1). Altering, deleting or reordering any entry names
that entry. Between sessions (the hearing empty, a break) an attacker rewrites an entry and
rebuilds the chain, appends a forged entry, or copies a log to another hearing: when the hearing
opens again the relay detects each, keeps what it found aside and records it in a new, signed
entry. The recording's path reaches only the one who stopped it, never the defendant."""
import glob
import hashlib
import json
import os
import re
import shutil
import subprocess

import harness
from harness import Client, Probe, Relay, check, ctl, finish, log, sent_to, wait_until

VERIFY = os.environ.get("TESTIMONY_VERIFY", "testimony-verify")


def verify(path, key=None, *extra):
    args = [VERIFY, "--audit", path, *extra] + (["--key", key] if key else [])
    p = subprocess.run(args, capture_output=True, text=True, timeout=30)
    return p.returncode, (p.stdout + p.stderr).strip()


def rechain(lines):
    """What an attacker without the key can do: recompute every entry's link and hash."""
    prev = "0" * 64
    out = []
    for line in lines:
        if line.startswith('{"seq"'):
            line = re.sub(r'"prev":"[0-9a-f]{64}"', f'"prev":"{prev}"', line)
            body = line[:line.index(',"hash":')] + "}"
            prev = hashlib.sha256(body.encode()).hexdigest()
            line = line[:line.index(',"hash":')] + f',"hash":"{prev}"}}'
        out.append(line)
    return out


def actions(path):
    return [json.loads(l)["action"] for l in open(path).read().splitlines()
            if l.startswith('{"seq"')]


def entry(path, action):
    for l in open(path).read().splitlines():
        if l.startswith('{"seq"') and json.loads(l)["action"] == action:
            return json.loads(l)
    return None


def break_attacks(relay, console, log_path, key):
    """The hearing is empty between two control sessions (testimony-ctl joins, acts, leaves)."""
    rc, _, err = ctl(relay, console, "lock")
    check(rc == 0 and os.path.exists(log_path), f"a control session opens the log {err}")
    first = json.loads(open(log_path).readline())
    check(first["action"] == "log-open" and first["hearing"] == "h1" and
          first["case"] == "BK-2026-117" and len(first["key"]) == 44,
          f"the first entry names the hearing, case and key: {first}")
    rc, out = verify(log_path, key)
    check(rc == 1 and "NOT CLOSED" in out, f"during a break every entry is signed: {out}")

    # 1. Rewrite an entry during the break and rebuild the chain after it.
    lines = open(log_path).read().splitlines()
    forged = rechain([l.replace('"action":"lock"', '"action":"unlock"') for l in lines])
    open(log_path, "w").write("\n".join(forged) + "\n")
    rc, _, err = ctl(relay, console, "unlock")
    check(rc == 0, f"the hearing opens again after the rewrite {err}")
    damaged = glob.glob(log_path + ".damaged-*")
    check(len(damaged) == 1, f"the rewritten log is kept aside: {damaged}")
    found = entry(log_path, "audit-log-damaged")
    check(found is not None and "does not verify" in found["detail"] and
          os.path.basename(damaged[0]) in found["detail"] if damaged and found else False,
          f"the new log says the old one was altered: {found and found['detail']}")
    if damaged:
        rc, out = verify(damaged[0], key)
        check(rc == 1 and "ALTERED" in out and "checkpoint" in out,
              f"testimony-verify names the rewrite: {out}")

    # 2. Append a forged entry, linked to the chain but not signed.
    lines = open(log_path).read().splitlines()
    seq = len([l for l in lines if l.startswith('{"seq"')]) + 1
    fake = ('{"seq":%d,"time":"2026-01-01T00:00:00.000000Z","actor":"p9 Judge (judge)",'
            '"action":"admit","subject":"p7 Defendant (defendant)","detail":"",'
            '"prev":"%s","hash":"%s"}' % (seq, "0" * 64, "0" * 64))
    forged = rechain(lines + [fake])
    open(log_path, "w").write("\n".join(forged) + "\n")
    rc, out = verify(log_path, key)
    check(rc == 1 and "not covered by a signed checkpoint" in out,
          f"testimony-verify names the unsigned entry: {out}")
    rc, _, err = ctl(relay, console, "lock")
    unsigned = glob.glob(log_path + ".unsigned-*")
    check(rc == 0 and len(unsigned) == 1 and "p7 Defendant" in open(unsigned[0]).read(),
          f"the unsigned entry is moved aside, kept: {unsigned}")
    found = entry(log_path, "audit-log-unsigned-tail")
    check(found is not None and "not signed" in found["detail"],
          f"the log says so: {found and found['detail']}")
    check("p7 Defendant" not in open(log_path).read(), "the forged entry is not in the log")

    # 3. Copy this hearing's log over another hearing's.
    subprocess.run([harness.RELAY, "hearing", "create", "--state-dir", relay.state, "--id", "h2",
                    "--waiting-room", "off"], check=True, stdout=subprocess.DEVNULL)
    other = os.path.join(relay.state, "hearings", "h2.audit.jsonl")
    shutil.copy(log_path, other)
    rc, out = verify(other, key, "--hearing", "h2")
    check(rc == 1 and "WRONG HEARING" in out, f"a copied log fails for the other hearing: {out}")
    rc, _, err = ctl(relay, relay.token("judge", "Console", hearing="h2"), "lock")
    found = entry(other, "audit-log-damaged")
    check(rc == 0 and found is not None and "another hearing" in found["detail"],
          f"the relay refuses to continue another hearing's log: {found and found['detail']}")
    rc, _, err = ctl(relay, console, "unlock")
    check(rc == 0, f"unlocked for the hearing {err}")


def path_only_to_staff(relay, console):
    """A defendant listening on the signalling session while the clerk stops a recording."""
    defendant = Probe(relay, json.dumps({"type": "join",
                                         "token": relay.token("defendant", "Defendant")}),
                      wait_ms=9000)
    wait_until(lambda: defendant.got("joined"))
    start = relay.status(console)
    rc, out, err = ctl(relay, console, "record", "start")
    # Stopped once the defendant was told and the recording (checked with the log below) holds
    # media: 60 more packets of the judge's video sent to the witness, about 2 s.
    wait_until(lambda: defendant.got("recording", state="recording") and
               sent_to(relay.status(console), "Witness", "Judge", "video") >=
               sent_to(start, "Witness", "Judge", "video") + 60)
    rc2, out2, err2 = ctl(relay, console, "record", "stop")
    got = defendant.join()
    path = out2.splitlines()[-1] if out2 else ""
    check(rc == 0 and rc2 == 0 and os.path.isdir(path), f"the clerk gets the path: {path} {err2}")
    states = [m.get("state") for m in got if m.get("type") == "recording"]
    check("recording" in states and "stopped" in states,
          f"the defendant is told the recording started and stopped: {states}")
    leaked = [m for m in got if path and os.path.basename(path) in json.dumps(m)]
    check(path != "" and not leaked, f"the defendant never learns the path: {leaked}")
    return path


def main():
    relay = Relay(hearing_args=("--waiting-room", "off"))
    console = relay.token("judge", "Console")
    log_path = os.path.join(relay.state, "hearings", "h1.audit.jsonl")
    key = os.path.join(relay.state, "keys", "evidence.pub")
    judge = witness = None
    try:
        break_attacks(relay, console, log_path, key)
        judge = Client(relay, relay.token("judge", "Judge"), "judge", "ff0000", 440, duration=90)
        witness = Client(relay, relay.token("witness", "Witness"), "witness", "00ff00", 660,
                         duration=90)
        wait_until(lambda: frames_from_any(judge), step=0.5)
        for cmd in (["mute", "Witness"], ["protect", "screen-witness", "on"]):
            rc, out, err = ctl(relay, console, *cmd)
            check(rc == 0, f"ctl {' '.join(cmd)} (exit {rc}) {err}")
        rec = path_only_to_staff(relay, console)
        for cmd in (["lock"], ["end"]):
            rc, out, err = ctl(relay, console, *cmd)
            check(rc == 0, f"ctl {' '.join(cmd)} (exit {rc}) {err}")
        wait_until(lambda: open(log_path).read().rstrip().splitlines()[-1].startswith(
            '{"signature"'), timeout=20)
        lines = open(log_path).read().splitlines()
        acts = actions(log_path)
        log(f"audit actions: {acts}")
        for a in ("join", "mute", "protect", "lock", "record-start", "record-stop", "end",
                  "leave"):
            check(a in acts, f"the log records {a}")
        stop = entry(log_path, "record-stop")
        digest = hashlib.sha256(open(os.path.join(rec, "manifest.json"), "rb").read()).hexdigest()
        check(stop is not None and digest in stop["detail"] and "/" not in stop["detail"],
              f"record-stop keeps the manifest's hash, not the server path: {stop}")
        check(lines[-1].startswith('{"signature"'), "the log is closed when the hearing ends")
        rc, out = verify(log_path, key)
        check(rc == 0 and out.splitlines()[-1].startswith("OK"), f"verifies with the key: {out}")
        rc, out = verify(log_path)
        check(rc == 3 and "INTEGRITY ONLY" in out and "not pinned" in out,
              f"without --key: integrity only, exit 3: {out}")
        rc, out = verify(log_path, key, "--hearing", "h2")
        check(rc == 1 and "WRONG HEARING" in out, f"as another hearing's log: exit 1: {out}")
        rc, out = verify(log_path, key, rec)
        check(rc == 0, f"checked together with its recording: {out.splitlines()[-1:]}")
        entries = [i for i, l in enumerate(lines) if l.startswith('{"seq"')]
        tampered = os.path.join(relay.dir, "tampered.jsonl")
        for i in entries:
            variants = {
                "altered": lines[:i] + [lines[i].replace('"time":"2', '"time":"1', 1)] + lines[i + 1:],
                "deleted": lines[:i] + lines[i + 1:],
                "reordered": lines[:i] + [lines[i + 1], lines[i]] + lines[i + 2:],
            }
            for how, text in variants.items():
                with open(tampered, "w") as f:
                    f.write("\n".join(text) + "\n")
                rc, out = verify(tampered, key)
                want = f"line {i + 1}"
                check(rc == 1 and want in out, f"entry {i + 1} {how}: verify fails at {want}: {out}")
        other = subprocess.run(["openssl", "genpkey", "-algorithm", "ed25519"], capture_output=True)
        if check(other.returncode == 0, "openssl makes another key"):
            pem = os.path.join(relay.dir, "other.pem")
            pub = os.path.join(relay.dir, "other.pub")
            open(pem, "wb").write(other.stdout)
            subprocess.run(["openssl", "pkey", "-in", pem, "-pubout", "-out", pub], check=True)
            rc, out = verify(log_path, pub)
            check(rc == 1 and "another evidence key" in out, f"another key is refused: {out}")
        check(judge.wait(20) is not None, "the judge's client ends with the hearing")
    finally:
        harness.shutdown(relay, [c for c in (judge, witness) if c is not None])
    finish()


def frames_from_any(client):
    return harness.frames_from(client, "Witness") > 10


if __name__ == "__main__":
    main()
