#!/usr/bin/env python3
"""scripts/setup.sh installs every Debian package the product and its tests use (suite 'tools').

    packages.py SOURCE_ROOT

Collects the GStreamer elements named in pipelines/*.pipeline, in the client's and the recording
tools' C code (pipeline descriptions, gst_element_factory_make, factory names in arrays), in the
C helpers of tests/tools and in the gst-launch-1.0 lines of the shell scripts, plus the elements
webrtcbin creates inside itself, and the command-line tools the build and the tests run. Each is
traced to its file (gst-inspect-1.0's Filename, `command -v`) and that file to its package
(`dpkg -S`). A package counts as installed by setup.sh when the script lists it on an
`apt-get install` line, or when it is a Depends/Pre-Depends (not a Recommends) of such a package
or of an Essential one, as this machine's dpkg records them. A missing element or tool fails
too, naming the package that has it where apt's lists say so.

Exits 77 (skipped) where there is no dpkg (not Debian).
"""
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

# Elements webrtcbin (and the bins it makes) create by name at run time: they appear in no
# description of ours, but a hearing fails without them.
WEBRTCBIN_INTERNAL = [
    "rtpbin", "rtpsession", "rtpssrcdemux", "rtpjitterbuffer", "rtpptdemux",  # RTP sessions
    "rtpfunnel", "rtprtxsend", "rtprtxreceive", "rtpstorage",  # bundling, retransmission
    "rtpulpfecenc", "rtpulpfecdec", "rtpredenc", "rtpreddec",  # FEC and RED
    "nicesrc", "nicesink",  # ICE transport (libnice)
    "dtlssrtpenc", "dtlssrtpdec", "dtlssrtpdemux", "dtlsenc", "dtlsdec",  # DTLS-SRTP
    "srtpenc", "srtpdec",
    "funnel", "queue", "capsfilter",
]

# Elements the client's autovideosink, autoaudiosink, autoaudiosrc and autovideosrc choose at
# run time on a desktop: an X11 window, PulseAudio (or PipeWire's Pulse server), a V4L2 camera.
AUTODETECTED = ["ximagesink", "pulsesink", "pulsesrc", "v4l2src"]

# Elements a Python test runs in a gst-launch-1.0 argument list: the kiosk test's screenshot
# of the X screen.
TEST_ELEMENTS = ["ximagesrc", "videoconvert", "tee", "queue", "filesink", "pngenc"]

# Elements named in code that no recording made by this relay reaches, with the reason.
NOT_NEEDED = {
    "avdec_h264": "testimony-export's H.264 row (relay/tools/export.c): the relay accepts only "
                  "VP8 and Opus (relay/engine/sdp.c), so no recording has an H.264 track",
}

# Command-line tools the build and the tests run, beyond those found in the Python tests'
# subprocess calls.
TOOLS = {
    "meson": "the build", "ninja": "the build", "gcc": "the build", "pkg-config": "the build",
    "python3": "the tests", "unshare": "tests/e2e/netns-run.sh", "ip": "tests/e2e/netns-run.sh",
    "gst-inspect-1.0": "this test", "gst-launch-1.0": "tests/browser/make-y4m.sh",
    "turnserver": "tests/e2e/strict_firewall.py (coturn, the TURN server)",
    "openssl": "tests/e2e/strict_firewall.py (certificates for coturn and the relay)",
}

# An element: a factory name (a few have capitals, such as rtpL16pay).
ELEMENT_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*")


def run(args):
    return subprocess.run(args, capture_output=True, text=True)


# ---- what setup.sh installs ----

def shell_logical_lines(text):
    """Lines with backslash continuations joined and comment lines left out."""
    joined = re.sub(r"\\\n", " ", text)
    return [l for l in joined.splitlines() if not l.lstrip().startswith("#")]


def setup_packages(path):
    """The package names on the script's `apt-get install` lines."""
    names = []
    for line in shell_logical_lines(path.read_text()):
        for m in re.finditer(r"apt-get\s+install\s+([^;&|>]*)", line):
            names += [w for w in m.group(1).split()
                      if not w.startswith("-") and "$" not in w]
    return names


def dependency_closure(roots):
    """Installed packages reachable from ROOTS and the Essential ones through Depends and
    Pre-Depends, following in each "A | B" the first alternative installed here (apt installs A
    on a fresh machine; B only counts where A is not installed). Returns (closure, roots that
    are not installed here)."""
    out = run(["dpkg-query", "-W", "-f",
               "${Package}\t${Essential}\t${Provides}\t${Pre-Depends}, ${Depends}\t"
               "${db:Status-Abbrev}\n"]).stdout
    deps, providers, essential = {}, {}, []
    for line in out.splitlines():
        name, ess, provides, depends, status = line.split("\t")
        if not status.startswith("ii"):
            continue
        deps.setdefault(name, []).extend(g for g in depends.split(",") if g.strip())
        for p in provides.split(","):
            if p.strip():
                providers.setdefault(p.split()[0], []).append(name)
        if ess == "yes":
            essential.append(name)

    def installed(alternative):
        bare = alternative.split()[0].split(":")[0]
        if bare in deps:
            return [bare]
        return providers.get(bare, [])

    closure, todo = set(), [r for r in roots if r in deps] + essential
    while todo:
        name = todo.pop()
        if name in closure:
            continue
        closure.add(name)
        for group in deps.get(name, []):
            for alternative in group.split("|"):
                chosen = installed(alternative.strip())
                if chosen:
                    todo.append(chosen[0])
                    break
    return closure, [r for r in roots if r not in deps]


# ---- which package has a file, an element, a tool ----

def path_variants(path):
    """PATH as dpkg may know it: as given, resolved, and with or without /usr (merged /usr)."""
    seen = []
    for p in (path, os.path.realpath(path)):
        for v in (p, p[4:] if p.startswith("/usr/") else "/usr" + p):
            if v not in seen:
                seen.append(v)
    return seen


def owners(paths):
    """Path → the package dpkg says installed it, for those of PATHS a package installed (one
    dpkg-query for all)."""
    variants = {}
    for p in paths:
        for v in path_variants(p):
            variants.setdefault(v, []).append(p)
    found = {}
    out = run(["dpkg-query", "-S", *variants]).stdout if variants else ""
    for line in out.splitlines():
        pkgs, _, owned = line.partition(": ")
        if owned in variants and not line.startswith("diversion "):
            for p in variants[owned]:
                found.setdefault(p, pkgs.split(",")[0].strip().split(":")[0])
    return found


def plugin_file(element):
    """The plugin file gst-inspect-1.0 loads ELEMENT from, or None when no plugin has it."""
    r = run(["gst-inspect-1.0", element])
    m = re.search(r"^\s*Filename\s+(\S+)", r.stdout, re.M)
    return m.group(1) if r.returncode == 0 and m else None


def apt_elements():
    """Element → package from the Gstreamer-Elements field of apt's GStreamer packages (empty
    without apt's lists). It names the package for an element not installed here."""
    names = []
    for prefix in ("gstreamer1.0-", "libgstreamer"):
        names += run(["apt-cache", "pkgnames", prefix]).stdout.split()
    if not names:
        return {}
    found, package = {}, None
    for line in run(["apt-cache", "show", "--no-all-versions", *names]).stdout.splitlines():
        if line.startswith("Package: "):
            package = line.split()[1]
        elif line.startswith("Gstreamer-Elements: ") and package:
            for e in line.split(":", 1)[1].split(","):
                found.setdefault(e.strip(), package)
    return found


def installed_elements():
    """Every element name the GStreamer registry knows on this machine."""
    out = run(["gst-inspect-1.0"]).stdout
    return {m.group(1) for m in re.finditer(r"^[^:\s]+:\s+([^:\s]+):", out, re.M)}


# ---- the elements our sources name ----

def description_elements(text):
    """The element names in a gst-launch description. Raises ValueError on a word it cannot
    place (so a new syntax is noticed rather than skipped)."""
    text = re.sub(r"[()]", " ", text)
    words = shlex.split(re.sub(r"!", " ! ", text), posix=True)
    found = []
    for w in words:
        if (w == "!" or "=" in w or "/" in w or w.startswith(("@", "%", "$"))
                or re.fullmatch(r"[\w@-]*\.[\w%_-]*", w)):
            continue  # link, property, caps, placeholder, format, reference "name." / "name.pad"
        if not ELEMENT_RE.fullmatch(w):
            raise ValueError(f"cannot read \"{w}\"")
        found.append(w)
    return found


def pipeline_file_text(path):
    """A .pipeline file without comments and [section] lines."""
    return " ".join(l for l in path.read_text().splitlines()
                    if not l.lstrip().startswith("#") and not re.fullmatch(r"\s*\[\w+\]\s*", l))


# Comments, character literals, runs of adjacent string literals (group 1) and brackets (2).
C_TOKEN_RE = re.compile(
    r'//[^\n]*|/\*.*?\*/|\'(?:\\.|[^\\\'])*\'|((?:"(?:\\.|[^\\"])*"\s*)+)|([(){}])', re.S)


def c_strings(text):
    """The string literals of C source (adjacent ones joined; comments left out), each with
    where it stands: (literal, innermost open bracket or None, name of the function called
    there, whether the literal is that call's first argument)."""
    stack = []
    for m in C_TOKEN_RE.finditer(text):
        bracket = m.group(2)
        if bracket in ("(", "{"):
            call = re.search(r"(\w*)\s*$", text[max(0, m.start() - 80):m.start()]).group(1)
            stack.append((bracket, call, m.end()))
        elif bracket and stack:
            stack.pop()
        elif m.group(1):
            parts = re.findall(r'"((?:\\.|[^\\"])*)"', m.group(1))
            literal = "".join(parts).replace("\\n", " ").replace('\\"', '"')
            open_, call, at = stack[-1] if stack else (None, "", 0)
            yield literal, open_, call, text[at:m.start()].strip() == ""


def c_elements(text, known):
    """Element names in C source: every element of a literal that is a pipeline description
    (it has a '!' link, or is a known element followed by properties only); the first argument
    of gst_element_factory_make; and a known element name alone in a literal that is not an
    argument of a call other than a *make* one (so factory arrays and macros count, property
    names such as the compositor pad's "alpha" do not)."""
    found = []
    for s, open_, call, first_arg in c_strings(text):
        words = s.split()
        if re.search(r"(^|\s)!(\s|$)", s) or (
                len(words) > 1 and words[0] in known and all("=" in w for w in words[1:])):
            found += description_elements(s)
        elif call == "gst_element_factory_make" and first_arg:
            found.append(s)
        elif len(words) == 1 and s in known and (open_ != "(" or "make" in call):
            found.append(s)
    return found


def shell_elements(text):
    """Elements of the gst-launch-1.0 commands in a shell script."""
    found = []
    for line in shell_logical_lines(text):
        m = re.search(r"(?:^|[;&|]|\bexec)\s*gst-launch-1\.0\s(.*)", line)
        if m:
            command = re.split(r"\s(?:[;&|]|[0-9]?>)", m.group(1))[0]
            found += description_elements(" ".join(w for w in command.split()
                                                   if not w.startswith("-")))
    return found


def collect_elements(root, known):
    """Element → the files that name it."""
    uses = {}

    def add(read, text, where):
        try:
            names = read(text)
        except ValueError as e:
            raise ValueError(f"{where}: {e}") from None
        for n in names:
            uses.setdefault(n, []).append(where)

    def name(p):
        return str(p.relative_to(root))

    for p in sorted(root.glob("pipelines/*.pipeline")):
        add(description_elements, pipeline_file_text(p), name(p))
    for pattern in ("client/*.[ch]", "relay/tools/*.[ch]", "tests/tools/*.c"):
        for p in sorted(root.glob(pattern)):
            add(lambda t: c_elements(t, known), p.read_text(), name(p))
    for pattern in ("scripts/*.sh", "tests/*/*.sh"):
        for p in sorted(root.glob(pattern)):
            add(shell_elements, p.read_text(), name(p))
    add(list, WEBRTCBIN_INTERNAL, "client/session.c (inside webrtcbin)")
    add(list, AUTODETECTED, "the client's auto* elements")
    add(list, TEST_ELEMENTS, "tests/e2e/kiosk.py (its screenshots, gst-launch-1.0)")
    return {e: sorted(set(files)) for e, files in uses.items()}


def collect_tools(root):
    """Tool → where it is used: TOOLS and the programs the Python tests and scripts run."""
    tools = dict(TOOLS)
    call = re.compile(r"subprocess\.\w+\(\s*\[\s*\"([\w.+-]+)\"")
    for p in sorted(root.glob("tests/*/*.py")) + sorted(root.glob("scripts/*.py")):
        for m in call.finditer(p.read_text()):
            tools.setdefault(m.group(1), str(p.relative_to(root)))
    return tools


def tool_copies(tool):
    """Every copy of TOOL on PATH and in the system directories, in that order."""
    dirs = os.environ.get("PATH", "").split(":") + ["/usr/bin", "/usr/sbin", "/bin", "/sbin"]
    copies = [os.path.join(d, tool) for d in dirs if d and shutil.which(tool, path=d)]
    return list(dict.fromkeys(copies))


def check(what, paths, hint, closure, package_of):
    """The problem with WHAT (a sentence's subject) found at PATHS (the first copy a package
    installed counts; HINT names the package to install when there is none), or None when
    setup.sh installs its package."""
    need = "scripts/setup.sh must install"
    owned = [p for p in paths if p in package_of]
    if not paths:
        return f"{what} is not installed on this machine; {need} {hint}"
    if not owned:
        return (f"{what} is {paths[0]}, which no Debian package installed; {need} the package "
                "that has it")
    pkg = package_of[owned[0]]
    if pkg not in closure:
        return (f"{what} is in the package {pkg} ({owned[0]}), which {need} (add it to the "
                "apt-get install line)")
    print(f"ok {what}: {pkg}")
    return None


def main():
    root = Path(sys.argv[1]).resolve()
    if shutil.which("dpkg-query") is None:
        print("no dpkg: not a Debian system, skipping")
        sys.exit(77)
    if shutil.which("gst-inspect-1.0") is None:
        sys.exit("gst-inspect-1.0 is missing: scripts/setup.sh must install gstreamer1.0-tools")
    listed = setup_packages(root / "scripts/setup.sh")
    closure, not_installed = dependency_closure(listed)
    print(f"setup.sh lists {len(listed)} packages ({len(closure)} with their dependencies "
          "and the Essential ones)")
    by_apt = apt_elements()
    try:
        elements = collect_elements(root, installed_elements() | set(by_apt)
                                    | set(WEBRTCBIN_INTERNAL))
    except ValueError as e:
        sys.exit(f"reading the GStreamer descriptions: {e}")

    items = []  # (what, paths, hint when missing)
    for element, files in sorted(elements.items()):
        if element in NOT_NEEDED:
            print(f"not checked: {element} ({NOT_NEEDED[element]})")
            continue
        plugin = plugin_file(element)
        items.append((f"the GStreamer element {element} (used in {', '.join(files)})",
                      [plugin] if plugin else [],
                      f"{by_apt[element]}, the package apt's lists give for it"
                      if element in by_apt else "the package that has it"))
    for tool, where in sorted(collect_tools(root).items()):
        items.append((f"the tool {tool} (used by {where})", tool_copies(tool),
                      "the package that has it"))
    package_of = owners([p for _, paths, _ in items for p in paths])
    problems = [p for p in (check(*item, closure, package_of) for item in items) if p]

    if problems:
        if not_installed:
            print("note: setup.sh lists packages not installed here (their dependencies are "
                  f"not counted): {', '.join(not_installed)}; run scripts/setup.sh")
        for p in problems:
            print(f"FAIL: {p}")
        sys.exit(1)
    print("every element and tool comes from a package scripts/setup.sh installs")


if __name__ == "__main__":
    main()
