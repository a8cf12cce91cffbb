# SPDX-License-Identifier: LGPL-2.1-or-later
"""Helpers shared by the ledger tests: running the tools, and an independent
implementation of the record seal from docs/ledger.md (to forge records the
way an attacker holding a key would)."""
import hashlib
import hmac
import json
import os
import shutil
import subprocess

CTL = os.environ["CONSENTCTL"]
HELPER = os.environ["LEDGER_HELPER"]
EPOCH_LABEL = b"consentgate ledger epoch"


def run(args, **kw):
    p = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)
    return p.returncode, p.stdout, p.stderr


def helper(*args):
    rc, out, err = run([HELPER, *args])
    if rc != 0:
        raise AssertionError(f"ledger-helper {args} failed ({rc}): {err}")
    return out


def verify(state, key=None, witness=None, ledger=None, extra=()):
    args = [CTL, "audit", "verify", "--state-dir", state]
    if ledger:
        args += ["--ledger", ledger]
    if key:
        args += ["--key-file", key]
    if witness:
        args += ["--checkpoint", witness]
    return run(args + list(extra))


def canon(obj):
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def evolve(key, times=1):
    for _ in range(times):
        key = hmac.new(key, EPOCH_LABEL, hashlib.sha256).digest()
    return key


def read_key(path):
    with open(path) as f:
        return bytes.fromhex(f.read().strip())


def seal(rec, key):
    """Recomputes mac (under key) and hash of a record dict, in place."""
    rec.pop("hash", None)
    rec.pop("mac", None)
    rec["mac"] = hmac.new(key, canon(rec).encode(), hashlib.sha256).hexdigest()
    rec["hash"] = hashlib.sha256(canon(rec).encode()).hexdigest()
    return rec


def segments(ledger):
    return sorted(n for n in os.listdir(ledger) if n.startswith("seg-") and n.endswith(".jsonl"))


def read_segments(ledger):
    """[(name, [line bytes without newline])]"""
    out = []
    for name in segments(ledger):
        with open(os.path.join(ledger, name), "rb") as f:
            data = f.read()
        lines = data.split(b"\n")
        assert lines[-1] == b"", f"{name} has a torn tail"
        out.append((name, lines[:-1]))
    return out


def write_segments(ledger, segs):
    for name in segments(ledger):
        os.unlink(os.path.join(ledger, name))
    for name, lines in segs:
        with open(os.path.join(ledger, name), "wb") as f:
            f.write(b"".join(l + b"\n" for l in lines))


def copy_state(src, dst):
    shutil.copytree(src, dst, symlinks=True)
