#!/usr/bin/env python3
"""A witness in Chromium behind a strict firewall joins: over ICE-TCP, and through coturn on 443.

The relay (--ice-tcp) and the judge's testimony-client (red, 440 Hz) are in one network
namespace, Chromium in another (started through a wrapper that enters it), joined by the
userspace link of tests/netem (docs/testing.md). firewall_witness.mjs drives the page: join,
decode the judge.

1. udp=0 both ways: the page's media goes to the relay over TCP (its selected pair's local
   candidate is TCP, to the relay's address).
2. only TCP to or from 443: the relay on 443 and coturn (strict_firewall.py's, self-signed
   certificate, which Chromium is told to accept) on 443 of a second address; the page's media
   goes through coturn over TLS (a relay candidate whose relayProtocol is tls).

Each time the witness's page decodes the judge's picture, and the judge's client sees the
witness's green camera and hears its microphone; the link dropped what the browser tried
outside the firewall's opening.

With --lossy (meson test poor_link_browser) instead: no firewall, 10 % loss in bursts and a
200 ms round trip both ways; the page decodes the judge's picture and its video waits for the
relay's repairs (jitterBufferTarget from the relay's `repair` figures, web/js/peers.js).

Exit status: 0 passed, 1 failed, 77 skipped (no node, chromium or playwright-core)."""
import json
import os
import secrets
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
import strict_firewall as sf

NODE = shutil.which("node")
CHROMIUM = next((p for p in (os.environ.get("CHROMIUM"), "/usr/lib/chromium/chromium",
                             "/usr/bin/chromium") if p and os.path.exists(p)), None)


def witness_in_chromium(path, settings, relay_args=(), turn=None, lossy=False):
    """One hearing: the relay and the judge in B, the witness's Chromium in A behind SETTINGS;
    with TURN ({"dir", "secret"}) coturn beside the relay on 443 and the relay on 443 too."""
    tmp = tempfile.mkdtemp(prefix="testimony-fw-browser-")
    try:
        with ImpairedLink(a2b=settings, b2a=settings, seed=3) as link:
            in_b = lambda argv: link.command("b", argv)
            args, port, coturn = list(relay_args), None, None
            if turn is not None:
                turn["dir"] = tmp
                coturn = sf.Coturn(link, tmp, turn["secret"])
                cert, key = sf.make_certificate(tmp, "relay", link.B_ADDR)
                args += ["--config", sf.relay_config(turn, cert, key),
                         "--listen", f"{link.B_ADDR}:443"]
                port = 443
            relay = Relay(host=link.B_ADDR, wrap=in_b, extra_args=args, port=port)
            if port:
                relay.url, relay.ca = relay.remote_url, cert
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
                       Y4M=y4m, TMP=tmp,
                       # coturn's self-signed certificate (TURN over TLS is checked)
                       CHROMIUM_ARGS="--ignore-certificate-errors" if turn else "")
            if lossy:
                env["WAIT_FOR_REPAIR"] = "1"
            try:
                out = subprocess.run([NODE, os.path.join(HERE, "firewall_witness.mjs")],
                                     env=env, capture_output=True, text=True, timeout=180)
                log(out.stdout.strip())
                if out.returncode == 77:
                    sys.exit(77)
                lines = [l for l in out.stdout.splitlines() if l.startswith("{")]
                got = json.loads(lines[-1]) if lines else {}
                check(got.get("joined"), f"{path}: the witness's page joins the hearing")
                pair = got.get("pair") or {}
                if lossy:
                    # three of its ~200 ms round trips and the margin (docs/poor-networks.md)
                    check((got.get("waitMs") or 0) >= 600,
                          f"{path}: the page's video waits for its repairs from the relay "
                          f"({got.get('waitMs')} ms)")
                elif turn is None:
                    check(str(pair.get("local")).startswith("tcp ") and
                          pair.get("remote", "").startswith(f"tcp {link.B_ADDR}:"),
                          f"{path}: its media goes to the relay over TCP (ICE-TCP): {pair}")
                else:
                    check(pair.get("local") == "udp relay" and pair.get("relayProtocol") == "tls"
                          and pair.get("remote", "").startswith(f"udp {link.B_ADDR}:"),
                          f"{path}: its media goes through coturn over TLS: {pair}")
                # 640 wide, or 480 / 320 while the judge's encoder cannot keep to its target
                check(got.get("frames", 0) > 30 and got.get("width") in (640, 480, 320),
                      f"{path}: the witness's page decodes the judge's picture "
                      f"({got.get('frames')} frames, {got.get('width')} wide)")
                wait_until(lambda: frames_from(judge, "Witness B") > 30 and
                           buffers_from(judge, "Witness B") > 50, 30)
                v = (remote_by_name(judge.last(), "Witness B") or {}).get("video", {})
                check(v.get("frames", 0) > 30 and abs(v.get("g", 0) - 255) <= 40 and
                      v.get("r", 255) <= 40,
                      f"{path}: the judge's client sees the browser witness's green camera ({v})")
                check(buffers_from(judge, "Witness B") > 50,
                      f"{path}: and hears its microphone "
                      f"({buffers_from(judge, 'Witness B')} buffers)")
                counters = link.counters()
                if not lossy:
                    check(counters["a2b"]["drop_filter"] > 0,
                          f"{path}: the browser tried what the firewall does not let through, "
                          f"and it was dropped ({counters['a2b']['drop_filter']} packets)")
            finally:
                shutdown(relay, [judge], client_logs=True)
                if coturn is not None:
                    coturn.log.close()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main():
    if not NODE or not CHROMIUM or not os.path.isdir(os.path.join(HERE, "node_modules")):
        log("node, chromium or playwright-core (npm ci in tests/browser) missing: skipping")
        sys.exit(77)
    if "--lossy" in sys.argv:
        witness_in_chromium("10 % loss in bursts, 200 ms RTT", "gb=3 bg=27 delay=100 jitter=20",
                            lossy=True)
        finish()
        return
    witness_in_chromium("ICE-TCP (UDP dropped)", "udp=0", ["--ice-tcp"])
    witness_in_chromium("TURN over TLS on 443 (only TCP 443)", "udp=0 tcp_port=443",
                        ["--ice-tcp"], turn={"secret": secrets.token_hex(32)})
    finish()


if __name__ == "__main__":
    main()
