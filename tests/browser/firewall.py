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

With --step (meson test rate_step_browser) instead: a 1 Mbit/s link each way, the witness's
camera a moving zone plate; once the judge sees the witness 480 wide or more at 1 Mbit/s (within
40 s) the link falls to 300 kbit/s: the page shrinks its picture (320 wide or less) and the judge
sees it move again, ten frames a second or more, and hears it (web/js/peers.js, PictureSize).

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
import threading
import time

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


def step_down(link, judge, lines):
    """--step: the witness's page has joined over a 1 Mbit/s link; once the judge sees its picture
    480 wide or more (at most 40 s) the link falls to 300 kbit/s each way. The judge must go on
    seeing the witness, in a smaller picture, and hearing it (docs/poor-networks.md, "The page's
    picture size")."""
    def witness():
        return (remote_by_name(judge.last(), "Witness B") or {}).get("video", {})
    # the page starts smaller and grows a size at most every 10 s while its rate allows
    wait_until(lambda: witness().get("width", 0) >= 480, 40, 1)
    before = witness()
    log(f"at 1 Mbit/s the judge sees the witness {before.get('width')}x{before.get('height')}")
    check(before.get("width", 0) >= 480,
          f"step: at 1 Mbit/s the judge sees the witness's picture at 480 wide or more ({before})")
    link.set("both", "rate=300")
    stepped = time.time()
    shown, sound, smallest, flowing = [], buffers_from(judge, "Witness B"), 10000, False
    while time.time() < stepped + 25 and not (smallest <= 320 and flowing):
        time.sleep(1)  # the client reports once a second
        v = witness()
        shown.append(v.get("shown", 0))
        if v.get("width"):
            smallest = min(smallest, v["width"])
        # ten or more new frames shown in each of the last five seconds
        flowing = len(shown) >= 6 and all(b - a >= 10 for a, b in zip(shown[-6:], shown[-5:]))
    log(f"after the step: {time.time() - stepped:.0f} s, smallest {smallest} wide, frames shown "
        f"each second {[b - a for a, b in zip(shown, shown[1:])]}")
    check(smallest <= 320,
          f"step: the witness's page sends a smaller picture over 300 kbit/s ({smallest} wide)")
    check(flowing, "step: and the judge sees it move again, ten frames a second or more for "
                   "five seconds in a row, within 25 s of the step")
    check(buffers_from(judge, "Witness B") > sound,
          f"step: the judge goes on hearing the witness ({sound} -> "
          f"{buffers_from(judge, 'Witness B')} buffers)")
    own = [json.loads(l).get("own") or {} for l in lines if l.startswith('{"time"')]
    check(any(o.get("share", 1) <= 0.5 for o in own),
          f"step: the page chose the smaller size itself (its shares: "
          f"{sorted(set(o.get('share') for o in own))})")


def witness_in_chromium(path, settings, relay_args=(), turn=None, lossy=False, step=False):
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
            if step:  # a detailed moving picture, which fills the link (a plain one would not)
                subprocess.run(["gst-launch-1.0", "-q", "videotestsrc", "pattern=zone-plate",
                                "kx2=20", "ky2=20", "kt=1", "num-buffers=150", "!",
                                "video/x-raw,format=I420,width=640,height=480,framerate=30/1",
                                "!", "y4menc", "!", "filesink", f"location={y4m}"], check=True)
            else:
                subprocess.run([os.path.join(HERE, "make-y4m.sh"), "00ff00", y4m, "30"],
                               check=True)
            env = dict(os.environ, RELAY_URL=relay.remote_url,
                       TOKEN=relay.token("witness", "Witness B"), CHROMIUM_WRAPPER=wrapper,
                       Y4M=y4m, TMP=tmp,
                       # coturn's self-signed certificate (TURN over TLS is checked)
                       CHROMIUM_ARGS="--ignore-certificate-errors" if turn else "")
            if lossy:
                env["WAIT_FOR_REPAIR"] = "1"
            if step:
                env["HOLD_S"] = "60"
            try:
                node = subprocess.Popen([NODE, os.path.join(HERE, "firewall_witness.mjs")],
                                        env=env, stdout=subprocess.PIPE, text=True)
                lines = []
                reader = threading.Thread(
                    target=lambda: lines.extend(l.strip() for l in node.stdout), daemon=True)
                reader.start()
                # the page's result line, once printed ({"joined": ..., "frames": ...})
                result = lambda: next((json.loads(l) for l in reversed(list(lines))
                                       if l.startswith('{"joined"')), None)
                if step:  # bounded: the page exits by its own timer
                    wait_until(lambda: result() is not None or node.poll() is not None, 200, 0.5)
                    if (result() or {}).get("joined"):
                        step_down(link, judge, lines)
                    node.kill()
                node.wait(240)
                reader.join(10)
                if node.returncode == 77:
                    log("\n".join(lines))
                    sys.exit(77)
                log("\n".join(l for l in lines if not l.startswith('{"time"')))
                got = result() or {}
                check(got.get("joined"), f"{path}: the witness's page joins the hearing")
                if step:
                    return
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
    if "--step" in sys.argv:
        witness_in_chromium("1 Mbit/s, then 300 kbit/s", "rate=1000", step=True)
        finish()
        return
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
