#!/usr/bin/env python3
"""The court's page asks for every module it imports at once.

web/index.html names each module that /js/app.js imports, directly or through another, in a
<link rel="modulepreload">: a witness far away then waits one round trip for all of them rather
than one for each level of imports (at a 200 ms round trip and a lossy link, each level was
seconds). Checks that the list and the imports agree both ways and that every file exists.

Usage: web_modules.py WEB_DIR. Exit status: 0 passed, 1 failed."""
import os
import posixpath
import re
import sys

IMPORT = re.compile(r"""^\s*import\s[^'"]*?['"]([^'"]+)['"]""", re.M | re.S)


def imported(web, entry):
    """Every module reachable from ENTRY (a path under WEB, like /js/app.js), ENTRY itself not."""
    seen, todo = set(), [entry]
    while todo:
        path = todo.pop()
        with open(os.path.join(web, path.lstrip("/")), encoding="utf-8") as f:
            for spec in IMPORT.findall(f.read()):
                dep = posixpath.normpath(posixpath.join(posixpath.dirname(path), spec))
                if dep not in seen:
                    seen.add(dep)
                    todo.append(dep)
    return seen - {entry}


def main():
    web = sys.argv[1]
    with open(os.path.join(web, "index.html"), encoding="utf-8") as f:
        html = f.read()
    entries = re.findall(r'<script type="module" src="([^"]+)"', html)
    preloaded = set(re.findall(r'<link rel="modulepreload" href="([^"]+)"', html))
    failed = 0
    if entries != ["/js/app.js"]:
        print(f"FAILED the page has one module script, /js/app.js: {entries}")
        return 1
    needed = imported(web, entries[0])
    for path in sorted(needed - preloaded):
        print(f"FAILED {path} is imported but not in index.html's modulepreload links")
        failed += 1
    for path in sorted(preloaded - needed):
        print(f"FAILED {path} is preloaded but no module imports it")
        failed += 1
    for path in sorted(preloaded):
        if not os.path.isfile(os.path.join(web, path.lstrip("/"))):
            print(f"FAILED {path} is preloaded but is not in {web}")
            failed += 1
    if not failed:
        print(f"ok: the page asks for its {len(needed)} imported modules at once")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
