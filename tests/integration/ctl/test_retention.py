#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""consentctl retention prune on a ledger with synthetic old segments and
recordings with manifests: --dry-run changes nothing and lists exactly what
a real run then removes; the ledger still verifies and records the prunes."""

import hashlib
import json
import os
import time

from ctl_helpers import check, ctl, generate, main, new_state

DAY = 86400


def snapshot(root):
    """Every file under @root with its content hash (what must not change)."""
    files = {}
    for dirpath, _, names in os.walk(root):
        for name in names:
            path = os.path.join(dirpath, name)
            with open(path, "rb") as f:
                files[os.path.relpath(path, root)] = hashlib.sha256(f.read()).hexdigest()
    return files


def iso(ts):
    return time.strftime("%Y-%m-%dT%H:%M:%S.000000Z", time.gmtime(ts))


def recording(root, meeting, name, end_ts, file_field=None):
    d = os.path.join(root, meeting)
    os.makedirs(d, exist_ok=True)
    media = os.path.join(d, name)
    with open(media, "wb") as f:
        f.write(b"\x1aE\xdf\xa3 not really matroska")
    manifest = {"version": 1, "file": file_field or name, "size": 27, "sha256": "00" * 32,
                "duration_ns": 1000000000, "start_utc": iso(end_ts - 1), "end_utc": iso(end_ts),
                "meeting": meeting, "participant": None, "epoch": 1, "authorized_by": ["5"],
                "present": ["x"], "notice_version": "7", "muxer": "matroskamux"}
    with open(media + ".manifest.json", "w") as f:
        json.dump(manifest, f, sort_keys=True, separators=(",", ":"))
    return media


def segments(state):
    return sorted(f for f in os.listdir(os.path.join(state, "ledger")) if f.startswith("seg-"))


def build(tmp):
    state = new_state(tmp, notice_days=30, ledger_days=100)
    now = int(time.time())
    generate(state, "old-segment", now - 400 * DAY, "m-old1")
    generate(state, "old-segment", now - 200 * DAY, "m-old2")
    generate(state, "report", now - 3600)
    root = os.path.join(state, "recordings")
    old = recording(root, "m-old1", "m-old1-old.mkv", now - 40 * DAY)
    young = recording(root, "m-report", "m-report-young.mkv", now - DAY)
    stray = recording(root, "m-old2", "m-old2-stray.mkv", now - 90 * DAY, file_field="other.mkv")
    with open(os.path.join(root, "m-old2", "broken.mkv.manifest.json"), "w") as f:
        f.write("{not json")
    return state, old, young, stray


def test_dry_run_changes_nothing(tmp):
    state, old, _, _ = build(tmp)
    segs = segments(state)
    check(len(segs) == 3, "three ledger sessions, three segments: %s" % segs)
    before = snapshot(state)
    out, _ = ctl("retention", "prune", "--dry-run", "--json", "--state-dir", state)
    plan = json.loads(out)
    check(plan["dry_run"] is True, "dry_run flag")
    check([s["name"] for s in plan["segments"]] == segs[:2], "segments %s" % plan["segments"])
    check([r["file"] for r in plan["recordings"]] == [old], "recordings %s" % plan["recordings"])
    check(len(plan["skipped"]) == 2, "the mismatched and the broken manifest are skipped: %s"
          % plan["skipped"])
    out, _ = ctl("retention", "prune", "--dry-run", "--state-dir", state)
    check("would prune ledger segment " + segs[0] in out and "dry run" in out, "text: %r" % out)
    check(snapshot(state) == before, "--dry-run changed files")


def test_prune_removes_exactly_the_old(tmp):
    state, old, young, stray = build(tmp)
    segs = segments(state)
    out, _ = ctl("retention", "prune", "--dry-run", "--json", "--state-dir", state)
    plan = json.loads(out)
    out, _ = ctl("retention", "prune", "--json", "--state-dir", state)
    done = json.loads(out)
    check(done["dry_run"] is False, "dry_run flag")
    check(done["segments"] == plan["segments"], "pruned %s, planned %s"
          % (done["segments"], plan["segments"]))
    check(done["recordings"] == plan["recordings"], "deleted %s, planned %s"
          % (done["recordings"], plan["recordings"]))
    left = segments(state)
    check(segs[0] not in left and segs[1] not in left and segs[2] in left,
          "segments left: %s" % left)
    check(not os.path.exists(old) and not os.path.exists(old + ".manifest.json"),
          "the old recording is still there")
    for keep in (young, young + ".manifest.json", stray):
        check(os.path.exists(keep), "%s was deleted" % keep)
    out, _ = ctl("audit", "verify", "--state-dir", state, "--key-file",
                 os.path.join(state, "audit.key"))
    check("intact" in out.lower(), "verify after prune: %r" % out)
    out, _ = ctl("audit", "export", "--state-dir", state, "--meeting", "m-old1")
    pruned = [json.loads(line) for line in out.splitlines()
              if json.loads(line)["type"] == "recording-pruned"]
    check(len(pruned) == 1, "the recording's deletion is recorded: %r" % out[-500:])
    ledger_text = "".join(open(os.path.join(state, "ledger", s)).read() for s in segments(state))
    check('"type":"prune"' in ledger_text, "the ledger's prune record")
    ctl("audit", "report", "--state-dir", state, "--meeting", "m-report", "--output",
        os.path.join(tmp, "r.html"))
    # Nothing is left to prune: the ledger is not even opened again.
    n = len(segments(state))
    out, _ = ctl("retention", "prune", "--json", "--state-dir", state)
    again = json.loads(out)
    check(again["segments"] == [] and again["recordings"] == [], "second run: %s" % again)
    check(len(segments(state)) == n, "a run with nothing to do opened the ledger")


def test_usage(tmp):
    state = new_state(tmp)
    _, err = ctl("retention", "prune", "--state-dir", state, "extra", expect=2)
    check("extra" in err, "stray argument: %r" % err)
    _, err = ctl("retention", "prune", "--state-dir", os.path.join(tmp, "none"), expect=2)
    check("policy.conf" in err, "missing policy names the file: %r" % err)
    out, _ = ctl("retention", "prune", "--help")
    check("--dry-run" in out, "--help")


if __name__ == "__main__":
    main([test_dry_run_changes_nothing, test_prune_removes_exactly_the_old, test_usage])
