#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""consentctl audit report: content derived from a ledger written at test time
(golden lanes, intervals, segments and events), escaping of attacker-chosen
names, a well-formed SVG, a finding on tampering, and a screenshot of the
rendered report kept under CONSENT_BUILD_ROOT/tests/artifacts/."""

import html.parser
import os
import shutil
import subprocess

from ctl_helpers import (BOB_NAME, T0, artifacts_dir, check, ctl, extract_svg, generate, main,
                         new_state, report_html, report_json)

US = 1000000

# What the scenario must produce, in seconds after T0 (see ctl-ledger-gen.c).
GOLDEN_LANES = {
    "alice": [("present", 1, 10), ("pending", 10, 20), ("accepted", 20, 80),
              ("withdrawn", 80, 95)],
    "bob": [("present", 2, 10), ("pending", 10, 30), ("accepted", 30, 95)],
    "carol": [("pending", 40, 50), ("declined", 50, 60)],
}
GOLDEN_GATE = [(31, 40), (61, 80)]
GOLDEN_REQUESTED = [(10, 90)]
GOLDEN_TYPES = ["meeting-updated", "join", "join", "notice-shown", "notice-shown", "request",
                "accept", "accept", "gate-opened", "join", "gate-closed", "segment", "decline",
                "leave", "gate-opened", "withdraw", "gate-closed", "segment", "recording-stop",
                "meeting-ended"]


def secs(interval):
    return ((interval["start_us"] - T0 * US) // US, (interval["end_us"] - T0 * US) // US)


def make_ledger(tmp):
    state = new_state(tmp)
    generate(state, "report", T0)
    return state


def test_golden_timeline(tmp):
    state = make_ledger(tmp)
    r = report_json(state)
    check(r["meeting"] == "m-report", "meeting %r" % r["meeting"])
    check([e["type"] for e in r["events"]] == GOLDEN_TYPES,
          "events %s" % [e["type"] for e in r["events"]])
    seqs = [e["seq"] for e in r["events"]]
    check(seqs == sorted(seqs), "events out of order: %s" % seqs)
    lanes = {lane["participant"]: lane for lane in r["lanes"]}
    check(sorted(lanes) == ["alice", "bob", "carol"], "lanes %s (m-other must be left out)"
          % sorted(lanes))
    for who, want in GOLDEN_LANES.items():
        got = [(i["state"],) + secs(i) for i in lanes[who]["intervals"]]
        check(got == want, "%s: intervals %s, expected %s" % (who, got, want))
        check(all(not i["open_end"] for i in lanes[who]["intervals"]), "meeting ended")
    check(lanes["bob"]["display_name"] == BOB_NAME, "bob's name %r" % lanes["bob"]["display_name"])
    check(lanes["alice"]["answer"] == "withdrawn" and lanes["carol"]["answer"] == "declined",
          "final answers")
    check([secs(i) for i in r["gate"]] == GOLDEN_GATE, "gate %s" % r["gate"])
    check([secs(i) for i in r["requested"]] == GOLDEN_REQUESTED, "requested %s" % r["requested"])
    segs = [((s["start_us"] - T0 * US) // US, (s["end_us"] - T0 * US) // US, s["path"],
             s["sha256"], s["epoch"]) for s in r["segments"]]
    check(segs == [(31, 40, "/srv/rec/m-report/m-report-e1.mkv", "aa11", 1),
                   (61, 80, "/srv/rec/m-report/m-report-e2.mkv", "bb22", 2)],
          "segments %s" % segs)
    check(len(r["notices"]) == 1 and r["notices"][0]["version"] == "7" and
          r["notices"][0]["text"].startswith("We record this meeting"), "notice %s" % r["notices"])
    v = r["verification"]
    check(v["ran"] and v["intact"] and v["seals_checked"], "verification %s" % v)


class Tables(html.parser.HTMLParser):
    """Collects the text of each table's rows, by table class."""

    def __init__(self):
        super().__init__()
        self.tables, self.cls, self.row, self.cell = [], None, None, None

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self.tables.append((dict(attrs).get("class"), []))
        elif tag == "tr":
            self.row = []
        elif tag in ("td", "th"):
            self.cell = []

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self.cell is not None:
            self.row.append("".join(self.cell).strip())
            self.cell = None
        elif tag == "tr" and self.row is not None:
            self.tables[-1][1].append(self.row)
            self.row = None

    def handle_data(self, data):
        if self.cell is not None:
            self.cell.append(data)


def test_html_content(tmp):
    state = make_ledger(tmp)
    page = report_html(state, os.path.join(tmp, "report.html"))
    check("<script" not in page.lower(), "an unescaped <script> reached the report")
    check("<b>bold" not in page, "unescaped markup from a name")
    check("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; Bob" in page,
          "bob's escaped name is missing")
    check("&lt;You&gt; may decline &amp; withdraw" in page, "the notice text, escaped")
    parser = Tables()
    parser.feed(page)
    events = [rows for cls, rows in parser.tables if cls == "events"]
    check(len(events) == 1, "one events table")
    rows = events[0][1:]
    check([row[2] for row in rows] == GOLDEN_TYPES, "event rows %s" % [row[2] for row in rows])
    check(BOB_NAME in rows[2][3], "the join row names bob (as text): %r" % rows[2][3])
    for name in ("m-report-e1.mkv", "m-report-e2.mkv", "aa11", "bb22", "Alice Example", "Carol"):
        check(name in page, "%s missing from the report" % name)
    check("Dave" not in page, "another meeting's participant leaked into the report")
    check('id="verification"><span class="ok">INTACT' in page, "verification result missing")
    check(page.rstrip().endswith("</html>"), "truncated document")


def test_svg_well_formed(tmp):
    state = make_ledger(tmp)
    svg = extract_svg(report_html(state, os.path.join(tmp, "report.html")))
    ns = "{http://www.w3.org/2000/svg}"
    check(svg.tag == ns + "svg", "root element %s" % svg.tag)
    titles = [t.text for t in svg.iter(ns + "title")]
    # 4 + 3 + 2 participant intervals, 2 gate, 1 requested, 2 segments
    check(sum(1 for t in titles if t.startswith(("present:", "pending:", "accepted:",
                                                  "declined:", "withdrawn:"))) == 9,
          "participant bars: %s" % titles)
    check(sum(1 for t in titles if t.startswith("gate open:")) == 2, "gate bars")
    check(sum(1 for t in titles if t.startswith("segment ")) == 2, "segment bars")
    labels = ["".join(t.itertext()) for t in svg.iter(ns + "text")]
    check(any(label.startswith("<script>") for label in labels),
          "bob's lane label (as text) missing: %s" % labels)


def test_tampering_is_a_finding(tmp):
    state = make_ledger(tmp)
    ledger = os.path.join(state, "ledger")
    seg = sorted(f for f in os.listdir(ledger) if f.startswith("seg-"))[0]
    path = os.path.join(ledger, seg)
    with open(path, encoding="utf-8") as f:
        text = f.read()
    check('"late-join"' in text, "scenario has a late-join record")
    with open(path, "w", encoding="utf-8") as f:
        f.write(text.replace('"late-join"', '"late-jOin"', 1))
    page = report_html(state, os.path.join(tmp, "report.html"), expect=1)
    check("TAMPERING OR INCONSISTENCY" in page or "INCOMPLETE" in page,
          "the report does not show the finding")
    check("INTACT" not in page, "a tampered ledger reported intact")


def test_usage_errors(tmp):
    state = make_ledger(tmp)
    _, err = ctl("audit", "report", "--state-dir", state, "--output", "x.html", expect=2)
    check("--meeting" in err, "missing --meeting: %s" % err)
    _, err = ctl("audit", "report", "--state-dir", state, "--meeting", "nope", "--output",
                 os.path.join(tmp, "x.html"), expect=2)
    check("no record of meeting" in err, "unknown meeting: %s" % err)
    _, err = ctl("audit", "report", "--state-dir", state, "--meeting", "m-report", "--output",
                 os.path.join(tmp, "x"), "--format", "doc", expect=2)
    check("--format" in err, "bad format: %s" % err)
    out, _ = ctl("audit", "report", "--help")
    check("--meeting" in out and "--state-dir" in out, "--help")


def test_screenshot_and_pdf(tmp):
    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    check(os.path.exists(chromium), "chromium is needed to render the report")
    state = make_ledger(tmp)
    report = os.path.join(artifacts_dir(), "ctl-report.html")
    report_html(state, report)
    shot = os.path.join(artifacts_dir(), "ctl-report.png")
    if os.path.exists(shot):
        os.unlink(shot)
    subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu",
                    "--disable-background-networking", "--screenshot=" + shot,
                    "--window-size=1200,1600", "file://" + report],
                   check=True, timeout=120, capture_output=True)
    with open(shot, "rb") as f:
        check(f.read(8) == b"\x89PNG\r\n\x1a\n", "the screenshot is not a PNG")
    pdf = os.path.join(tmp, "report.pdf")
    ctl("audit", "report", "--state-dir", state, "--meeting", "m-report", "--output", pdf,
        "--format", "pdf")
    with open(pdf, "rb") as f:
        check(f.read(5) == b"%PDF-", "--format pdf did not write a PDF")


if __name__ == "__main__":
    main([test_golden_timeline, test_html_content, test_svg_well_formed,
          test_tampering_is_a_finding, test_usage_errors, test_screenshot_and_pdf])
