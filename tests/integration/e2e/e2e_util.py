# SPDX-License-Identifier: LGPL-2.1-or-later
"""Helpers shared by the end-to-end tests: the demo program as a module (its
pipeline and participant classes), the daemon fixture, file and ledger
readers. Standard library + python3-websockets only."""

import datetime
import glob
import importlib.machinery
import importlib.util
import json
import os
import subprocess
import sys

SOURCE_ROOT = os.environ["CONSENT_SOURCE_ROOT"]
BUILD_ROOT = os.environ["CONSENT_BUILD_ROOT"]

sys.path.insert(0, os.path.join(SOURCE_ROOT, "tests", "integration", "daemon"))
import consentd_fixture  # noqa: E402,F401  (re-exported for the tests)

# One GOP of the test pipelines (x264enc key-int-max=30 at 30 fps).
GOP_S = 1.0
# Generous slack for a shared, noisy machine: bounds are structural (order,
# containment), never performance measurements.
SLACK_S = 2.0
# Clocks: the sink stamps files from the pipeline clock, the ledger from the
# daemon's wall clock; both are this machine's, a little apart.
CLOCK_EPS_S = 0.25


def load_demo():
    """scripts/consent-demo as a module (it has no .py suffix)."""
    path = os.path.join(SOURCE_ROOT, "scripts", "consent-demo")
    loader = importlib.machinery.SourceFileLoader("consent_demo", path)
    spec = importlib.util.spec_from_loader("consent_demo", loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


def parse_utc(text):
    return datetime.datetime.strptime(text.replace("Z", "+0000"),
                                      "%Y-%m-%dT%H:%M:%S.%f%z").timestamp()


def consentctl(*args):
    binary = os.path.join(BUILD_ROOT, "daemon", "consentctl", "consentctl")
    return subprocess.run([binary, *args], capture_output=True, text=True, timeout=60)


def ledger(state_dir, meeting):
    out = consentctl("audit", "export", "--meeting", meeting, "--format", "json",
                     "--state-dir", state_dir)
    if out.returncode != 0:
        raise AssertionError("consentctl audit export failed: " + out.stderr)
    return [json.loads(line) for line in out.stdout.splitlines() if line.strip()]


def verify_ledger(state_dir):
    return consentctl("audit", "verify", "--state-dir", state_dir,
                      "--key-file", os.path.join(state_dir, "audit.key"))


def segments(location):
    """Manifests under @location, oldest first, each with its file's path."""
    out = []
    for mpath in glob.glob(os.path.join(location, "**", "*.manifest.json"), recursive=True):
        with open(mpath) as f:
            man = json.load(f)
        man["path"] = os.path.join(os.path.dirname(mpath), man["file"])
        man["start"] = parse_utc(man["start_utc"])
        man["end"] = parse_utc(man["end_utc"])
        out.append(man)
    return sorted(out, key=lambda m: m["start"])


def media_files(location):
    return sorted(p for p in glob.glob(os.path.join(location, "**", "*"), recursive=True)
                  if os.path.isfile(p) and not p.endswith(".manifest.json"))


def probe(path):
    """ffprobe's streams and the first packet of each stream."""
    env = dict(os.environ)
    env.pop("LD_PRELOAD", None)
    out = subprocess.run(["ffprobe", "-v", "error", "-show_streams", "-show_packets",
                          "-of", "json", path], capture_output=True, text=True, timeout=60,
                         env=env)
    if out.returncode != 0:
        raise AssertionError("ffprobe %s: %s" % (path, out.stderr))
    return json.loads(out.stdout)
