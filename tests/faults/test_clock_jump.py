#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""The wall clock jumps back while consentd runs (and across a restart).

The ledger stamps records with the wall clock (`ts`) but orders them by
`seq` and the hash chain: a clock set back must not reorder or break the
ledger. The jump is made with libfaketime (Debian package `libfaketime`),
whose time offset file is re-read on every call; the monotonic clock is
left alone. Checked: seq stays contiguous, `consentctl audit verify`
passes, and the records after the jump carry the earlier `ts` as written
(the ledger records the clock, it does not invent one).
"""

import os
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import faults_util as u  # noqa: E402

FAKETIME_LIB = "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1"
MEETING = "clock"
BACK = "-7200"  # seconds: the clock is set back two hours


def faketime_env(offset_file):
    preload = [p for p in (os.environ.get("CONSENT_TEST_PRELOAD"), FAKETIME_LIB) if p]
    return {"LD_PRELOAD": ":".join(preload), "FAKETIME_TIMESTAMP_FILE": offset_file,
            "FAKETIME_NO_CACHE": "1", "FAKETIME_DONT_FAKE_MONOTONIC": "1",
            "DONT_FAKE_MONOTONIC": "1"}


def set_offset(path, offset):
    with open(path + ".new", "w") as f:
        f.write(offset + "\n")
    os.replace(path + ".new", path)


class ClockJump(unittest.TestCase):
    def setUp(self):
        if not os.path.exists(FAKETIME_LIB):
            print("libfaketime is not installed (apt-get install libfaketime)")
            raise SystemExit(77)  # meson: skipped, never a pass

    def test_clock_back(self):
        with tempfile.TemporaryDirectory(prefix="consent-faults-clock-") as tmp:
            offset = os.path.join(tmp, "offset")
            set_offset(offset, "+0")
            d = u.Daemon(state_dir=os.path.join(tmp, "state"), env=faketime_env(offset))
            try:
                d.start()
                d.meeting(MEETING)
                d.join(MEETING, "alice")
                before = u.ledger_records(d.state_dir)
                set_offset(offset, BACK)
                d.join(MEETING, "bob")
                d.join(MEETING, "carol")
                d.request_recording(MEETING)
                u.run(self.accept(d, "alice"))
                self.assertEqual(d.stop(), 0)
                # Restart with the clock still back, then forward again.
                d.start()
                d.join(MEETING, "dave")
                self.assertEqual(d.stop(), 0)
                set_offset(offset, "+0")
                d.start()
                d.join(MEETING, "erin")
                u.run(self.accept(d, "bob"))
                self.assertEqual(d.stop(), 0)

                records = u.ledger_records(d.state_dir)
                seqs = [r["seq"] for r in records]
                self.assertEqual(seqs, list(range(seqs[0], seqs[0] + len(seqs))))
                last_before = max(r["ts"] for r in before)
                jumped = [r for r in records[len(before):] if r["ts"] < last_before]
                print("%d records, %d stamped before the last pre-jump record" %
                      (len(records), len(jumped)))
                self.assertTrue(jumped, "no record carries the earlier wall clock")
                rc, out = u.audit_verify(d.state_dir)
                self.assertEqual(rc, 0, out)
            finally:
                d.cleanup()

    async def accept(self, d, who):
        c = await u.Client.connect(d, d.token(MEETING, who))
        await c.expect("welcome")
        await u.consent(c, u.request_of(d.state(MEETING)))
        await c.expect("recorded", event="accept")
        await c.close()


if __name__ == "__main__":
    unittest.main(verbosity=2)
