#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""consentctl audit report on the ledger a real consentd writes: two people
accept over the websocket, the gate opens, one withdraws; the report (read
while consentd still runs, then after the meeting ended) shows the lanes and
the gate as the daemon recorded them."""

import json
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "daemon"))

from consentd_fixture import Client, Daemon, run  # noqa: E402
from ctl_helpers import check, ctl, main, report_html, report_json  # noqa: E402


async def drive(d):
    d.meeting("m1", title="Weekly")
    d.join("m1", "alice", name="Alice Live", role="host")
    d.join("m1", "bob", name="Bob Live")
    rec = await Client.connect(d, d.token("m1", "rec1", "recorder"))
    await rec.expect("gate", state="closed")
    people = {}
    for p in ("alice", "bob"):
        people[p] = await Client.connect(d, d.token("m1", p))
        welcome = await people[p].expect("welcome")
    version = welcome["notice"]["version"]
    d.request_recording("m1")
    for p, c in people.items():
        rid = (await c.expect("request"))["request"]
        await c.send({"type": "consent", "decision": "accept", "notice": version, "request": rid})
        await c.expect("recorded", event="accept")
    await rec.expect("gate", state="open")
    await people["bob"].send({"type": "withdraw"})
    await people["bob"].expect("recorded", event="withdraw")
    await rec.expect("gate", state="closed")
    for c in list(people.values()) + [rec]:
        await c.close()


def states(lane):
    return [i["state"] for i in lane["intervals"]]


def test_live_ledger(tmp):
    with Daemon(state_dir=os.path.join(tmp, "state")) as d:
        run(drive(d))
        r = report_json(d.state_dir, meeting="m1")
        types = [e["type"] for e in r["events"]]
        for t in ("join", "request", "accept", "gate-opened", "withdraw", "gate-closed"):
            check(t in types, "%s missing from the events: %s" % (t, types))
        check(types.index("gate-opened") > max(i for i, t in enumerate(types) if t == "accept"),
              "the gate opened before the last acceptance: %s" % types)
        lanes = {lane["participant"]: lane for lane in r["lanes"]}
        check(sorted(lanes) == ["alice", "bob"], "lanes %s" % sorted(lanes))
        check(lanes["alice"]["display_name"] == "Alice Live", "names from the key store")
        check(states(lanes["alice"])[-2:] == ["pending", "accepted"], "alice %s"
              % states(lanes["alice"]))
        check(states(lanes["bob"])[-3:] == ["pending", "accepted", "withdrawn"], "bob %s"
              % states(lanes["bob"]))
        check(lanes["alice"]["intervals"][-1]["open_end"], "a running meeting's lane is open")
        check(len(r["gate"]) == 1 and not r["gate"][0]["open_end"], "gate %s" % r["gate"])
        check(r["gate"][0]["start_us"] >= lanes["bob"]["intervals"][-2]["start_us"],
              "the gate opened before bob's acceptance")
        check(r["verification"]["intact"], "verification %s" % r["verification"])
        d.ok("DELETE", "/v1/meetings/m1")
        r = report_json(d.state_dir, meeting="m1")
        check(r["ended"] and not any(i["open_end"] for lane in r["lanes"]
                                     for i in lane["intervals"]), "after the meeting ended")
        page = report_html(d.state_dir, os.path.join(tmp, "live.html"), meeting="m1")
        check("Alice Live" in page and "INTACT" in page, "the HTML report")


def test_prune_needs_consentd_stopped(tmp):
    with Daemon(state_dir=os.path.join(tmp, "state")) as d:
        d.meeting("m1")
        root = os.path.join(d.state_dir, "recordings", "m1")
        os.makedirs(root, exist_ok=True)
        media = os.path.join(root, "old.mkv")
        with open(media, "wb") as f:
            f.write(b"x")
        end = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 3650 * 86400))
        with open(media + ".manifest.json", "w") as f:
            json.dump({"file": "old.mkv", "end_utc": end, "meeting": "m1"}, f)
        out, _ = ctl("retention", "prune", "--dry-run", "--json", "--state-dir", d.state_dir)
        check([r["file"] for r in json.loads(out)["recordings"]] == [media],
              "dry run while consentd runs: %s" % out)
        _, err = ctl("retention", "prune", "--state-dir", d.state_dir, expect=2)
        check("stop consentd first" in err, "a locked ledger: %r" % err)
        check(os.path.exists(media), "nothing may go while the ledger cannot record it")


if __name__ == "__main__":
    main([test_live_ledger, test_prune_needs_consentd_stopped])
