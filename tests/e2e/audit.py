#!/usr/bin/env python3
"""The hearing's audit log: a real hearing (joins, admission, mute, protection, lock, end)
leaves a signed, hash-chained log that testimony-verify accepts; altering, deleting or
reordering any entry makes verification fail and name that entry."""
import os
import subprocess
import time

import harness
from harness import Client, Relay, check, ctl, finish, log, wait_until

VERIFY = os.environ.get("TESTIMONY_VERIFY", "testimony-verify")


def verify(path, key):
    p = subprocess.run([VERIFY, "--audit", path, "--key", key], capture_output=True, text=True,
                       timeout=30)
    return p.returncode, (p.stdout + p.stderr).strip()


def main():
    relay = Relay(hearing_args=())
    console = relay.token("judge", "Console")
    judge = Client(relay, relay.token("judge", "Judge"), "judge", "ff0000", 440, duration=60)
    witness = Client(relay, relay.token("witness", "Witness"), "witness", "00ff00", 660,
                     duration=60)
    log_path = os.path.join(relay.state, "hearings", "h1.audit.jsonl")
    key = os.path.join(relay.state, "keys", "evidence.pub")
    try:
        wait_until(lambda: "Witness" in ctl(relay, console, "waiting")[1], step=1)
        for cmd in (["admit", "Witness"], ["mute", "Witness"], ["protect", "screen-witness", "on"],
                    ["lock"], ["end"]):
            rc, out, err = ctl(relay, console, *cmd)
            check(rc == 0, f"ctl {' '.join(cmd)} (exit {rc}) {err}")
            time.sleep(0.5)
        time.sleep(2)
        lines = open(log_path).read().splitlines()
        actions = [l.split('"action":"')[1].split('"')[0] for l in lines if '"action":"' in l]
        log(f"audit actions: {actions}")
        for a in ("join", "admit", "mute", "protect", "lock", "end", "leave"):
            check(a in actions, f"the log records {a}")
        check(lines[-1].startswith('{"signature"'), "the log is signed when the hearing ends")
        rc, out = verify(log_path, key)
        check(rc == 0, f"testimony-verify accepts the log: {out}")
        entries = [i for i, l in enumerate(lines) if l.startswith('{"seq"')]
        tampered = os.path.join(relay.dir, "tampered.jsonl")
        for i in entries:
            variants = {
                "altered": lines[:i] + [lines[i].replace('"time":"2', '"time":"1', 1)] + lines[i + 1:],
                "deleted": lines[:i] + lines[i + 1:],
            }
            if i + 1 < len(lines):
                variants["reordered"] = lines[:i] + [lines[i + 1], lines[i]] + lines[i + 2:]
            for how, text in variants.items():
                with open(tampered, "w") as f:
                    f.write("\n".join(text) + "\n")
                rc, out = verify(tampered, key)
                want = f"line {i + 1}"
                check(rc != 0 and want in out, f"entry {i + 1} {how}: verify fails at {want}: {out}")
        other = subprocess.run(["openssl", "genpkey", "-algorithm", "ed25519"], capture_output=True)
        if other.returncode == 0:
            pem = os.path.join(relay.dir, "other.pem")
            pub = os.path.join(relay.dir, "other.pub")
            open(pem, "wb").write(other.stdout)
            subprocess.run(["openssl", "pkey", "-in", pem, "-pubout", "-out", pub], check=True)
            rc, out = verify(log_path, pub)
            check(rc != 0 and "signature" in out, f"another key's signature is refused: {out}")
        check(judge.wait(20) is not None, "the judge's client ends with the hearing")
    finally:
        harness.shutdown(relay, [judge, witness])
    finish()


if __name__ == "__main__":
    main()
