#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""consentctl's ledger verbs: usage and exit codes, export formats, witness
checkpoints, and erasure (verify still passes; the person is unreadable)."""
import csv
import io
import json
import os
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ledgerlib import CTL, helper, run, verify

checks = 0


def check(cond, what):
    global checks
    checks += 1
    if not cond:
        raise AssertionError(what)


def ctl(*args, want=0):
    rc, out, err = run([CTL, *args])
    check(rc == want, f"consentctl {' '.join(args)}: exit {rc}, wanted {want}: {err}")
    return out, err


def test_usage(state):
    ctl(want=2)
    ctl("--help")
    ctl("nonsense", want=2)
    ctl("audit", want=2)
    ctl("audit", "nonsense", want=2)
    for verb in (["audit", "verify"], ["audit", "export"], ["audit", "checkpoint"],
                 ["subject", "export"], ["subject", "erase"]):
        out, _ = ctl(*verb, "--help")
        check("--state-dir" in out, f"{verb} --help lists --state-dir")
    ctl("audit", "verify", "--bogus", want=2)
    ctl("audit", "verify", "--state-dir", os.path.join(state, "missing"), want=2)
    ctl("audit", "verify", "--state-dir", state, "--key-file", "/nonexistent/key", want=2)
    ctl("audit", "export", "--state-dir", state, want=2)  # needs --meeting or --subject
    ctl("audit", "export", "--state-dir", state, "--meeting", "m", "--format", "xml", want=2)
    ctl("subject", "erase", "--state-dir", state, want=2)


def test_verify_output(state):
    out, _ = ctl("audit", "verify", "--state-dir", state)
    check("NOT checked" in out, "verify without a key says the seals were not checked")
    key = os.path.join(state, "audit.key")
    out, _ = ctl("audit", "verify", "--state-dir", state, "--key-file", key, "--json")
    result = json.loads(out)
    check(result["intact"] and result["seals-checked"], "json result")
    check(result["records"] > 10, "records counted")


def test_witness(state, root):
    out, _ = ctl("audit", "checkpoint", "--state-dir", state)
    witness = os.path.join(root, "witness")
    with open(witness, "w") as f:
        f.write(out)
    helper("write", state, "3")
    ctl("audit", "verify", "--state-dir", state, "--checkpoint", witness)
    with open(witness, "w") as f:
        f.write(out.replace('"size":', '"size":1'))
    ctl("audit", "verify", "--state-dir", state, "--checkpoint", witness, want=1)


def export(state, *args):
    out, _ = ctl("audit", "export", "--state-dir", state, *args)
    return out


def test_export_and_erase(state):
    lines = [json.loads(l) for l in export(state, "--meeting", "meeting-a").splitlines()]
    check(lines and all(l["meeting"] == "meeting-a" for l in lines), "meeting export")
    bob = [l for l in lines if l.get("participant") == "bob"]
    check(bob and bob[0]["name"] == "Display Name" and bob[0]["ip"] == "192.0.2.7",
          "personal data decrypted in export")
    subject = bob[0]["subject"]
    rows = list(csv.DictReader(io.StringIO(export(state, "--meeting", "meeting-a",
                                                  "--format", "csv"))))
    check(len(rows) == len(lines) and rows[0]["meeting"] == "meeting-a", "csv export")
    out, _ = ctl("subject", "export", "--state-dir", state, "--participant", "bob")
    mine = [json.loads(l) for l in out.splitlines()]
    check(mine and all(l["subject"] == subject or subject in l.get("present", [])
                       for l in mine), "subject export by participant")

    out, _ = ctl("subject", "erase", "--state-dir", state, "--participant", "bob")
    check("erased" in out, "erase reports")
    key = os.path.join(state, "audit.key")
    ctl("audit", "verify", "--state-dir", state, "--key-file", key)
    ctl("subject", "export", "--state-dir", state, "--participant", "bob", want=2)
    out, _ = ctl("subject", "export", "--state-dir", state, "--subject", subject)
    after = [json.loads(l) for l in out.splitlines()]
    own = [l for l in after if l["subject"] == subject and l["type"] != "erase"]
    check(own and all(l["erased"] and l["participant"] is None and l["name"] is None
                      and l["ip"] is None for l in own), "erased fields unreadable")
    check(any(l["type"] == "erase" for l in after), "the erasure is recorded")
    meeting = export(state, "--meeting", "meeting-a")
    check('"participant":"bob"' not in meeting and subject in meeting,
          "audit export no longer shows the person")
    ctl("subject", "erase", "--state-dir", state, "--subject", subject, want=2)


def main():
    root = tempfile.mkdtemp(prefix="ledger-ctl-")
    try:
        state = os.path.join(root, "state")
        helper("write", state, "20")
        test_usage(state)
        test_verify_output(state)
        test_witness(state, root)
        test_export_and_erase(state)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    print(f"{checks} checks passed")


main()
