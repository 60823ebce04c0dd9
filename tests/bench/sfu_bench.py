#!/usr/bin/env python3
"""Benchmark: the relay against the Janus WebRTC Server (Debian's `janus`, videoroom plugin) on
the same load, in one interleaved run. Not a test: it prints figures for docs/performance.md.

    python3 tests/bench/sfu_bench.py [--build build] [--rounds 3] [--duration 20] [--json FILE]

Needs root for a private network namespace (it re-runs itself inside one when the machine has
any interface but lo) and `apt-get install --no-install-recommends janus` (a benchmark-only
dependency). For every point (1 hearing with N = 1, 4, 8, 15 receivers; 8 hearings of 1 + 3) and
every round it starts a fresh SFU — the relay, then Janus, or the other way round on alternate
rounds — drives it with testimony-loadgen (tests/bench/loadgen.c: one publisher per hearing
sending VP8 at about 1 Mbit/s and Opus, N receivers doing ICE, DTLS and SRTP without decoding)
and reads the SFU's CPU time (each thread's, from /proc/PID/task/*/schedstat in nanoseconds;
printed busiest first) at the start and end of the measurement window and its memory (VmRSS,
VmHWM) at the end. Figures: CPU per forwarded packet
(per point, and the slope of a least-squares line of CPU per second against packets forwarded per
second over the single-hearing points), added latency p50/p99 (publisher's send to receiver's
arrival, both on this machine's monotonic clock), loss, join-to-first-frame (request for the feed
to the first packet of a key frame), memory. A run in which the load generator fell behind its
schedule (the machine stalled it) or a receiver failed is run again, at most twice, and left out
of the figures.
"""
import argparse
import json
import os
import select
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(HERE, "..", "e2e"))
from harness import Relay, free_port, thread_usage  # noqa: E402
POINTS = [(1, 1), (1, 4), (1, 8), (1, 15), (8, 3)]  # (hearings, receivers per hearing)
JANUS = os.environ.get("JANUS", "janus")
JANUS_LIBS = "/usr/lib/x86_64-linux-gnu/janus"
MEDIA_ADDRESS = "127.0.0.2"  # media of both SFUs and of the load generator (janus_interface())
RETRIES = 2  # a run where the load generator fell behind (a stalled machine) is run again


def only_loopback():
    with open("/proc/net/dev") as f:
        names = [line.split(":")[0].strip() for line in f.readlines()[2:]]
    return names == ["lo"]


def janus_interface():
    """Janus gathers no candidates on loopback interfaces, and libnice pairs no candidate on
    lo with one elsewhere: 127.0.0.2 on a veth pair inside this namespace serves the media of
    both SFUs and of the load generator alike (traffic to a local address never leaves the
    machine)."""
    if not os.environ.get("SFU_BENCH_NETNS"):
        sys.exit("janus_interface: only inside the benchmark's own network namespace")
    # /sys/class/net shows the namespace sysfs was mounted in, not necessarily this one: ask ip
    if subprocess.run(["ip", "link", "show", "bench0"], stdout=subprocess.DEVNULL,
                      stderr=subprocess.DEVNULL, timeout=10).returncode == 0:
        return
    for cmd in (["ip", "link", "add", "bench0", "type", "veth", "peer", "name", "bench1"],
                ["ip", "addr", "add", "127.0.0.2/32", "dev", "bench0"],
                ["ip", "link", "set", "bench1", "up"], ["ip", "link", "set", "bench0", "up"]):
        subprocess.run(cmd, check=True, timeout=10)


def wait_for_port(port, proc, seconds=15):
    deadline = time.time() + seconds
    while time.time() < deadline and proc.poll() is None:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return True
        except OSError:
            time.sleep(0.05)
    return False


def memory(pid):
    """VmRSS and VmHWM (KiB) of PID."""
    mem = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(("VmRSS:", "VmHWM:")):
                mem[line.split(":")[0]] = int(line.split()[1])
    return mem.get("VmRSS", 0), mem.get("VmHWM", 0)


def window_cpu(start, end):
    """CPU seconds all threads used between two thread_usage readings (a thread that started
    inside the window counts from nothing; one that ended inside it is missed: the servers'
    threads here live as long as their sessions)."""
    return sum(cpu - start.get(tid, (name, 0.0))[1] for tid, (name, cpu) in end.items())


def thread_shares(start, end, window_s):
    """The threads that used CPU in the window, busiest first: [(name, % of one core)]."""
    shares = []
    for tid, (name, cpu) in end.items():
        used = cpu - start.get(tid, (name, 0.0))[1]
        if used > 0:
            shares.append((name, round(100 * used / window_s, 1)))
    return sorted(shares, key=lambda s: -s[1])


class Sfu(Relay):
    """A server under test in its own temporary directory. Only the way it starts differs from
    the end-to-end tests' relay: stopping (SIGTERM, then SIGKILL after 10 s; only the process
    it started) and cleaning up are the harness's."""

    def __init__(self, name):  # pylint: disable=super-init-not-called
        self.name = name
        self.dir = tempfile.mkdtemp(prefix=f"sfu-bench-{name}-")
        self.proc = None
        self.log_file = open(os.path.join(self.dir, f"{name}.log"), "w")

    def stop(self):
        if self.proc is not None:
            super().stop()
        self.log_file.close()
        self.cleanup()


class Testimony(Sfu):
    def __init__(self, relay, hearings, receivers, relay_args=()):
        super().__init__("testimony")
        state = os.path.join(self.dir, "state")
        lines = []
        for h in range(hearings):
            subprocess.run([relay, "hearing", "create", "--state-dir", state, "--id", f"h{h}",
                            "--case", f"BENCH-{h}", "--waiting-room", "off"], check=True,
                           stdout=subprocess.DEVNULL, timeout=30)
            names = [("judge", "Publisher")] + [("observer", f"Receiver {r}")
                                                 for r in range(1, receivers + 1)]
            lines.append(" ".join(
                subprocess.run([relay, "token", "--state-dir", state, "--hearing", f"h{h}",
                                "--role", role, "--name", name], check=True, timeout=30,
                               capture_output=True, text=True).stdout.strip()
                for role, name in names))
        tokens = os.path.join(self.dir, "tokens")
        with open(tokens, "w") as f:
            f.write("\n".join(lines) + "\n")
        port = free_port()
        self.metrics_port = free_port()
        self.proc = subprocess.Popen(
            [relay, "--state-dir", state, "--listen", f"127.0.0.1:{port}",
             "--media-address", MEDIA_ADDRESS, "--ports", "30000-30999",
             "--metrics-listen", f"127.0.0.1:{self.metrics_port}", *relay_args],
            stdout=self.log_file, stderr=subprocess.STDOUT)
        if not wait_for_port(port, self.proc):
            raise RuntimeError("the relay did not start; see its log")
        self.loadgen_args = ["--sfu", "testimony", "--url", f"wss://127.0.0.1:{port}/ws",
                             "--ca", os.path.join(state, "tls", "cert.pem"), "--tokens", tokens]


JANUS_CONFIG = """general: {{
  configs_folder = "{dir}"
  plugins_folder = "{dir}/plugins"
  transports_folder = "{dir}/transports"
  events_folder = "{dir}/none"
  loggers_folder = "{dir}/none"
  debug_level = 3
  session_timeout = 60
}}
certificates: {{
}}
media: {{
  ipv6 = false
  rtp_port_range = "40000-40999"
}}
nat: {{
  nice_debug = false
  ice_enforce_list = "bench0"
  ignore_mdns = true
}}
plugins: {{
}}
transports: {{
}}
events: {{
  broadcast = false
}}
loggers: {{
}}
"""

JANUS_WEBSOCKETS = """general: {{
  json = "compact"
  ws = true
  ws_port = {port}
  ws_ip = "127.0.0.1"
  wss = false
}}
admin: {{
  admin_ws = false
  admin_wss = false
}}
"""

JANUS_ROOM = """room-{room}: {{
  description = "Hearing {room}"
  publishers = 1
  bitrate = 0
  fir_freq = 0
  audiocodec = "opus"
  videocodec = "vp8"
  record = false
}}
"""


class Janus(Sfu):
    """Janus with only the videoroom plugin and the WebSocket transport, on 127.0.0.1, without
    STUN, TURN, UPnP or NAT mappings; one room per hearing (room 1000 + hearing)."""

    def __init__(self, hearings, receivers):
        super().__init__("janus")
        d = self.dir
        for sub, lib in (("plugins", "plugins/libjanus_videoroom.so"),
                         ("transports", "transports/libjanus_websockets.so"), ("none", None)):
            os.makedirs(os.path.join(d, sub))
            if lib is not None:
                os.symlink(os.path.join(JANUS_LIBS, lib),
                           os.path.join(d, sub, os.path.basename(lib)))
        port = free_port()
        with open(os.path.join(d, "janus.jcfg"), "w") as f:
            f.write(JANUS_CONFIG.format(dir=d))
        with open(os.path.join(d, "janus.transport.websockets.jcfg"), "w") as f:
            f.write(JANUS_WEBSOCKETS.format(port=port))
        with open(os.path.join(d, "janus.plugin.videoroom.jcfg"), "w") as f:
            f.write("general: {\n}\n" + "".join(JANUS_ROOM.format(room=1000 + h)
                                                for h in range(hearings)))
        self.proc = subprocess.Popen([JANUS, "-C", os.path.join(d, "janus.jcfg"), "-F", d],
                                     stdout=self.log_file, stderr=subprocess.STDOUT)
        if not wait_for_port(port, self.proc):
            raise RuntimeError("janus did not start; see its log")
        self.loadgen_args = ["--sfu", "janus", "--url", f"ws://127.0.0.1:{port}"]


def send_counts(sfu):
    """The relay's datagrams sent, the calls that sent them and those dropped (its /metrics);
    None for Janus."""
    if not hasattr(sfu, "metrics_port"):
        return None
    names = ("media_datagrams_sent_total", "media_send_calls_total", "media_send_dropped_total")
    with urllib.request.urlopen(f"http://127.0.0.1:{sfu.metrics_port}/metrics", timeout=10) as r:
        values = dict(line.rsplit(" ", 1) for line in r.read().decode().splitlines()
                      if line and not line.startswith("#"))
    return [int(values.get(f"testimony_{n}", 0)) for n in names]


def run_point(args, kind, hearings, receivers, relay_args=(), on_start=None):
    """One SFU, one load: the loadgen's result plus the SFU's CPU and memory in the window.
    RELAY_ARGS are added to the relay's command line; ON_START(pid) runs once the SFU listens."""
    sfu = (Testimony(args.relay, hearings, receivers, relay_args) if kind == "testimony"
           else Janus(hearings, receivers))
    try:
        time.sleep(0.5)  # let the server settle after its start
        if on_start is not None:
            on_start(sfu.proc.pid)
        cmd = [args.loadgen, *sfu.loadgen_args, "--address", MEDIA_ADDRESS,
               "--hearings", str(hearings),
               "--receivers", str(receivers), "--duration", str(args.duration)]
        gen = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.time() + 2 * 20 + 2 + args.duration + 30
        end = result = None
        threads_start = threads_end = None
        sends_start = sends_end = None
        while result is None and time.time() < deadline:
            ready, _, _ = select.select([gen.stdout], [], [], 1.0)
            if not ready:
                if gen.poll() is not None:
                    break
                continue
            line = gen.stdout.readline()
            if not line:
                break
            if line.startswith("window-start"):
                threads_start = thread_usage(sfu.proc.pid)
                sends_start = send_counts(sfu)
            elif line.startswith("window-end"):
                end = memory(sfu.proc.pid)
                threads_end = thread_usage(sfu.proc.pid)
                sends_end = send_counts(sfu)
            elif line.startswith("result "):
                result = json.loads(line[len("result "):])
        if gen.poll() is None:
            gen.kill()
        err = gen.communicate(timeout=10)[1]
        if result is None or threads_start is None or end is None:
            raise RuntimeError(f"{kind} {hearings}x{receivers}: no result\n{err[-2000:]}")
        if sfu.proc.poll() is not None:
            raise RuntimeError(f"{kind} exited during the run")
        result["sfu_cpu_s"] = window_cpu(threads_start, threads_end)
        result["sfu_rss_kib"] = end[0]
        result["sfu_hwm_kib"] = end[1]
        result["sfu_threads"] = thread_shares(threads_start, threads_end, result["window_s"])
        if sends_start is not None and sends_end is not None:
            result["sfu_sends"] = [b - a for a, b in zip(sends_start, sends_end)]
        result["loadgen_errors"] = err.strip().splitlines()[-5:]
        return result
    finally:
        sfu.stop()


def fit(xs, ys):
    """Least-squares line y = a + b x: (a, b)."""
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    sxx = sum((x - mx) ** 2 for x in xs)
    b = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sxx if sxx else 0.0
    return my - b * mx, b


def summarize(runs):
    """Per SFU and point: medians over the rounds (join times pooled)."""
    out = {}
    for r in runs:
        out.setdefault((r["sfu"], r["hearings"], r["receivers"]), []).append(r)
    table = {}
    for key, rs in out.items():
        joins = sorted(j for r in rs for j in r["join_ms"])
        table[key] = {
            "rounds": len(rs),
            "pps": statistics.median(r["received"] / r["window_s"] for r in rs),
            "cpu_pct": statistics.median(100 * r["sfu_cpu_s"] / r["window_s"] for r in rs),
            "us_per_pkt": statistics.median(1e6 * r["sfu_cpu_s"] / max(r["received"], 1)
                                            for r in rs),
            "p50_ms": statistics.median(r["latency_us"]["p50"] for r in rs) / 1000,
            "p99_ms": statistics.median(r["latency_us"]["p99"] for r in rs) / 1000,
            "loss_pct": 100 * sum(r["lost"] for r in rs) / max(sum(r["expected"] for r in rs), 1),
            "join_ms_median": statistics.median(joins) if joins else None,
            "join_ms_max": max(joins) if joins else None,
            "rss_mib": statistics.median(r["sfu_rss_kib"] for r in rs) / 1024,
            "hwm_mib": statistics.median(r["sfu_hwm_kib"] for r in rs) / 1024,
            "loadgen_pct": max(100 * r["loadgen_cpu_s"] / r["window_s"] for r in rs),
            "failed": sum(r["receivers_failed"] for r in rs),
            "forced_keys": statistics.median(r["forced_key_frames"] for r in rs),
            "srtp": sorted({r["srtp_profile"] for r in rs}),
        }
    fits = {}
    for sfu in ("testimony", "janus"):
        pts = [(r["received"] / r["window_s"], 1e6 * r["sfu_cpu_s"] / r["window_s"])
               for r in runs if r["sfu"] == sfu and r["hearings"] == 1]
        if len(pts) >= 2:
            a, b = fit([p[0] for p in pts], [p[1] for p in pts])
            fits[sfu] = {"fixed_us_per_s": a, "us_per_pkt": b, "runs": len(pts)}
    return table, fits


def print_table(points, table, fits):
    cols = ("point", "SFU", "pkt/s", "CPU %", "µs/pkt", "p50 ms", "p99 ms", "loss %",
            "join med/max ms", "RSS/HWM MiB", "loadgen %")
    print(" | ".join(cols))
    for (h, n) in points:
        point = f"{n} rx" if h == 1 else f"{h}x(1+{n})"
        for sfu in ("testimony", "janus"):
            t = table.get((sfu, h, n))
            if t is None:
                continue
            join = (f"{t['join_ms_median']:.0f}/{t['join_ms_max']:.0f}"
                    if t["join_ms_median"] is not None else "-")
            print(f"{point} | {sfu} | {t['pps']:.0f} | {t['cpu_pct']:.1f} | "
                  f"{t['us_per_pkt']:.1f} | {t['p50_ms']:.2f} | {t['p99_ms']:.2f} | "
                  f"{t['loss_pct']:.3f} | {join} | {t['rss_mib']:.1f}/{t['hwm_mib']:.1f} | "
                  f"{t['loadgen_pct']:.1f}" + (f" | {t['failed']} receivers failed"
                                               if t["failed"] else ""))
        a, b = table.get(("testimony", h, n)), table.get(("janus", h, n))
        if a and b:
            print(f"{point} | testimony/janus | | | {a['us_per_pkt'] / b['us_per_pkt']:.2f} | "
                  f"{a['p50_ms'] / b['p50_ms']:.2f} | {a['p99_ms'] / b['p99_ms']:.2f} | | | "
                  f"{a['hwm_mib'] / b['hwm_mib']:.2f} |")
    for sfu, f in fits.items():
        print(f"linear fit, {sfu}: CPU µs per second = {f['fixed_us_per_s']:.0f} + "
              f"{f['us_per_pkt']:.2f} × packets forwarded per second ({f['runs']} runs)")
    if len(fits) == 2:
        print(f"marginal CPU per forwarded packet, testimony/janus: "
              f"{fits['testimony']['us_per_pkt'] / fits['janus']['us_per_pkt']:.2f}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default=os.path.join(ROOT, "build"),
                    help="build directory (default: build)")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--duration", type=float, default=20.0, help="window per point, seconds")
    ap.add_argument("--points", default="", help="e.g. 1x1,1x15,8x3 (default: all)")
    ap.add_argument("--json", default="", help="write every run and the summary here")
    args = ap.parse_args()
    if not 1 <= args.rounds <= 20 or not 1 <= args.duration <= 120:
        sys.exit("--rounds 1-20, --duration 1-120")
    if not only_loopback():
        if os.environ.get("SFU_BENCH_NETNS"):
            sys.exit("still not in a private network namespace")
        env = dict(os.environ, SFU_BENCH_NETNS="1")
        os.execvpe("unshare", ["unshare", "--net", "--", "sh", "-c",
                               'ip link set lo up && exec "$@"', "sfu-bench", sys.executable,
                               *sys.argv], env)
    janus_interface()
    build = os.path.abspath(args.build)
    args.relay = os.environ.get("TESTIMONY_RELAY",
                                os.path.join(build, "relay", "shell", "testimony-relay"))
    args.loadgen = os.environ.get("TESTIMONY_LOADGEN",
                                  os.path.join(build, "tests", "bench", "testimony-loadgen"))
    if shutil.which(JANUS) is None:
        sys.exit("janus is not installed: apt-get install -y --no-install-recommends janus")
    points = POINTS
    if args.points:
        points = [tuple(int(x) for x in p.split("x")) for p in args.points.split(",")]
    runs = []
    for rnd in range(args.rounds):
        for h, n in points:
            order = ("testimony", "janus") if rnd % 2 == 0 else ("janus", "testimony")
            for kind in order:
                for attempt in range(1 + RETRIES):
                    r = run_point(args, kind, h, n)
                    r["round"] = rnd + 1
                    r["valid"] = r["late_sends"] == 0 and r["receivers_failed"] == 0
                    runs.append(r)
                    if r["valid"]:
                        break
                    print(f"round {rnd + 1} {kind} {h}x{n}: not counted (the load generator "
                          f"fell behind {r['late_sends']} times, {r['receivers_failed']} "
                          "receivers failed): the machine stalled; running it again", flush=True)
                print(f"round {rnd + 1} {kind:9} {h}x{n}: {r['received']} packets, "
                      f"SFU CPU {r['sfu_cpu_s']:.2f} s, "
                      f"{1e6 * r['sfu_cpu_s'] / max(r['received'], 1):.1f} µs/packet, "
                      f"p50 {r['latency_us']['p50'] / 1000:.2f} ms, "
                      f"p99 {r['latency_us']['p99'] / 1000:.2f} ms, lost {r['lost']}, "
                      f"HWM {r['sfu_hwm_kib'] / 1024:.1f} MiB, "
                      f"loadgen {100 * r['loadgen_cpu_s'] / r['window_s']:.1f} %; threads "
                      + ", ".join(f"{n} {p:.1f} %" for n, p in r["sfu_threads"][:6])
                      + (f"; {r['sfu_sends'][0] / max(r['sfu_sends'][1], 1):.2f} datagrams a "
                         f"send call, {r['sfu_sends'][2]} dropped" if "sfu_sends" in r else ""),
                      flush=True)
    table, fits = summarize([r for r in runs if r["valid"]])
    dropped = sum(not r["valid"] for r in runs)
    if dropped:
        print(f"{dropped} run(s) not counted: the load generator could not keep its schedule")
    print_table(points, table, fits)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"runs": runs, "fits": fits,
                       "summary": [dict(sfu=k[0], hearings=k[1], receivers=k[2], **v)
                                   for k, v in table.items()]}, f, indent=1)
        print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
