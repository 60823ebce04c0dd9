#!/usr/bin/env python3
"""What `meson install` puts on a court's server, run from where it was installed.

    install.py BUILD_DIR PREFIX BINDIR DATADIR SYSCONFDIR UNITDIR SOURCE_DIR

Installs the build into a scratch directory (DESTDIR), then, from another working directory and
with the source tree's web/ and pipelines/ hidden (an empty tmpfs over each, in a mount
namespace of the test's own):
  - the installed relay, started with the installed example relay.conf, serves the installed
    pages (a marker added to the installed index.html arrives; app.js is the installed file);
  - the installed client, with no --pipelines, loads the installed profiles and joins: the relay
    receives its media;
  - with its stderr connected to the journal (a stand-in for journald's sockets, on a tmpfs over
    /run in the same namespace), the relay's messages go to the journal with HEARING=,
    PARTICIPANT= and PARTICIPANT_ROLE= fields and never the participant's name;
  - the installed unit is well formed (systemd-analyze verify, with ExecStart pointed at the
    staged relay) and its hardening scores as systemd-analyze security rates it.
"""
import os
import re
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import urllib.request

if os.environ.get("TESTIMONY_INSTALL_NS") != "1":  # a mount namespace of the test's own
    os.environ["TESTIMONY_INSTALL_NS"] = "1"
    os.execvp("unshare", ["unshare", "--mount", "--propagation", "private", "--",
                          sys.executable, *sys.argv])

BUILD, PREFIX, BINDIR, DATADIR, SYSCONFDIR, UNITDIR, SOURCE = sys.argv[1:8]
STAGE = tempfile.mkdtemp(prefix="testimony-install-")
ROOT = os.path.join(STAGE, "root")


def staged(*parts):
    path = os.path.join(*parts)
    path = path if os.path.isabs(path) else os.path.join(PREFIX, path)
    return ROOT + path


BIN = staged(BINDIR)
NAME = "Naree Somsri"  # the witness's display name: never in the journal
for name, program in (("TESTIMONY_RELAY", "testimony-relay"), ("TESTIMONY_CLIENT",
                                                              "testimony-client"),
                      ("TESTIMONY_CTL", "testimony-ctl")):
    os.environ[name] = os.path.join(BIN, program)
os.environ.pop("TESTIMONY_PIPELINES", None)  # the client must find its own

from harness import (Client, Relay, check, finish, log, participant,  # noqa: E402
                     shutdown, wait_until)


def hide_source():
    """The source tree's web/ and pipelines/ become empty directories (in this namespace)."""
    for d in ("web", "pipelines"):
        subprocess.run(["mount", "-t", "tmpfs", "none", os.path.join(SOURCE, d)], check=True)


class Journal:
    """journald's two sockets, as GLib's log writer finds them: a program whose stderr is a
    stream connected to /run/systemd/journal/stdout sends its messages, with their fields, as
    datagrams to /run/systemd/journal/socket."""

    # Runs ARGV with its stderr connected to the journal, as systemd starts a service.
    STDERR = ("import os, socket, sys\n"
              "s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)\n"
              "s.connect('/run/systemd/journal/stdout')\n"
              "st = os.fstat(s.fileno())\n"
              "os.dup2(s.fileno(), 2)\n"
              "os.environ['JOURNAL_STREAM'] = f'{st.st_dev}:{st.st_ino}'\n"
              "os.execv(sys.argv[1], sys.argv[1:])\n")

    def __init__(self):
        subprocess.run(["mount", "-t", "tmpfs", "none", "/run"], check=True)
        os.makedirs("/run/systemd/journal")
        self.entries = []
        self.dgram = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.dgram.bind("/run/systemd/journal/socket")
        self.stream = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.stream.bind("/run/systemd/journal/stdout")
        self.stream.listen(4)
        threading.Thread(target=self._receive, daemon=True).start()
        threading.Thread(target=self._accept, daemon=True).start()

    def _receive(self):
        while True:
            self.entries.append(self.dgram.recv(1 << 16))

    def _accept(self):
        while True:
            conn, _ = self.stream.accept()
            threading.Thread(target=lambda c=conn: [None for _ in iter(lambda: c.recv(4096), b"")],
                             daemon=True).start()

    def wrap(self, argv):
        return [sys.executable, "-c", self.STDERR, *argv]

    def fields(self):
        """Each entry as a dict (the simple KEY=VALUE lines; GLib's messages have no newline)."""
        out = []
        for e in list(self.entries):
            out.append(dict(l.split(b"=", 1) for l in e.split(b"\n") if b"=" in l))
        return out


def fetch(relay, path):
    ctx = ssl.create_default_context(cafile=relay.ca)
    with urllib.request.urlopen(relay.url + path, context=ctx, timeout=10) as r:
        return r.read()


def check_unit(unit):
    text = open(unit).read()
    for want in ("User=testimony", "StateDirectory=testimony", "ConfigurationDirectory=testimony",
                 "NoNewPrivileges=yes", "ProtectSystem=strict", "ProtectHome=yes",
                 "PrivateTmp=yes", "PrivateDevices=yes",
                 "RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX AF_NETLINK",
                 "CapabilityBoundingSet=CAP_NET_BIND_SERVICE", "SystemCallFilter=@system-service",
                 "MemoryDenyWriteExecute=yes", "LimitNOFILE="):
        check(want in text, f"the unit has {want}")
    check(f"--config {os.path.join(PREFIX, SYSCONFDIR, 'testimony', 'relay.conf')}" in text,
          "the unit starts the relay with the installed relay.conf")
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        log("note: no systemd-analyze here; the unit was not verified")
        return
    # verify wants ExecStart's program to exist: point it at the staged one.
    copy = os.path.join(STAGE, "testimony-relay.service")
    with open(copy, "w") as f:
        f.write(text.replace(os.path.join(PREFIX, BINDIR), BIN))
    p = subprocess.run([analyze, "verify", copy], capture_output=True, text=True, timeout=60)
    check(p.returncode == 0 and p.stdout.strip() == "" and p.stderr.strip() == "",
          f"systemd-analyze verify: exit {p.returncode} {p.stdout}{p.stderr}")
    p = subprocess.run([analyze, "security", "--offline=yes", copy], capture_output=True,
                       text=True, timeout=60)
    m = re.search(r"Overall exposure level for \S+: ([0-9.]+) (\w+)", p.stdout)
    log(f"figures: systemd-analyze security: {m.group(0) if m else p.stdout[-300:]}")
    check(m is not None and float(m.group(1)) <= 2.0,
          "systemd-analyze security rates the unit's exposure at 2.0 or less")


def main():
    env = dict(os.environ, DESTDIR=ROOT)
    p = subprocess.run(["meson", "install", "-C", BUILD, "--no-rebuild", "--quiet"], env=env,
                       capture_output=True, text=True, timeout=300)
    if not check(p.returncode == 0, f"meson install into {ROOT}: {p.stderr[-500:]}"):
        finish()
    for program in ("testimony-relay", "testimony-client", "testimony-ctl", "testimony-verify",
                    "testimony-export"):
        check(os.access(os.path.join(BIN, program), os.X_OK), f"{program} is installed")
    web = staged(DATADIR, "testimony", "web")
    pipelines = staged(DATADIR, "testimony", "pipelines")
    conf = staged(SYSCONFDIR, "testimony", "relay.conf")
    unit = ROOT + os.path.join(UNITDIR if os.path.isabs(UNITDIR) else os.path.join(PREFIX, UNITDIR),
                               "testimony-relay.service")
    for path in (os.path.join(web, "index.html"), os.path.join(web, "js", "app.js"),
                 os.path.join(pipelines, "standard.pipeline"), conf, unit):
        check(os.path.isfile(path), f"installed: {path[len(ROOT):]}")
    check_unit(unit)
    marker = f"<!-- the installed copy {os.getpid()} -->"
    with open(os.path.join(web, "index.html"), "a") as f:
        f.write(marker + "\n")
    os.chdir(STAGE)  # not the source tree
    hide_source()
    journal = Journal()
    relay = Relay(extra_args=("--config", conf), wrap=journal.wrap)
    client = None
    try:
        out = open(relay.log_path).read()
        check(f"court's web pages from {web}" in out, f"the relay says it serves {web}")
        page = fetch(relay, "/").decode()
        check(marker in page, "the page served is the installed index.html")
        check(fetch(relay, "/js/app.js") == open(os.path.join(web, "js", "app.js"), "rb").read(),
              "and app.js is the installed one")
        console = relay.token("judge", "Console")
        client = Client(relay, relay.token("witness", NAME), "witness", "00ff00", 660,
                        duration=60)
        def received():
            return participant(relay.status(console), NAME).get("rx_packets", 0)
        wait_until(lambda: received() > 50 or client.proc.poll() is not None)
        if not check(received() > 50, "the installed client joins with the installed profiles "
                     "and the relay gets its media"):
            log(open(client.stderr_path).read()[-2000:])
        wait_until(lambda: any(f.get(b"PARTICIPANT_ROLE") == b"witness"
                               for f in journal.fields()), timeout=20)
        entries = journal.fields()
        joined = [f for f in entries if f.get(b"PARTICIPANT_ROLE") == b"witness" and
                  b"joined hearing h1" in f.get(b"MESSAGE", b"")]
        check(len(joined) == 1 and joined[0].get(b"HEARING") == b"h1" and
              joined[0].get(b"PARTICIPANT", b"").startswith(b"p") and
              joined[0].get(b"PRIORITY") == b"5",
              f"the journal gets the witness's join with its fields: {joined}")
        opened = [f for f in entries if f.get(b"MESSAGE") == b"hearing h1 opened"]
        check(len(opened) == 1 and opened[0].get(b"HEARING") == b"h1",
              "and the hearing's opening, with HEARING=h1")
        check(not any(NAME.split()[0].encode() in e for e in journal.entries),
              f"no journal entry holds the witness's name ({len(journal.entries)} entries)")
    finally:
        shutdown(relay, [client] if client else [])
        shutil.rmtree(STAGE, ignore_errors=True)
    finish()


if __name__ == "__main__":
    main()
