#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""The consent page in a real browser (headless Chromium over DevTools).

A participant opens her link (`/#token=…`), reads the notice (who records,
why, where, how long, version), clicks Accept and sees her receipt; then
clicks Withdraw. After each click the daemon's state (GET /v1/meetings/M)
and the ledger (`consentctl audit export`) must agree with what the page
says. A second participant declines. Screenshots of the page go to
tests/artifacts/ in the build directory.
"""

import asyncio
import json
import os
import re
import subprocess
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_ROOT = os.environ["CONSENT_SOURCE_ROOT"]
BUILD_ROOT = os.environ["CONSENT_BUILD_ROOT"]
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(SOURCE_ROOT, "tests", "integration", "daemon"))
from cdp import Browser, Page  # noqa: E402
from consentd_fixture import Daemon  # noqa: E402

MEETING = "browser-m1"
ARTIFACTS = os.path.join(BUILD_ROOT, "tests", "artifacts")
RECEIPT_RE = re.compile(r"ledger record (\S+) \(hash ([0-9a-f]{64})\)")


def ledger(state_dir):
    binary = os.path.join(BUILD_ROOT, "daemon", "consentctl", "consentctl")
    out = subprocess.run([binary, "audit", "export", "--meeting", MEETING, "--format", "json",
                          "--state-dir", state_dir], capture_output=True, text=True, timeout=60)
    if out.returncode != 0:
        raise AssertionError("consentctl audit export: " + out.stderr)
    return [json.loads(line) for line in out.stdout.splitlines() if line.strip()]


class ConsentPage(unittest.TestCase):
    def setUp(self):
        self.daemon = Daemon().start()
        self.browser = Browser().start()

    def tearDown(self):
        self.browser.stop()
        rc = self.daemon.stop()
        self.daemon.cleanup()
        self.assertEqual(rc, 0, "consentd did not exit cleanly")

    def participant(self, pid):
        st = self.daemon.state(MEETING)
        return {p["id"]: p for p in st["participants"]}[pid], st

    def test_accept_then_withdraw(self):
        asyncio.run(self.accept_then_withdraw())

    async def open_page(self, pid):
        page = await Page.connect(self.browser.page_ws_url())
        token = self.daemon.token(MEETING, pid)
        await page.navigate("http://127.0.0.1:%d/#token=%s" % (self.daemon.port, token))
        await page.until("document.getElementById('status').textContent.startsWith('Connected')",
                         "the connected status")
        return page

    async def check_notice(self, page):
        notice = {k: await page.text("notice-" + k)
                  for k in ("controller", "purpose", "storage", "retention", "text", "version")}
        print("notice shown:", notice)
        for key, value in notice.items():
            self.assertTrue(value and value.strip() and value != "—", "notice %s is shown" % key)
        self.assertEqual(notice["version"], self.daemon.state(MEETING)["notice"]["version"])
        self.assertRegex(notice["retention"], r"^\d+ days$")

    async def accept_then_withdraw(self):
        d = self.daemon
        d.meeting(MEETING, title="Browser test")
        d.join(MEETING, "alice", name="Alice")
        d.request_recording(MEETING)

        page = await self.open_page("alice")
        await self.check_notice(page)
        await page.until("!document.getElementById('accept').disabled", "an enabled Accept")
        self.assertTrue(await page.evaluate("document.getElementById('withdraw').disabled"),
                        "nothing to withdraw before accepting")

        await page.click("accept")
        receipt = await page.until(
            "(function(){const t=document.getElementById('receipt').textContent;"
            "return t.includes('accept') && t.includes('ledger record') ? t : null})()",
            "the accept receipt")
        print("receipt:", receipt)
        record_id, record_hash = RECEIPT_RE.search(receipt).groups()
        alice, st = self.participant("alice")
        self.assertEqual(alice["answer"], "accepted")
        self.assertEqual(alice["record"], record_id)
        self.assertEqual(st["gate"], "open", "alice is everyone present")
        accepts = [r for r in ledger(d.state_dir) if r["type"] == "accept"]
        self.assertEqual([(str(r["seq"]), r["hash"]) for r in accepts], [(record_id, record_hash)])
        self.assertEqual(accepts[0]["channel"], "ws")
        await page.screenshot(os.path.join(ARTIFACTS, "consent-page-accepted.png"))

        await page.until("!document.getElementById('withdraw').disabled", "an enabled Withdraw")
        await page.click("withdraw")
        await page.until("document.getElementById('receipt').textContent.includes('withdraw')",
                         "the withdrawal receipt")
        await page.until("document.getElementById('status').textContent.includes('withdrawn')",
                         "the withdrawn status")
        alice, st = self.participant("alice")
        self.assertEqual(alice["answer"], "withdrawn")
        self.assertEqual(st["gate"], "closed")
        self.assertEqual(st["reason"], "withdrawn")
        records = ledger(d.state_dir)
        self.assertEqual([r["type"] for r in records if r["type"] in ("accept", "withdraw")],
                         ["accept", "withdraw"])
        self.assertIn("gate-closed", [r["type"] for r in records])
        await page.screenshot(os.path.join(ARTIFACTS, "consent-page-withdrawn.png"))
        self.assertEqual(page.exceptions(), [], "no script errors on the page")
        await page.close()

    def test_decline(self):
        asyncio.run(self.decline())

    async def decline(self):
        d = self.daemon
        d.meeting(MEETING, title="Browser test")
        d.join(MEETING, "bob", name="Bob")
        d.request_recording(MEETING)
        page = await self.open_page("bob")
        await page.until("!document.getElementById('decline').disabled", "an enabled Decline")
        await page.click("decline")
        await page.until("document.getElementById('receipt').textContent.includes('ledger record')",
                         "the decline receipt")
        bob, st = self.participant("bob")
        self.assertEqual(bob["answer"], "declined")
        self.assertEqual(st["gate"], "closed")
        self.assertIn("decline", [r["type"] for r in ledger(d.state_dir)])
        self.assertTrue(await page.evaluate("document.getElementById('withdraw').disabled"))
        await page.screenshot(os.path.join(ARTIFACTS, "consent-page-declined.png"))
        self.assertEqual(page.exceptions(), [], "no script errors on the page")
        await page.close()


if __name__ == "__main__":
    unittest.main(verbosity=2)
