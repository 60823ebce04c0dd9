"""Two network namespaces joined by an impaired link (testimony-impair), for tests and by hand.

    from netns_link import ImpairedLink
    with ImpairedLink(a2b="loss=5 delay=40", b2a="delay=40", seed=3) as link:
        server = link.popen("b", ["my-server", "--listen", f"{link.B_ADDR}:4433"])
        link.run("a", ["my-client", f"https://{link.B_ADDR}:4433"], check=True)
        link.set("both", "loss=20")          # settings change at once
        link.outage(True)                     # drop everything both ways ...
        link.outage(False)                    # ... until switched off
        print(link.counters()["a2b"]["drop_loss"])

Side A is 10.77.0.1/24 on TUN imp-a, side B 10.77.1.1/24 on TUN imp-b; each side routes the
other's /24 through its TUN, and testimony-impair forwards between the two. The namespaces have no
names: each is held by a small process of ours (`unshare --net … cat`), reached through
/proc/PID/ns/net, and goes away when that process and everything started in it end. So runs never
collide, nothing is left behind even when the test is killed (the holder's stdin closes), and
only processes this object started are ever signalled.

Needs root. Run the test itself inside tests/e2e/netns-run.sh (or `unshare --net`), so that the
forwarder too lives in a namespace with only loopback.

As a command (see docs/testing.md, "Impaired links"):
    netns_link.py [--a2b S] [--b2a S] [--seed N] [--outage AT:DUR] [--b 'CMD'] -- CMD_IN_A…
"""
import argparse
import os
import queue
import signal
import subprocess
import sys
import threading
import time

IMPAIR = os.environ.get("TESTIMONY_IMPAIR", "testimony-impair")


def _stop(proc, timeout=5, group=False):
    """Ends one process we started (with GROUP, the process group it leads): SIGTERM, then
    SIGKILL after TIMEOUT seconds."""
    def send(sig):
        try:
            if group:
                os.killpg(proc.pid, sig)
            else:
                proc.send_signal(sig)
        except ProcessLookupError:
            pass
    if proc.poll() is None:
        send(signal.SIGTERM)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            send(signal.SIGKILL)
            proc.wait()


class ImpairedLink:
    A_ADDR = "10.77.0.1"
    B_ADDR = "10.77.1.1"
    SIDES = {"a": ("imp-a", "10.77.0.1/24", "10.77.1.0/24"),
             "b": ("imp-b", "10.77.1.1/24", "10.77.0.0/24")}

    def __init__(self, a2b="", b2a="", seed=1, outages=(), impair=None, extra_args=()):
        self.impair = impair or IMPAIR
        self.args = ["--seed", str(seed), "--exit-on-eof", *extra_args]
        if a2b:
            self.args += ["--a2b", a2b]
        if b2a:
            self.args += ["--b2a", b2a]
        for o in outages:
            self.args += ["--outage", o]
        self.holders = {}
        self.children = []
        self.forwarder = None
        self.lines = queue.Queue()
        self.output = []  # every line the forwarder printed, for diagnosis

    # ---- setting up and tearing down ----

    def __enter__(self):
        try:
            self.start()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc):
        self.close()

    def _hold_namespace(self):
        holder = subprocess.Popen(
            ["unshare", "--net", "--", "sh", "-c", "ip link set lo up && echo up && exec cat"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        if holder.stdout.readline().strip() != "up":
            _stop(holder)
            raise RuntimeError("could not create a network namespace (root needed)")
        return holder

    def netns(self, side):
        return f"/proc/{self.holders[side].pid}/ns/net"

    def start(self):
        for side in "ab":
            self.holders[side] = self._hold_namespace()
        self.forwarder = subprocess.Popen(
            [self.impair, "--tun-a", self.SIDES["a"][0], "--netns-a", self.netns("a"),
             "--tun-b", self.SIDES["b"][0], "--netns-b", self.netns("b"), *self.args],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1)
        threading.Thread(target=self._read_forwarder, daemon=True).start()
        self._expect(lambda line: line == "ready", 10, "testimony-impair did not start")
        for side, (dev, addr, other) in self.SIDES.items():
            script = (f"p=/proc/sys/net/ipv6/conf/{dev}/disable_ipv6; "
                      f"if [ -e $p ]; then echo 1 > $p; fi; "
                      f"ip addr add {addr} dev {dev} && ip link set {dev} up && "
                      f"ip route add {other} dev {dev}")
            self.run(side, ["sh", "-c", script], check=True, timeout=10)

    def close(self):
        """Stops what this link started, in reverse order: commands, forwarder, namespaces."""
        for proc in reversed(self.children):
            _stop(proc, group=True)
        if self.forwarder:
            if self.forwarder.poll() is None:
                try:
                    self.forwarder.stdin.close()  # --exit-on-eof: it prints counters and exits
                    self.forwarder.wait(timeout=5)
                except (OSError, subprocess.TimeoutExpired):
                    _stop(self.forwarder)
            self.forwarder = None
        for holder in self.holders.values():
            try:
                holder.stdin.close()
            except OSError:
                pass
            _stop(holder)
        self.holders = {}

    # ---- processes in the namespaces ----

    def command(self, side, argv):
        return ["nsenter", f"--net={self.netns(side)}", "--", *argv]

    def popen(self, side, argv, **kwargs):
        """Starts ARGV in side 'a' or 'b' in a process group of its own; the group is stopped
        (SIGTERM) when the link closes."""
        proc = subprocess.Popen(self.command(side, argv), start_new_session=True, **kwargs)
        self.children.append(proc)
        return proc

    def run(self, side, argv, **kwargs):
        return subprocess.run(self.command(side, argv), **kwargs)

    # ---- the forwarder ----

    @property
    def pid(self):
        return self.forwarder.pid

    def _read_forwarder(self):
        for line in self.forwarder.stdout:
            line = line.rstrip("\n")
            self.output.append(line)
            self.lines.put(line)
        self.lines.put(None)

    def _expect(self, want, timeout, what):
        """Lines from the forwarder until WANT(line) is true; fails after TIMEOUT seconds."""
        got = []
        deadline = time.monotonic() + timeout
        while True:
            try:
                line = self.lines.get(timeout=max(0.01, deadline - time.monotonic()))
            except queue.Empty:
                line = None
            if line is None:
                raise RuntimeError(f"{what}; it printed: {self.output[-10:]}")
            if want(line):
                return got, line
            got.append(line)

    def control(self, line, timeout=5):
        """Sends one control line; returns the lines printed before 'ok'. Raises on 'error: …'."""
        while not self.lines.empty():
            self.lines.get_nowait()
        self.forwarder.stdin.write(line + "\n")
        self.forwarder.stdin.flush()
        got, last = self._expect(lambda l: l == "ok" or l.startswith("error"), timeout,
                                 f"no answer to '{line}'")
        if last != "ok":
            raise ValueError(f"testimony-impair refused '{line}': {last}")
        return got

    def set(self, direction, settings):
        """direction: 'a2b', 'b2a' or 'both'; settings as on the command line."""
        self.control(f"{direction} {settings}")

    def outage(self, on):
        self.control("outage on" if on else "outage off")

    def counters(self):
        """{'a2b': {'in': …, 'out': …, 'drop_loss': …, …}, 'b2a': {…}}"""
        result = {}
        for line in self.control("stats"):
            words = line.split()
            if len(words) > 2 and words[0] == "counters":
                result[words[1]] = {k: int(v) for k, v in (w.split("=") for w in words[2:])}
        return result


def main(argv=None):
    p = argparse.ArgumentParser(
        description="Runs a command in namespace A, and optionally one in B, joined by an "
                    "impaired link (A is %s, B is %s)." % (ImpairedLink.A_ADDR,
                                                           ImpairedLink.B_ADDR))
    p.add_argument("--a2b", default="", help="settings A→B, e.g. 'loss=5 delay=50'")
    p.add_argument("--b2a", default="", help="settings B→A")
    p.add_argument("--both", default="", help="settings of both directions")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--outage", action="append", default=[], metavar="AT:DURATION")
    p.add_argument("--impair", help="path of testimony-impair (default $TESTIMONY_IMPAIR)")
    p.add_argument("--b", metavar="CMD", help="shell command started first in B, stopped at end")
    p.add_argument("command", nargs="+", help="command run in A")
    args = p.parse_args(argv)
    if os.environ.get("NETNS_LINK_OUTER") != "1":
        # Everything, forwarder included, inside a namespace of its own with only loopback.
        os.environ["NETNS_LINK_OUTER"] = "1"
        os.execvp("unshare", ["unshare", "--net", "--", sys.executable,
                              os.path.abspath(__file__), *(argv or sys.argv[1:])])
    extra = ["--both", args.both] if args.both else []
    with ImpairedLink(args.a2b, args.b2a, args.seed, args.outage, args.impair, extra) as link:
        if args.b:
            link.popen("b", ["sh", "-c", args.b])
            time.sleep(0.2)
        status = link.run("a", args.command).returncode
        print("\n".join(link.control("stats")), file=sys.stderr)
    return status


if __name__ == "__main__":
    sys.exit(main())
