#!/usr/bin/env python3
"""The witness's kiosk (testimony-client --kiosk) on a virtual screen (Xvfb started here): a
hearing with screen-witness on, the judge sending red, the interpreter yellow, the defendant
blue, the witness's kiosk green. Screenshots of the whole X screen, read by colour: the judge's
red fills a large area on the left, the interpreter's yellow and the kiosk's own green (its
self-view) are on the right, the defendant's blue is nowhere; the relay's /api/status shows it
sent the kiosk none of the defendant's video packets (but their sound), and the kiosk's report
shows it decoded no picture of the defendant. The court mutes the witness: the kiosk's caption
changes (orange words in the bottom band; the words are checked by the unit test client-kiosk).
Then the judge switches screen-witness off: the relay may now send the kiosk the defendant's
video, but the kiosk does not show it (the witness sees only the judge and the interpreter, as on
the witness's web page) and has told the relay so (display): still no video packet of the
defendant, the sound as before, while the judge's picture keeps coming. With TESTIMONY_KIOSK_SCREENSHOT=FILE.png the last screenshot is kept
there (docs/screenshots/kiosk.png)."""
import os
import shutil
import subprocess
import tempfile
import time

import harness
from harness import (Client, Relay, buffers_from, check, ctl, finish, frames_from, log, sent_to,
                     wait_until)

WIDTH, HEIGHT = 1280, 720


def start_xvfb(tmp):
    """Xvfb on the first free display number (it says which on a pipe); returns (proc, ":N")."""
    read_fd, write_fd = os.pipe()
    proc = subprocess.Popen(["Xvfb", "-displayfd", str(write_fd), "-screen", "0",
                             f"{WIDTH}x{HEIGHT}x24", "-nolisten", "tcp", "-noreset"],
                            pass_fds=(write_fd,), stdout=subprocess.DEVNULL,
                            stderr=open(os.path.join(tmp, "xvfb.log"), "w"))
    os.close(write_fd)
    with os.fdopen(read_fd) as f:
        number = f.readline().strip()
    if not number:
        raise RuntimeError("Xvfb did not start: " + open(os.path.join(tmp, "xvfb.log")).read())
    return proc, ":" + number


def screenshot(display, raw_path, png_path=None):
    """The whole X screen as RGB bytes (and a PNG when PNG_PATH)."""
    args = ["gst-launch-1.0", "-q", "ximagesrc", f"display-name={display}", "use-damage=false",
            "num-buffers=1", "!", "videoconvert", "!", "video/x-raw,format=RGB", "!", "tee",
            "name=t", "t.", "!", "queue", "!", "filesink", f"location={raw_path}"]
    if png_path:
        args += ["t.", "!", "queue", "!", "videoconvert", "!", "pngenc", "!", "filesink",
                 f"location={png_path}"]
    subprocess.run(args, check=True, capture_output=True, timeout=30)
    with open(raw_path, "rb") as f:
        data = f.read()
    stride = (WIDTH * 3 + 3) & ~3
    if len(data) < stride * HEIGHT:
        raise RuntimeError(f"screenshot of {len(data)} bytes")
    return data, stride


def share(shot, test, region=(0, 0, WIDTH, HEIGHT)):
    """The share (0..1) of pixels of REGION (x0, y0, x1, y1) for which TEST(r, g, b) holds,
    sampled every 4 pixels."""
    data, stride = shot
    x0, y0, x1, y1 = region
    hits = total = 0
    for y in range(y0, y1, 4):
        row = y * stride
        for x in range(x0, x1, 4):
            i = row + 3 * x
            total += 1
            if test(data[i], data[i + 1], data[i + 2]):
                hits += 1
    return hits / max(total, 1)


def red(r, g, b):
    return r > 200 and g < 70 and b < 70


def green(r, g, b):
    return g > 200 and r < 70 and b < 70


def blue(r, g, b):
    return b > 200 and r < 70 and g < 70


def yellow(r, g, b):
    return r > 200 and g > 200 and b < 70


def cpu_seconds(pid):
    """User and system CPU seconds of process PID so far."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def kiosk_error(env_display, *extra):
    """Runs a kiosk that must fail before it connects: (exit status, its testimony-client lines
    on stderr). ENV_DISPLAY: $DISPLAY for it, or None for none (and no Wayland either)."""
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    if env_display is not None:
        env["DISPLAY"] = env_display
    p = subprocess.run([harness.CLIENT, "--relay", "https://127.0.0.1:9", "--token", "t",
                        "--test-source", "color=00ff00", "--pipelines", harness.PIPELINES,
                        "--kiosk", *extra], env=env, capture_output=True, text=True, timeout=60)
    return p.returncode, [l for l in p.stderr.splitlines() if l.startswith("testimony-client:")]


def check_errors():
    """A kiosk that cannot show anything says so in one line and exits with the documented
    status (docs/client.md): 2 for --kiosk with --headless, 5 without a screen."""
    rc, lines = kiosk_error(":0", "--headless")
    check(rc == 2 and len(lines) == 1 and "--headless" in lines[0],
          f"--kiosk --headless: exit {rc}, {lines}")
    rc, lines = kiosk_error(None)
    check(rc == 5 and len(lines) == 1 and "no display" in lines[0],
          f"--kiosk without a display: exit {rc}, {lines}")
    rc, lines = kiosk_error(":4095")
    check(rc == 5 and len(lines) == 1 and "cannot open the X display" in lines[0],
          f"--kiosk on an X display that is not there: exit {rc}, {lines}")


def main():
    check_errors()
    tmp = tempfile.mkdtemp(prefix="kiosk-")
    xvfb, display = start_xvfb(tmp)
    os.environ["DISPLAY"] = display
    os.environ["TESTIMONY_AUDIO_SINK"] = "fakesink"  # no sound device here; the picture is tested
    raw = os.path.join(tmp, "screen.rgb")
    png = os.path.join(tmp, "screen.png")
    relay = Relay(hearing_args=("--waiting-room", "off", "--protect", "screen-witness"))
    console = relay.token("judge", "Console")
    status_token = relay.token("clerk", "Status")
    judge = Client(relay, relay.token("judge", "Judge"), "Judge", "ff0000", 440, duration=90)
    defendant = Client(relay, relay.token("defendant", "Defendant"), "Defendant", "0000ff", 520,
                       duration=90)
    interpreter = Client(relay, relay.token("interpreter", "Interpreter"), "Interpreter",
                         "ffff00", 600, duration=90)
    kiosk = Client(relay, relay.token("witness", "Witness"), "Witness", "00ff00", 660,
                   duration=90, headless=False, extra=["--kiosk"])
    clients = [judge, defendant, interpreter, kiosk]
    try:
        check(wait_until(lambda: frames_from(kiosk, "Judge") > 60 and
                         frames_from(kiosk, "Interpreter") > 60 and
                         buffers_from(kiosk, "Defendant") > 100 and
                         frames_from(judge, "Witness") > 60 and
                         frames_from(judge, "Defendant") > 60, timeout=90),
              "the kiosk decodes the judge's picture and the defendant's sound; the judge sees "
              "both")
        shots = []

        def looks_right():
            shot = screenshot(display, raw, png)
            shots.append(shot)
            return (share(shot, red) > 0.35 and share(shot, green) > 0.05 and
                    share(shot, yellow) > 0.05)
        check(wait_until(looks_right, timeout=30, step=1),
              "the kiosk's screen shows the judge's red over a large area, the interpreter's "
              "yellow and its own green self-view")
        shot = shots[-1]
        log(f"screen: red {share(shot, red):.3f}, yellow {share(shot, yellow):.3f}, "
            f"green {share(shot, green):.3f}, blue {share(shot, blue):.5f} of the pixels")
        check(share(shot, red) > 0.35, f"the judge fills over a third of the screen "
                                       f"({share(shot, red):.2f})")
        check(share(shot, red, (0, 0, WIDTH // 2, HEIGHT // 2)) > 0.9,
              "the judge is the large tile on the left")
        right_top, right_bottom = (WIDTH * 2 // 3, 0, WIDTH, HEIGHT * 5 // 12), \
            (WIDTH * 2 // 3, HEIGHT * 5 // 12, WIDTH, HEIGHT * 5 // 6)
        check(share(shot, yellow, right_top) > 0.3 and share(shot, green, right_bottom) > 0.3,
              "on the right the interpreter above, the self-view below")
        check(share(shot, blue) == 0, f"no pixel of the defendant's blue ({share(shot, blue)})")
        check(share(shot, lambda r, g, b: r > 200 and g > 200 and b > 200,
                    (0, HEIGHT * 5 // 6, WIDTH, HEIGHT)) > 0.002,
              "the caption band at the bottom has text")
        status = relay.status(status_token)
        sent = sent_to(status, "Witness", "Defendant", "video")
        check(sent == 0, f"relay counters: no defendant video packets sent to the kiosk ({sent})")
        check(sent_to(status, "Witness", "Defendant", "audio") > 100,
              "relay counters: the defendant's sound reaches the kiosk")
        check(sent_to(status, "Witness", "Judge", "video") > 100,
              "relay counters: the judge's video reaches the kiosk")
        check(frames_from(kiosk, "Defendant") == 0,
              "the kiosk decodes no picture of the defendant")
        band = (0, HEIGHT * 5 // 6, WIDTH, HEIGHT)
        def orange(r, g, b):
            return r > 200 and 130 < g < 200 and b < 120
        before = share(shot, orange, band)
        rc, out, err = ctl(relay, console, "mute", "Witness")
        check(rc == 0, f"ctl mute Witness (exit {rc}) {err}")
        # what the court did is written in orange in the caption band
        check(wait_until(lambda: share(screenshot(display, raw, png), orange, band) >
                         before + 0.002, timeout=20, step=1),
              "the court's mute appears in the kiosk's caption (orange words)")
        muted = share(screenshot(display, raw), orange, band)
        rc, out, err = ctl(relay, console, "video-off", "Witness")
        check(rc == 0, f"ctl video-off Witness (exit {rc}) {err}")
        check(wait_until(lambda: share(screenshot(display, raw), orange, band) > muted + 0.002,
                         timeout=20, step=1),
              f"the court's video-off too: a second orange line (orange {before:.3f} -> "
              f"{muted:.3f} -> {share(screenshot(display, raw), orange, band):.3f} of the band)")
        # Screening off: the defendant's picture is allowed now, but the kiosk does not show it
        # and told the relay so: the relay still sends none of it, while the judge's keeps coming.
        rc, out, err = ctl(relay, console, "protect", "screen-witness", "off")
        check(rc == 0, f"ctl protect screen-witness off (exit {rc}) {err}")
        status = relay.status(status_token)
        judge_before = sent_to(status, "Witness", "Judge", "video")
        sound_before = sent_to(status, "Witness", "Defendant", "audio")
        check(wait_until(lambda: sent_to(relay.status(status_token), "Witness", "Judge", "video")
                         > judge_before + 150, timeout=30),
              "unscreened, the judge's picture keeps reaching the kiosk")
        status = relay.status(status_token)
        ids = {p["name"]: p["id"] for p in status["participants"]}
        witness_row = [p for p in status["participants"] if p["name"] == "Witness"][0]
        shown = witness_row["received"][ids["Defendant"]]["shown"]
        sent = sent_to(status, "Witness", "Defendant", "video")
        check(sent == 0 and not shown,
              f"but the kiosk said it does not show the defendant: no video packet sent ({sent}), "
              f"shown {shown}")
        check(sent_to(status, "Witness", "Defendant", "audio") > sound_before + 100,
              "and the defendant's sound still reaches it")
        check(frames_from(kiosk, "Defendant") == 0, "the kiosk decodes no picture of the defendant")
        shot = screenshot(display, raw, png)
        check(share(shot, blue) == 0 and share(shot, red) > 0.35 and share(shot, yellow) > 0.05,
              f"but does not show it: no blue pixel ({share(shot, blue)}), the judge and the "
              "interpreter as before")
        keep = os.environ.get("TESTIMONY_KIOSK_SCREENSHOT")
        if keep:
            shutil.copyfile(png, keep)
            log(f"screenshot kept as {keep}")
        check(kiosk.proc.poll() is None, "the kiosk is still running")
        c0, t0 = cpu_seconds(kiosk.proc.pid), time.monotonic()
        wait_until(harness.reports_advanced([kiosk], 5), timeout=30)
        log(f"figures: the kiosk ({WIDTH}x{HEIGHT} screen; judge, interpreter and self-view shown, "
            "the defendant heard) used "
            f"{(cpu_seconds(kiosk.proc.pid) - c0) / (time.monotonic() - t0) * 100:.0f} % of one "
            "core over 5 s of reports")
    finally:
        harness.shutdown(relay, clients, client_logs=True)
        xvfb.terminate()
        xvfb.wait(timeout=10)
        shutil.rmtree(tmp, ignore_errors=True)
    finish()


if __name__ == "__main__":
    main()
