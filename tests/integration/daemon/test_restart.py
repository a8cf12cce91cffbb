#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""State survives a restart through the ledger: meetings in progress, the
roster, the request and the answers with their record ids. After SIGKILL,
every acknowledged consent (one with a `recorded` receipt) is durable, no
recorder ever saw an open gate whose authorizing records are not durable,
and, the stop being unclean (a withdrawal may be lost), everyone present is
asked again: the gate stays closed until they accept anew."""

import glob
import json
import os
import signal
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from consentd_fixture import Client, Daemon, run  # noqa: E402


def ledger_ids(state_dir):
    ids = set()
    for seg in sorted(glob.glob(os.path.join(state_dir, "ledger", "seg-*.jsonl"))):
        with open(seg, "rb") as f:
            for line in f:
                try:
                    ids.add(str(json.loads(line)["seq"]))
                except (ValueError, KeyError):
                    pass  # a torn last line
    return ids


def answers(state):
    return {p["id"]: (p["answer"], p["record"], p["present"]) for p in state["participants"]}


class RestartTest(unittest.TestCase):
    def test_clean_restart(self):
        d = Daemon().start()
        try:
            run(self._before(d))
            before = d.state("r1")
            self.assertEqual(d.stop(), 0)
            d.start()
            after = d.state("r1")
            self.assertEqual(answers(after), answers(before))
            self.assertTrue(after["recording"])
            self.assertEqual(after["notice"], before["notice"])
            self.assertEqual(after["title"], "Standup")
            # A meeting that ended before the restart stays ended.
            self.assertEqual(d.http("GET", "/v1/meetings/gone")[0], 404)
            run(self._after(d))
            self.assertEqual(d.stop(), 0)
        finally:
            d.cleanup()

    async def _before(self, d):
        d.meeting("gone")
        d.join("gone", "x")
        d.http("DELETE", "/v1/meetings/gone")
        d.meeting("r1", title="Standup")
        for p in ("alice", "bob", "carol", "dave"):
            d.join("r1", p, name=p.title())
        d.leave("r1", "dave")
        d.request_recording("r1")
        st = d.state("r1")
        base = {"type": "consent", "notice": st["notice"]["version"], "request": st["request"]}
        for p, decision in (("alice", "accept"), ("bob", "accept"), ("carol", "decline")):
            c = await Client.connect(d, d.token("r1", p))
            await c.expect("welcome")
            await c.send(dict(base, decision=decision))
            await c.expect("recorded", event=decision)
            await c.close()

    async def _after(self, d):
        # A recorder that connects to the restarted daemon sees the gate
        # closed (carol declined) until carol accepts the current request.
        rec = await Client.connect(d, d.token("r1", "rec", "recorder"))
        g = await rec.expect("gate")
        self.assertEqual(g["state"], "closed")
        carol = await Client.connect(d, d.token("r1", "carol"))
        await carol.expect("welcome")
        req = await carol.expect("request")
        await carol.send({"type": "consent", "decision": "accept", "notice": req["notice"],
                          "request": req["request"]})
        receipt = await carol.expect("recorded", event="accept")
        g = await rec.expect("gate", state="open")
        self.assertIn(receipt["record"], g["authorized-by"])
        for c in (rec, carol):
            await c.close()

    def test_notice_override_survives(self):
        """A per-meeting notice and the consent given to it survive a restart:
        the ledger keeps the full notice, replay checks it against its sha256."""
        d = Daemon().start()
        try:
            override = {"version": "ov1", "text": "This meeting is recorded for the minutes.",
                        "purpose": "minutes"}
            receipt = run(self._override_and_accept(d, override))
            before = d.state("n1")
            self.assertEqual(before["gate"], "open")
            self.assertEqual(d.stop(), 0)
            d.start()
            after = d.state("n1")
            self.assertEqual(after["notice"], before["notice"])
            self.assertEqual(after["title"], "Retro")
            self.assertEqual((after["gate"], after["authorized-by"]),
                             ("open", before["authorized-by"]))
            self.assertEqual(answers(after), answers(before))
            run(self._check_override(d, override, receipt))
            self.assertEqual(d.stop(), 0)
        finally:
            d.cleanup()

    async def _override_and_accept(self, d, override):
        d.meeting("n1", title="Draft")
        d.meeting("n1", title="Retro")
        d.join("n1", "alice")
        d.request_recording("n1")
        st = d.meeting("n1", notice=override)
        self.assertEqual(st["notice"]["version"], "ov1")
        alice = await Client.connect(d, d.token("n1", "alice"))
        w = await alice.expect("welcome")
        self.assertEqual(w["notice"]["text"], override["text"])
        await alice.send({"type": "consent", "decision": "accept", "notice": "ov1",
                          "request": st["request"]})
        receipt = await alice.expect("recorded", event="accept")
        await alice.close()
        return receipt

    async def _check_override(self, d, override, receipt):
        rec = await Client.connect(d, d.token("n1", "rec", "recorder"))
        g = await rec.expect("gate")
        self.assertEqual(g["state"], "open")
        self.assertIn(receipt["record"], g["authorized-by"])
        alice = await Client.connect(d, d.token("n1", "alice"))
        w = await alice.expect("welcome")
        self.assertEqual((w["notice"]["version"], w["notice"]["text"], w["notice"]["purpose"]),
                         ("ov1", override["text"], override["purpose"]))
        for c in (rec, alice):
            await c.close()

    def test_sigkill_during_flow(self):
        d = Daemon().start()
        try:
            opens, acked = run(self._flow_then_kill(d))
            state_dir = d.state_dir
            d.start()
            durable = ledger_ids(state_dir)
            # No recorder saw an open whose authorizing records are not durable.
            for g in opens:
                self.assertTrue(set(g["authorized-by"]) <= durable, g)
            # Every acknowledged consent is durable.
            for p, record in acked.items():
                self.assertIn(record, durable, p)
            # The kill was an unclean stop: everyone present is asked again.
            after = answers(d.state("k1"))
            self.assertEqual({p: a for p, (a, _, present) in after.items() if present},
                             {"p%d" % i: "pending" for i in range(6)})
            self.assertIn("did not stop cleanly", d.log())
            # The gate opens for a recorder only on fresh accepts.
            run(self._check_recorder(d))
            self.assertEqual(d.stop(), 0)
        finally:
            d.cleanup()

    async def _flow_then_kill(self, d):
        d.meeting("k1")
        people = ["p%d" % i for i in range(6)]
        for p in people:
            d.join("k1", p)
        d.request_recording("k1")
        st = d.state("k1")
        base = {"type": "consent", "decision": "accept", "notice": st["notice"]["version"],
                "request": st["request"]}
        rec = await Client.connect(d, d.token("k1", "rec", "recorder"))
        await rec.expect("gate")
        clients = {}
        for p in people:
            clients[p] = await Client.connect(d, d.token("k1", p))
            await clients[p].expect("welcome")
        acked = {}
        for p in people[:3]:
            await clients[p].send(base)
            acked[p] = (await clients[p].expect("recorded", event="accept"))["record"]
        # The rest answer, and the daemon dies while those are in flight.
        for p in people[3:]:
            await clients[p].send(base)
        d.stop(signal.SIGKILL)
        for p in people[3:]:
            code, msgs = await clients[p].expect_close()
            for m in msgs:
                if m["type"] == "recorded" and m["event"] == "accept":
                    acked[p] = m["record"]
        code, msgs = await rec.expect_close()
        opens = [m for m in rec.seen + msgs if m["type"] == "gate" and m["state"] == "open"]
        return opens, acked

    async def _check_recorder(self, d):
        rec = await Client.connect(d, d.token("k1", "rec", "recorder"))
        g = await rec.expect("gate")
        self.assertEqual(g["state"], "closed", g)
        st = d.state("k1")
        people = ["p%d" % i for i in range(6)]
        receipts = []
        for p in people:
            self.assertFalse(any(m["type"] == "gate" and m["state"] == "open"
                                 for m in rec.seen), (p, rec.seen))
            c = await Client.connect(d, d.token("k1", p))
            await c.expect("welcome")
            await c.send({"type": "consent", "decision": "accept",
                          "notice": st["notice"]["version"], "request": st["request"]})
            receipts.append((await c.expect("recorded", event="accept"))["record"])
            await c.close()
        g = await rec.expect("gate", state="open")
        self.assertTrue(set(receipts) <= set(g["authorized-by"]), (receipts, g))
        await rec.close()

if __name__ == "__main__":
    unittest.main(verbosity=2)
