# SPDX-License-Identifier: LGPL-2.1-or-later
"""Shared helpers of the consentctl tests: run consentctl, write ledgers with
the ledger library (ctl-ledger-gen), extract the report's parts."""

import json
import os
import re
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET

SOURCE_ROOT = os.environ["CONSENT_SOURCE_ROOT"]
BUILD_ROOT = os.environ["CONSENT_BUILD_ROOT"]
CONSENTCTL = os.environ["CONSENTCTL"]
LEDGER_GEN = os.environ.get("CTL_LEDGER_GEN")

# The report scenario starts here (2026-01-05T10:00:00Z); offsets are seconds.
T0 = 1767607200
BOB_NAME = '<script>alert("x")</script> & Bob <b>bold</b>'

POLICY = """[notice]
version=7
controller=Example Corp
purpose=Minutes of the meeting
storage=On-premise storage
text=We record this meeting for the minutes. <You> may decline & withdraw.
retention-days={notice_days}

[storage]
roots={root}

[ledger]
retention-days={ledger_days}
"""


class Failure(Exception):
    pass


def check(cond, what):
    if not cond:
        raise Failure(what)


def new_state(tmp, notice_days=30, ledger_days=100):
    """A state directory with a policy whose storage root is STATE/recordings."""
    state = os.path.join(tmp, "state")
    root = os.path.join(state, "recordings")
    os.makedirs(root, mode=0o700)
    with open(os.path.join(state, "policy.conf"), "w") as f:
        f.write(POLICY.format(root=root, notice_days=notice_days, ledger_days=ledger_days))
    return state


def generate(state, scenario, t0, *extra):
    subprocess.run([LEDGER_GEN, "--state-dir", state, "--policy",
                    os.path.join(state, "policy.conf"), scenario, str(t0)] + list(extra),
                   check=True, timeout=120)


def ctl(*args, expect=0, input=None):
    """Runs consentctl; returns (stdout, stderr). Checks the exit code."""
    p = subprocess.run([CONSENTCTL] + [str(a) for a in args], capture_output=True, text=True,
                       input=input, timeout=180)
    if expect is not None and p.returncode != expect:
        raise Failure("consentctl %s: exit %d, expected %d\nstdout: %s\nstderr: %s"
                      % (" ".join(map(str, args)), p.returncode, expect, p.stdout[-2000:],
                         p.stderr[-2000:]))
    return p.stdout, p.stderr


def report_json(state, meeting="m-report", expect=0):
    out, _ = ctl("audit", "report", "--state-dir", state, "--meeting", meeting, "--format",
                 "json", "--output", "-", expect=expect)
    return json.loads(out)


def report_html(state, path, meeting="m-report", expect=0):
    ctl("audit", "report", "--state-dir", state, "--meeting", meeting, "--output", path,
        expect=expect)
    with open(path, encoding="utf-8") as f:
        return f.read()


def extract_svg(html):
    """The inline <svg> of the report, parsed as XML (raises if not well-formed)."""
    m = re.search(r"<svg\b.*?</svg>", html, re.S)
    check(m is not None, "the report has no inline <svg>")
    return ET.fromstring(m.group(0))


def export_lines(out):
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def artifacts_dir():
    d = os.path.join(BUILD_ROOT, "tests", "artifacts")
    os.makedirs(d, exist_ok=True)
    return d


def main(tests):
    """Runs each test function with a fresh temporary directory; TAP-like output."""
    failed = 0
    for fn in tests:
        with tempfile.TemporaryDirectory(prefix="consentctl-test-") as tmp:
            try:
                fn(tmp)
                print("ok - %s" % fn.__name__)
            except Exception as e:  # report every failure, then fail the test
                failed += 1
                print("not ok - %s: %s: %s" % (fn.__name__, type(e).__name__, e))
    print("%d passed, %d failed" % (len(tests) - failed, failed))
    sys.exit(1 if failed else 0)
