#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""The whole consent flow through the real consentd: three participants, a
late joiner, decline, withdraw, rejoin; recorder `gate` messages and the
admin API's view agree at every step; roles are enforced."""

import asyncio
import glob
import json
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from consentd_fixture import Client, Daemon, run  # noqa: E402


def ledger_records(state_dir):
    out = []
    for seg in sorted(glob.glob(os.path.join(state_dir, "ledger", "seg-*.jsonl"))):
        with open(seg) as f:
            out += [json.loads(line) for line in f if line.strip()]
    return out


async def gate_until(rec, open_, **fields):
    """The next `gate` message with state open/closed (skipping others)."""
    return await rec.expect("gate", state="open" if open_ else "closed", **fields)


class FlowTest(unittest.TestCase):
    def setUp(self):
        self.d = Daemon().start()

    def tearDown(self):
        rc = self.d.stop()
        self.d.cleanup()
        self.assertEqual(rc, 0, "consentd did not exit cleanly")

    def test_full_flow(self):
        run(self._full_flow())

    async def _full_flow(self):
        d = self.d
        created = d.meeting("m1", title="Weekly")
        self.assertEqual(created["gate"], "closed")
        for p in ("alice", "bob", "carol"):
            d.join("m1", p, name=p.title())

        rec = await Client.connect(d, d.token("m1", "rec1", "recorder"))
        g = await rec.expect("gate")
        self.assertEqual(g["state"], "closed")
        self.assertIn("lease-ms", g)

        people = {}
        for p in ("alice", "bob", "carol"):
            c = await Client.connect(d, d.token("m1", p))
            w = await c.expect("welcome")
            self.assertEqual((w["meeting"], w["participant"]), ("m1", p))
            for key in ("version", "text", "controller", "purpose", "storage", "retention-days"):
                self.assertIn(key, w["notice"])
            people[p] = c
        version = w["notice"]["version"]

        d.request_recording("m1")
        req = {}
        for p, c in people.items():
            req[p] = (await c.expect("request"))["request"]
        self.assertEqual(len(set(req.values())), 1)
        rid = req["alice"]

        async def accept(p, c):
            await c.send({"type": "consent", "decision": "accept", "notice": version, "request": rid})
            r = await c.expect("recorded", event="accept")
            self.assertRegex(r["hash"], "^[0-9a-f]{64}$")
            return r

        # Two of three accepted: still closed (silence is never consent).
        await accept("alice", people["alice"])
        await accept("bob", people["bob"])
        st = d.state("m1")
        self.assertEqual(st["gate"], "closed")
        answers = {p["id"]: p["answer"] for p in st["participants"]}
        self.assertEqual(answers, {"alice": "accepted", "bob": "accepted", "carol": "pending"})
        self.assertNotIn("open", [m.get("state") for m in rec.seen if m["type"] == "gate"])

        receipt = await accept("carol", people["carol"])
        g = await gate_until(rec, True)
        self.assertTrue(g["authorized-by"], "an open gate names its authorizing records")
        self.assertIn(receipt["record"], g["authorized-by"])
        st = d.state("m1")
        self.assertEqual(st["gate"], "open")
        self.assertTrue(all(p["record"] for p in st["participants"]))

        # A late joiner closes the gate at once, until they accept.
        d.join("m1", "dave")
        g = await gate_until(rec, False)
        self.assertEqual(g["reason"], "late-join")
        dave = await Client.connect(d, d.token("m1", "dave"))
        await dave.expect("welcome")
        self.assertEqual((await dave.expect("request"))["request"], rid)
        await accept("dave", dave)
        await gate_until(rec, True)

        # Withdrawal closes at once; the receipt follows.
        await people["carol"].send({"type": "withdraw"})
        g = await gate_until(rec, False)
        self.assertEqual(g["reason"], "withdrawn")
        receipt = await people["carol"].expect("recorded", event="withdraw")
        st = d.state("m1")
        self.assertEqual(st["gate"], "closed")
        carol = {p["id"]: p for p in st["participants"]}["carol"]
        # The withdrawal's receipt is her standing answer's record.
        self.assertEqual((carol["answer"], carol["record"]), ("withdrawn", receipt["record"]))

        # Carol leaves: she no longer counts, the gate may open again.
        d.leave("m1", "carol")
        await gate_until(rec, True)
        # She rejoins: closed again until she answers (she withdrew).
        d.join("m1", "carol")
        await gate_until(rec, False)
        await people["carol"].send({"type": "consent", "decision": "decline", "notice": version,
                                    "request": rid})
        receipt = await people["carol"].expect("recorded", event="decline")
        st = d.state("m1")
        self.assertEqual(st["gate"], "closed")
        carol = {p["id"]: p for p in st["participants"]}["carol"]
        self.assertEqual((carol["answer"], carol["record"]), ("declined", receipt["record"]))
        await accept("carol", people["carol"])
        await gate_until(rec, True)

        # The recorder reports a finished file: it lands in the ledger.
        segment = {"type": "segment", "path": "/srv/rec/m1/part1.mkv", "sha256": "e" * 64,
                   "size": 1234, "epoch": g["epoch"], "start": "2026-11-28T21:00:00.000000Z",
                   "end": "2026-11-28T21:05:00.000000Z", "authorized-by": g["authorized-by"],
                   "muxer": "matroskamux", "notice": version}
        await rec.send(segment)
        await people["alice"].send(segment)
        self.assertEqual((await people["alice"].expect("error"))["code"], "wrong-role")
        await rec.send(dict(segment, sha256="nothex"))
        self.assertEqual((await rec.expect("error"))["code"], "bad-field")

        # Stop and end: recorders see the gate close.
        d.request_recording("m1", "stop")
        await gate_until(rec, False)
        status, _, _ = d.http("DELETE", "/v1/meetings/m1")
        self.assertEqual(status, 200)
        code, _ = await rec.expect_close()
        self.assertEqual(code, 1000)
        status, _, _ = d.http("GET", "/v1/meetings/m1")
        self.assertEqual(status, 404)
        for c in list(people.values()) + [dave]:
            await c.close()
        segments = [r for r in ledger_records(d.state_dir) if r.get("type") == "segment"]
        self.assertEqual(len(segments), 1)
        self.assertIn("part1.mkv", json.dumps(segments[0]))
        status, metrics, _ = d.http("GET", "/metrics", token=None)
        self.assertIn('consentd_decisions_total{kind="accept"} 5', metrics)
        self.assertIn('consentd_decisions_total{kind="withdraw"} 1', metrics)
        self.assertRegex(metrics, r"consentd_gate_opens_total [1-9]")
        self.assertRegex(metrics, r"consentd_ledger_ack_seconds_count [1-9]")

    def test_list_meetings(self):
        d = self.d
        self.assertEqual(d.ok("GET", "/v1/meetings"), {"meetings": []})
        d.meeting("zeta", title="Zeta review")
        d.meeting("alpha")
        for p in ("alice", "bob", "carol"):
            d.join("zeta", p)
        d.leave("zeta", "carol")
        d.request_recording("zeta")
        listed = d.ok("GET", "/v1/meetings")["meetings"]
        self.assertEqual(listed, [
            {"meeting": "alpha", "title": None, "gate": "closed", "recording": False,
             "participants": 0},
            {"meeting": "zeta", "title": "Zeta review", "gate": "closed", "recording": True,
             "participants": 2},
        ])
        d.http("DELETE", "/v1/meetings/alpha")
        self.assertEqual([m["meeting"] for m in d.ok("GET", "/v1/meetings")["meetings"]],
                         ["zeta"])
        got, data, _ = d.http("GET", "/v1/meetings", token=None)
        self.assertEqual(got, 401)
        got, data, _ = d.http("DELETE", "/v1/meetings")
        self.assertEqual((got, data["error"]), (405, "method-not-allowed"))

    def test_roles_and_tokens(self):
        run(self._roles())

    async def _roles(self):
        d = self.d
        d.meeting("m2")
        d.meeting("other")
        d.join("m2", "alice")
        d.request_recording("m2")
        rid = d.state("m2")["request"]
        version = d.state("m2")["notice"]["version"]
        consent = {"type": "consent", "decision": "accept", "notice": version, "request": rid}

        # A recorder cannot consent.
        rec = await Client.connect(d, d.token("m2", "rec", "recorder"))
        await rec.expect("gate")
        await rec.send(consent)
        self.assertEqual((await rec.expect("error"))["code"], "wrong-role")

        # Not in the roster: may read the notice, may not consent.
        eve = await Client.connect(d, d.token("m2", "eve"))
        await eve.expect("welcome")
        await eve.send(consent)
        self.assertEqual((await eve.expect("error"))["code"], "not-present")

        # Stale notice version and unknown fields are refused, nothing changes.
        alice = await Client.connect(d, d.token("m2", "alice"))
        await alice.expect("welcome")
        await alice.send(dict(consent, notice=version + "-old"))
        self.assertEqual((await alice.expect("error"))["code"], "stale-notice")
        await alice.send(dict(consent, participant="bob"))
        self.assertEqual((await alice.expect("error"))["code"], "bad-field")
        self.assertEqual(d.state("m2")["participants"][0]["answer"], "pending")

        # Tampered, expired and unknown-meeting tokens: error, then close.
        good = d.token("m2", "alice")
        head, claims, mac = good.split(".")
        tampered = ".".join([head, claims, ("A" if mac[0] != "A" else "B") + mac[1:]])
        for tok, code in ((tampered, "bad-token"), ("nonsense", "bad-token")):
            c = await Client.connect(d, tok)
            close, msgs = await c.expect_close()
            self.assertEqual(msgs[-1]["code"], code)
            self.assertEqual(close, 1008)
        tok = d.token("other", "alice")
        d.http("DELETE", "/v1/meetings/other")
        c = await Client.connect(d, tok)
        close, msgs = await c.expect_close()
        self.assertEqual(msgs[-1]["code"], "unknown-meeting")

        # A participant token cannot follow someone else; naming itself is fine.
        c = await Client.connect(d, None)
        await c.send({"type": "hello", "token": d.token("m2", "alice"), "participant": "bob"})
        close, msgs = await c.expect_close()
        self.assertEqual((close, msgs[-1]["code"]), (1008, "wrong-role"))
        c = await Client.connect(d, None)
        await c.send({"type": "hello", "token": d.token("m2", "alice"), "participant": "alice"})
        self.assertEqual((await c.expect("welcome"))["participant"], "alice")
        await c.close()

        # The first message must be hello.
        c = await Client.connect(d, None)
        await c.send(consent)
        close, msgs = await c.expect_close()
        self.assertEqual(close, 1008)
        self.assertEqual(msgs[-1]["type"], "error")

        # Alice still gets her answer through afterwards.
        await alice.send(consent)
        await alice.expect("recorded", event="accept")
        await rec.expect("gate", state="open")
        for c in (rec, eve, alice):
            await c.close()



POLICY_PARTICIPANT_SCOPE = """\
[consent]
scope=participant
"""


async def gates_before_sync(client):
    """Every `gate` the client gets before the answer to a message sent now.
    A recorder may not withdraw, so the server answers "wrong-role"; messages
    on one session are in order, so any gate already decided comes first."""
    start = len(client.seen)
    await client.send({"type": "withdraw"})
    err = await client.expect("error")
    assert err["code"] == "wrong-role", err
    return [m for m in client.seen[start:] if m["type"] == "gate"]


async def next_lease(client):
    """The next `lease` (Client.recv() sets them aside)."""
    while True:
        msg = json.loads(await asyncio.wait_for(client.ws.recv(), 30))
        client.seen.append(msg)
        if msg["type"] == "lease":
            return msg


class ParticipantScopeTest(unittest.TestCase):
    """scope=participant through consentd: a recorder that names a participant
    in its hello follows that person's own decision only."""

    def setUp(self):
        self.d = Daemon()
        base = os.path.dirname(self.d.state_dir)
        policy = os.path.join(base, "policy-participant.conf")
        with open(policy, "w") as f:
            f.write(POLICY_PARTICIPANT_SCOPE)
        self.d.config_text = "[state]\npolicy-file=%s\n[server]\nlease-ms=600\n" % policy
        self.d.start()

    def tearDown(self):
        rc = self.d.stop()
        self.d.cleanup()
        self.assertEqual(rc, 0, "consentd did not exit cleanly")

    def test_per_participant_gates(self):
        run(self._per_participant())

    async def _per_participant(self):
        d = self.d
        d.meeting("ps")
        for p in ("alice", "bob"):
            d.join("ps", p)
        d.request_recording("ps")
        st = d.state("ps")

        recs = {}
        for who in ("alice", "bob", None):
            c = await Client.connect(d, d.token("ps", "rec-%s" % (who or "all"), "recorder"),
                                     hello=False)
            hello = {"type": "hello", "token": d.token("ps", "rec-%s" % (who or "all"),
                                                       "recorder")}
            if who:
                hello["participant"] = who
            await c.send(hello)
            g = await c.expect("gate")
            self.assertEqual(g["state"], "closed")
            self.assertEqual(g.get("participant"), who)
            recs[who] = c

        alice = await Client.connect(d, d.token("ps", "alice"))
        await alice.expect("welcome")
        await alice.send({"type": "consent", "decision": "accept",
                          "notice": st["notice"]["version"], "request": st["request"]})
        receipt = await alice.expect("recorded", event="accept")

        g = await recs["alice"].expect("gate", state="open")
        self.assertEqual((g["participant"], g["reason"]), ("alice", "participant-accepted"))
        self.assertIn(receipt["record"], g["authorized-by"])
        # Bob has not answered: his recorder and the meeting-wide one stay closed.
        for who in ("bob", None):
            gates = await gates_before_sync(recs[who])
            self.assertNotIn("open", [x["state"] for x in recs[who].seen if x["type"] == "gate"])
            self.assertTrue(all(x.get("participant") == who for x in gates), gates)
        self.assertEqual(d.state("ps")["gate"], "closed")

        # Leases renew the followed decision and name its participant.
        lease = await next_lease(recs["alice"])
        self.assertEqual((lease["participant"], lease["epoch"]), ("alice", g["epoch"]))
        self.assertNotIn("participant", await next_lease(recs[None]))

        # Alice withdraws: her recorder closes at once, with her name on it.
        await alice.send({"type": "withdraw"})
        g = await recs["alice"].expect("gate", state="closed")
        self.assertEqual((g["participant"], g["reason"]), ("alice", "withdrawn"))
        for c in list(recs.values()) + [alice]:
            await c.close()


if __name__ == "__main__":
    unittest.main(verbosity=2)
