#!/usr/bin/env python3
"""A crash while recording: kill -9 the relay 10 s into a recording. After a restart the relay
finishes the recording, which verifies up to at least 9 s, says it was interrupted, and
exports."""
import json
import os
import signal
import subprocess
import time

import harness
from harness import Client, Relay, check, ctl, finish, frames_from, log, wait_until

VERIFY = os.environ.get("TESTIMONY_VERIFY", "testimony-verify")
EXPORT = os.environ.get("TESTIMONY_EXPORT", "testimony-export")
PROBE_EXPORT = os.environ.get("PROBE_EXPORT", "probe-export")
PIPELINES = os.environ.get("TESTIMONY_PIPELINES", "")


def main():
    relay = Relay()
    console = relay.token("clerk", "Console")
    judge = Client(relay, relay.token("judge", "Judge"), "judge", "ff0000", 440, duration=40)
    witness = Client(relay, relay.token("witness", "Witness"), "witness", "00ff00", 660,
                     duration=40)
    restarted = None
    try:
        wait_until(lambda: frames_from(judge, "Witness") > 30 and frames_from(witness, "Judge") > 30)
        rc, out, err = ctl(relay, console, "record", "start")
        path = out.splitlines()[-1] if out else ""
        check(rc == 0 and os.path.isdir(path), f"recording started: {path} {err}")
        # The crash comes 10 s into the recording (the test's timetable: at least 9 s of it must
        # survive), not a wait for anything.
        time.sleep(10)
        relay.proc.send_signal(signal.SIGKILL)
        relay.proc.wait()
        r = subprocess.run([VERIFY, path], capture_output=True, text=True)
        check(r.returncode != 0 and "UNFINISHED" in r.stdout,
              f"before a restart the recording is reported unfinished: {r.stdout.splitlines()[:1]}")
        judge.stop()
        witness.stop()
        restarted = subprocess.Popen(
            [harness.RELAY, "--state-dir", relay.state, "--listen", f"127.0.0.1:{relay.port}"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        line = ""
        deadline = time.time() + 15
        while time.time() < deadline and "listening" not in line:
            line = restarted.stdout.readline()
            log("relay: " + line.strip())
            if "finished" in line and "interrupted" in line:
                check(True, "the restarted relay finished the interrupted recording")
        key = os.path.join(relay.state, "keys", "evidence.pub")
        r = subprocess.run([VERIFY, path, "--key", key], capture_output=True, text=True)
        check(r.returncode == 0 and "INTERRUPTED" in r.stdout,
              f"it verifies and says it was interrupted: {r.stdout.splitlines()[:2]}")
        m = json.load(open(os.path.join(path, "manifest.json")))
        kept = (m["end_us"] - m["start_us"]) / 1e6
        check(m["interrupted"] and kept >= 9.0, f"{kept:.1f} s kept of the 10 s before kill -9")
        mkv = os.path.join(relay.dir, "crash.mkv")
        r = subprocess.run([EXPORT, path, "-o", mkv, "--pipelines", PIPELINES],
                           capture_output=True, text=True, timeout=300)
        p = json.loads(subprocess.run([PROBE_EXPORT, mkv], capture_output=True, text=True,
                                      timeout=300).stdout) if r.returncode == 0 else {}
        check(r.returncode == 0 and p.get("duration_s", 0) >= 8.5 and
              all(s["count"] > 0 for s in p.get("decoded", [])) and len(p.get("decoded", [])) == 4,
              f"the export plays: {p.get('duration_s')} s, {len(p.get('decoded', []))} tracks")
    finally:
        judge.stop()
        witness.stop()
        if restarted is not None:
            restarted.terminate()
            restarted.wait(timeout=10)
        relay.stop()
        if harness.failures:
            log(open(relay.log_path).read()[-3000:])
        relay.cleanup()
    finish()


if __name__ == "__main__":
    main()
