#!/usr/bin/env python3
"""Benchmark: how much the relay forwards before it loses packets, with one media worker and with
two, each worker given the same slice of a core. Not a test: it prints figures for
docs/performance.md.

    python3 tests/bench/workers_bench.py [--build build] [--share 10] [--duration 15] [--workers 1,2]
                                         [--receivers 3,6,9,12,15]

On a two-core machine the load generator needs a core of its own before the relay needs two, so
"both cores carry the load and the throughput doubles" cannot be seen by loading the relay until
the machine runs out. Instead each media worker thread is put in a CPU cgroup of its own (cgroup
v1 `cpu`, `cpu.cfs_quota_us`) limited to SHARE % of a core: a worker stands for a small core.
For media-workers 1 and then 2, eight hearings (one publisher, VP8 about 1 Mbit/s and Opus, N
receivers each; tests/bench/loadgen.c) run for DURATION s per N, and the script prints packets
forwarded a second, the loss and the latency. The throughput before loss is the most a
configuration forwarded with under 0.1 % lost. Eight hearings are four per worker with two
workers (the relay places a hearing on the worker with the fewest).

Needs root (a private network namespace; the cgroups under /sys/fs/cgroup/cpu, removed after).
"""
import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sfu_bench  # noqa: E402

CGROUP_CPU = "/sys/fs/cgroup/cpu"
PERIOD_US = 10000  # a short period: a throttled worker waits at most this long


class Slices:
    """One CPU cgroup per media worker thread, each limited to SHARE % of a core."""

    def __init__(self, share):
        self.share = share
        self.groups = []

    def place(self, pid):
        deadline = time.time() + 10
        workers = []
        while time.time() < deadline:
            workers = sorted(
                (name, tid) for tid, (name, _) in sfu_bench.thread_usage(pid).items()
                if name.startswith("media-"))
            if workers:
                break
            time.sleep(0.1)
        if not workers:
            raise RuntimeError("the relay has no media worker threads")
        for name, tid in workers:
            group = os.path.join(CGROUP_CPU, f"testimony-bench-{os.getpid()}-{name}")
            os.makedirs(group, exist_ok=True)
            with open(os.path.join(group, "cpu.cfs_period_us"), "w") as f:
                f.write(str(PERIOD_US))
            with open(os.path.join(group, "cpu.cfs_quota_us"), "w") as f:
                f.write(str(PERIOD_US * self.share // 100))
            with open(os.path.join(group, "tasks"), "w") as f:
                f.write(str(tid))
            self.groups.append(group)
        return [name for name, _ in workers]

    def remove(self):
        for group in self.groups:
            try:
                os.rmdir(group)  # its thread has exited with the relay
            except OSError as e:
                print(f"could not remove {group}: {e}", file=sys.stderr)
        self.groups = []


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default=os.path.join(sfu_bench.ROOT, "build"))
    ap.add_argument("--share", type=int, default=10, help="percent of a core per worker (1-100)")
    ap.add_argument("--duration", type=float, default=15.0, help="window per point, seconds")
    ap.add_argument("--receivers", default="3,6,9,12,15", help="receivers per hearing")
    ap.add_argument("--hearings", type=int, default=8)
    ap.add_argument("--workers", default="1,2", help="media-workers values to run")
    args = ap.parse_args()
    if not 1 <= args.share <= 100 or not 1 <= args.duration <= 120:
        sys.exit("--share 1-100, --duration 1-120")
    if not os.path.exists(os.path.join(CGROUP_CPU, "cpu.cfs_quota_us")):
        sys.exit(f"no cgroup v1 cpu controller at {CGROUP_CPU}")
    if not sfu_bench.only_loopback():
        if os.environ.get("SFU_BENCH_NETNS"):
            sys.exit("still not in a private network namespace")
        env = dict(os.environ, SFU_BENCH_NETNS="1")
        os.execvpe("unshare", ["unshare", "--net", "--", "sh", "-c",
                               'ip link set lo up && exec "$@"', "workers-bench", sys.executable,
                               *sys.argv], env)
    sfu_bench.janus_interface()  # the media address both benchmarks use
    build = os.path.abspath(args.build)
    args.relay = os.environ.get("TESTIMONY_RELAY",
                                os.path.join(build, "relay", "shell", "testimony-relay"))
    args.loadgen = os.environ.get("TESTIMONY_LOADGEN",
                                  os.path.join(build, "tests", "bench", "testimony-loadgen"))
    receivers = [int(n) for n in args.receivers.split(",")]
    configs = [int(w) for w in args.workers.split(",")]
    best = {}
    rows = []
    for n in receivers:
        for workers in configs:
            slices = Slices(args.share)
            names = []
            try:
                r = sfu_bench.run_point(args, "testimony", args.hearings, n,
                                        relay_args=("--media-workers", str(workers)),
                                        on_start=lambda pid: names.extend(slices.place(pid)))
            finally:
                slices.remove()
            pps = r["received"] / r["window_s"]
            loss = r["lost"] / max(r["expected"], 1)
            shares = ", ".join(f"{name} {p:.1f} %" for name, p in r["sfu_threads"][:3])
            valid = r["late_sends"] == 0 and r["receivers_failed"] == 0
            print(f"{workers} worker(s) at {args.share} % each, {args.hearings}x{n}: "
                  f"{pps:.0f} pkt/s forwarded, lost {100 * loss:.2f} %, "
                  f"p50 {r['latency_us']['p50'] / 1000:.2f} ms, "
                  f"p99 {r['latency_us']['p99'] / 1000:.2f} ms; threads {shares}; "
                  f"loadgen {100 * r['loadgen_cpu_s'] / r['window_s']:.1f} %"
                  + ("" if valid else " (load generator fell behind or a receiver failed)"),
                  flush=True)
            rows.append((workers, n, pps, loss, r, valid))
            if valid and loss < 0.001:
                best[workers] = max(best.get(workers, 0), pps)
    print()
    print("| workers | receivers per hearing | pkt/s forwarded | lost | latency p50 / p99, ms |")
    print("| --- | --- | --- | --- | --- |")
    for workers, n, pps, loss, r, valid in rows:
        print(f"| {workers} | {n} | {pps:.0f} | {100 * loss:.2f} %{'' if valid else ' *'} | "
              f"{r['latency_us']['p50'] / 1000:.2f} / {r['latency_us']['p99'] / 1000:.2f} |")
    for workers in configs:
        print(f"throughput before loss (< 0.1 %), {workers} worker(s): "
              f"{best.get(workers, 0):.0f} pkt/s")
    if best.get(1) and 2 in configs:
        print(f"ratio two workers / one: {best.get(2, 0) / best[1]:.2f}")


if __name__ == "__main__":
    main()
