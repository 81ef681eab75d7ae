#!/usr/bin/env python3
"""Prints the cache key of one translation unit for clang-tidy: SHA-256 of its preprocessed text, its compile
command and .clang-tidy, with the checkout's own path replaced by a placeholder so that clones at other paths share
the cache. Prints nothing (no caching) when the file is not in the database or does not preprocess."""
import hashlib
import json
import os
import shlex
import subprocess
import sys

db, target, config = sys.argv[1], sys.argv[2], sys.argv[3]
root = os.path.dirname(os.path.abspath(config)).encode()
for e in json.load(open(db)):
    if os.path.normpath(os.path.join(e["directory"], e["file"])) != target:
        continue
    args = e.get("arguments") or shlex.split(e["command"])
    out, skip = [], False
    for a in args:
        if skip:
            skip = False
            continue
        if a in ("-o", "-MF", "-MT", "-MQ"):
            skip = True
            continue
        if a in ("-MD", "-MMD", "-c"):
            continue
        out.append(a)
    pre = subprocess.run(out + ["-E", "-P"], cwd=e["directory"], capture_output=True)
    if pre.returncode != 0:
        sys.exit(0)
    h = hashlib.sha256(pre.stdout.replace(root, b"<root>"))
    h.update(" ".join(out).encode().replace(root, b"<root>"))
    h.update(open(config, "rb").read())
    print(h.hexdigest())
    break
