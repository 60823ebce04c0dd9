#!/usr/bin/env python3
"""A witness in Chromium behind a firewall that drops UDP joins over ICE-TCP.

The relay (--ice-tcp) and the judge's testimony-client (red, 440 Hz) are in one network
namespace, Chromium in another (started through a wrapper that enters it), joined by the
userspace link of tests/netem with udp=0 both ways (docs/testing.md). firewall_witness.mjs drives
the page: join, decode the judge. Checks: the page's media goes over TCP (its selected pair's
local candidate is TCP, to the relay's address), the witness's page decodes the judge's
picture, and the judge's client sees the witness's green camera and hears its microphone; the
link dropped the UDP the browser tried.

Exit status: 0 passed, 1 failed, 77 skipped (no node, chromium or playwright-core)."""
import json
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "e2e"))
sys.path.insert(0, os.path.join(HERE, "..", "netem"))

from harness import (Client, Relay, buffers_from, check, finish, frames_from, log,
                     remote_by_name, shutdown, wait_until)
from netns_link import ImpairedLink

NODE = shutil.which("node")
CHROMIUM = next((p for p in (os.environ.get("CHROMIUM"), "/usr/lib/chromium/chromium",
                             "/usr/bin/chromium") if p and os.path.exists(p)), None)


def main():
    if not NODE or not CHROMIUM or not os.path.isdir(os.path.join(HERE, "node_modules")):
        log("node, chromium or playwright-core (npm ci in tests/browser) missing: skipping")
        sys.exit(77)
    tmp = tempfile.mkdtemp(prefix="testimony-fw-browser-")
    try:
        with ImpairedLink(a2b="udp=0", b2a="udp=0", seed=3) as link:
            in_b = lambda argv: link.command("b", argv)
            relay = Relay(host=link.B_ADDR, wrap=in_b, extra_args=["--ice-tcp"])
            judge = Client(relay, relay.token("judge", "Judge Somchai"), "judge", "ff0000", 440,
                           120, wrap=in_b, remote=True)
            wrapper = os.path.join(tmp, "chromium-in-a")
            with open(wrapper, "w") as f:
                f.write(f'#!/bin/sh\nexec nsenter --net={link.netns("a")} -- {CHROMIUM} "$@"\n')
            os.chmod(wrapper, 0o755)
            y4m = os.path.join(tmp, "witness.y4m")
            subprocess.run([os.path.join(HERE, "make-y4m.sh"), "00ff00", y4m, "30"], check=True)
            env = dict(os.environ, RELAY_URL=relay.remote_url,
                       TOKEN=relay.token("witness", "Witness B"), CHROMIUM_WRAPPER=wrapper,
                       Y4M=y4m, TMP=tmp)
            try:
                out = subprocess.run([NODE, os.path.join(HERE, "firewall_witness.mjs")],
                                     env=env, capture_output=True, text=True, timeout=180)
                log(out.stdout.strip())
                if out.returncode == 77:
                    sys.exit(77)
                lines = [l for l in out.stdout.splitlines() if l.startswith("{")]
                got = json.loads(lines[-1]) if lines else {}
                check(got.get("joined"), "the witness's page joins the hearing")
                pair = got.get("pair") or {}
                check(str(pair.get("local")).startswith("tcp ") and
                      pair.get("remote", "").startswith(f"tcp {link.B_ADDR}:"),
                      f"its media goes to the relay over TCP (ICE-TCP): {pair}")
                check(got.get("frames", 0) > 30 and got.get("width") == 640,
                      f"the witness's page decodes the judge's picture ({got.get('frames')} "
                      f"frames, {got.get('width')} wide)")
                wait_until(lambda: frames_from(judge, "Witness B") > 30 and
                           buffers_from(judge, "Witness B") > 50, 30)
                v = (remote_by_name(judge.last(), "Witness B") or {}).get("video", {})
                check(v.get("frames", 0) > 30 and abs(v.get("g", 0) - 255) <= 40 and
                      v.get("r", 255) <= 40,
                      f"the judge's client sees the browser witness's green camera ({v})")
                check(buffers_from(judge, "Witness B") > 50,
                      f"and hears its microphone ({buffers_from(judge, 'Witness B')} buffers)")
                counters = link.counters()
                check(counters["a2b"]["drop_filter"] > 0,
                      f"the browser tried UDP and the firewall dropped it "
                      f"({counters['a2b']['drop_filter']} packets)")
            finally:
                shutdown(relay, [judge], client_logs=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    finish()


if __name__ == "__main__":
    main()
