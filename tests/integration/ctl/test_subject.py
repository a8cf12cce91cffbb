#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Right of access and erasure, end to end through consentctl: export a
person's history, erase them, and check that the ledger still verifies, that
their name is gone from every export and from the report, and that the
erasure itself is listed."""

import os

from ctl_helpers import (BOB_NAME, T0, check, ctl, export_lines, generate, main, new_state,
                         report_html, report_json)


def test_export_erase_round_trip(tmp):
    state = new_state(tmp)
    generate(state, "report", T0)
    key = os.path.join(state, "audit.key")

    out, _ = ctl("subject", "export", "--state-dir", state, "--participant", "bob")
    before = export_lines(out)
    check(any(r.get("name") == BOB_NAME for r in before), "bob's name before erasure")
    subjects = {r["subject"] for r in before if r.get("participant") == "bob"}
    check(len(subjects) == 1, "one pseudonym for bob: %s" % subjects)
    subject = subjects.pop()
    page = report_html(state, os.path.join(tmp, "before.html"))
    check("&amp; Bob &lt;b&gt;bold" in page, "bob's name in the report before erasure")

    out, _ = ctl("subject", "erase", "--state-dir", state, "--participant", "bob")
    check("erase" in out, "erase prints its record: %r" % out)

    out, _ = ctl("audit", "verify", "--state-dir", state, "--key-file", key)
    check("intact" in out.lower(), "verify after erasure: %r" % out)

    out, _ = ctl("subject", "export", "--state-dir", state, "--subject", subject)
    after = export_lines(out)
    check(len(after) >= len(before), "the records stay (%d, before %d)" % (len(after), len(before)))
    check("Bob" not in out, "bob's name still in the subject export")
    check(all(r.get("participant") is None for r in after), "raw id still readable")
    check(any(r.get("erased") for r in after), "records are not marked erased")

    out, _ = ctl("audit", "export", "--state-dir", state, "--meeting", "m-report")
    check("Bob" not in out, "bob's name still in the meeting export")
    check("Alice Example" in out, "others are unaffected by the erasure")

    r = report_json(state)
    lanes = {lane["subject"]: lane for lane in r["lanes"]}
    check(lanes[subject]["erased"] and lanes[subject]["display_name"] is None,
          "bob's lane after erasure: %s" % lanes[subject])
    check([e["subject"] for e in r["erasures"]] == [subject], "erasures %s" % r["erasures"])
    page = report_html(state, os.path.join(tmp, "after.html"))
    check("Bob" not in page, "bob's name still in the report")
    check("<h2>Erasures</h2>" in page and "(erased)" in page, "the erasure is not listed")
    check('<span class="ok">INTACT' in page, "the report's verification after erasure")


def test_erase_needs_one_person(tmp):
    state = new_state(tmp)
    generate(state, "report", T0)
    _, err = ctl("subject", "erase", "--state-dir", state, expect=2)
    check("--participant" in err, "usage error names the options: %r" % err)


if __name__ == "__main__":
    main([test_export_erase_round_trip, test_erase_needs_one_person])
