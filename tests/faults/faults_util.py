# SPDX-License-Identifier: LGPL-2.1-or-later
"""Helpers shared by the fault-injection tests (suite 'faults'): ledger
readers, the audit, and a consent flow. Standard library + python3-websockets."""

import glob
import json
import os
import subprocess
import sys

SOURCE_ROOT = os.environ["CONSENT_SOURCE_ROOT"]
BUILD_ROOT = os.environ["CONSENT_BUILD_ROOT"]
sys.path.insert(0, os.path.join(SOURCE_ROOT, "tests", "integration", "daemon"))
from consentd_fixture import Client, Daemon, run  # noqa: E402,F401  (re-exported)


def consentctl_path():
    return os.environ.get("CONSENTCTL") or os.path.join(BUILD_ROOT, "daemon", "consentctl",
                                                         "consentctl")


def audit_verify(state_dir):
    """`consentctl audit verify` with the auditor's key: (exit status, output)."""
    out = subprocess.run([consentctl_path(), "audit", "verify", "--state-dir", state_dir,
                          "--key-file", os.path.join(state_dir, "audit.key")],
                         capture_output=True, text=True, timeout=120)
    return out.returncode, out.stdout + out.stderr


def ledger_records(state_dir):
    """Every complete record, in file order (a torn last line is skipped)."""
    records = []
    for seg in sorted(glob.glob(os.path.join(state_dir, "ledger", "seg-*.jsonl"))):
        with open(seg, "rb") as f:
            for line in f:
                if not line.endswith(b"\n"):
                    continue
                records.append(json.loads(line))
    return records


def ledger_ids(state_dir):
    return {str(r["seq"]) for r in ledger_records(state_dir)}


async def consent(client, req, decision="accept"):
    """Sends an answer to @req (a `request` or the meeting state's fields)."""
    await client.send({"type": "consent", "decision": decision, "notice": req["notice"],
                       "request": req["request"]})


def request_of(state):
    return {"notice": state["notice"]["version"], "request": state["request"]}
