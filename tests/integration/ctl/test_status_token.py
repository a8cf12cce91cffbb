#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""consentctl status and token against a real consentd (admin API on a free
loopback port, admin token read from the state directory)."""

import base64
import json
import os
import shutil
import socket
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "daemon"))

from consentd_fixture import Client, Daemon, run  # noqa: E402
from ctl_helpers import check, ctl, main  # noqa: E402


def claims(token):
    part = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


async def hello(d, token):
    c = await Client.connect(d, token)
    try:
        return await c.expect("welcome")
    finally:
        await c.close()


def server(d):
    return "http://127.0.0.1:%d" % d.port


def test_status(tmp):
    with Daemon(state_dir=os.path.join(tmp, "state")) as d:
        d.meeting("m1", title="Weekly sync")
        try:
            d.join("m1", "alice", name="Alice \x1b[31mRed", role="host")
            hostile = True
        except AssertionError:  # consentd may refuse control characters outright
            d.join("m1", "alice", name="Alice Red", role="host")
            hostile = False
        d.join("m1", "bob", name="Bøb")
        out, _ = ctl("status", "m1", "--server", server(d), "--state-dir", d.state_dir)
        check("Meeting:   m1 (Weekly sync)" in out, "header: %r" % out)
        check("Gate:      closed" in out and "Recording: not requested" in out, "gate: %r" % out)
        check("alice" in out and "Bøb" in out and "host" in out, "participants: %r" % out)
        check("\x1b" not in out, "a control character reached the terminal")
        if hostile:
            check("Alice ?[31mRed" in out, "control characters are shown as '?': %r" % out)
        d.request_recording("m1")
        out, _ = ctl("status", "m1", "--json", "--server", server(d), "--state-dir", d.state_dir)
        state = json.loads(out)
        check(state["meeting"] == "m1" and state["recording"] is True, "json: %s" % state)
        answers = {p["id"]: p["answer"] for p in state["participants"]}
        check(answers == {"alice": "pending", "bob": "pending"}, "answers %s" % answers)
        check(all(p["since"] for p in state["participants"]), "since")
        out, _ = ctl("status", "m1", "--server", server(d), "--state-dir", d.state_dir)
        check("Recording: requested" in out and "pending" in out, "after request: %r" % out)
        d.meeting("m2", title="Other")
        out, _ = ctl("status", "--server", server(d), "--state-dir", d.state_dir)
        rows = [line.split() for line in out.splitlines()[1:]]
        check(rows == [["m1", "closed", "yes", "2"], ["m2", "closed", "no", "0"]],
              "meeting list: %r" % out)
        out, _ = ctl("status", "--json", "--server", server(d), "--state-dir", d.state_dir)
        check([m["meeting"] for m in json.loads(out)["meetings"]] == ["m1", "m2"],
              "meeting list json: %r" % out)


def test_status_errors(tmp):
    with Daemon(state_dir=os.path.join(tmp, "state")) as d:
        _, err = ctl("status", "a", "b", "--server", server(d), "--state-dir", d.state_dir,
                     expect=2)
        check("MEETING" in err, "two meetings: %r" % err)
        _, err = ctl("status", "nope", "--server", server(d), "--state-dir", d.state_dir,
                     expect=2)
        check("404" in err and "unknown-meeting" in err, "unknown meeting: %r" % err)
        other = os.path.join(tmp, "other")
        os.makedirs(other)
        with open(os.path.join(other, "admin.token"), "w") as f:
            f.write("A" * 43 + "\n")
        _, err = ctl("status", "m1", "--server", server(d), "--state-dir", other, expect=2)
        check("refused the admin token" in err and other in err, "wrong token: %r" % err)
        _, err = ctl("status", "m1", "--server", server(d), "--state-dir",
                     os.path.join(tmp, "missing"), expect=2)
        check("admin token" in err, "no token file: %r" % err)
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()  # nothing listens there now
    _, err = ctl("status", "m1", "--server", "http://127.0.0.1:%d" % port, "--state-dir",
                 os.path.join(tmp, "state"), expect=2)
    check("cannot reach consentd" in err, "server down: %r" % err)
    _, err = ctl("status", "m1", "--server", "ftp://x", "--state-dir",
                 os.path.join(tmp, "state"), expect=2)
    check("invalid server URL" in err, "bad URL: %r" % err)


def test_token(tmp):
    with Daemon(state_dir=os.path.join(tmp, "state")) as d:
        d.meeting("m1")
        d.join("m1", "alice")
        common = ["--meeting", "m1", "--server", server(d), "--state-dir", d.state_dir]
        out, err = ctl("token", "--participant", "alice", "--ttl", "600", *common)
        token = out.strip()
        check(out.count("\n") == 1 and token.startswith("ct1.") and err == "",
              "token output: %r %r" % (out, err))
        c = claims(token)
        check(c["m"] == "m1" and c["p"] == "alice" and c["r"] == "participant"
              and c["exp"] - c["iat"] == 600, "claims %s" % c)
        welcome = run(hello(d, token))
        check(welcome["participant"] == "alice", "welcome %s" % welcome)

        out, _ = ctl("token", "--participant", "alice", "--local", *common)
        local = out.strip()
        check(local != token and run(hello(d, local))["participant"] == "alice",
              "--local token works")

        out, _ = ctl("token", "--participant", "rec1", "--role", "recorder", "--json", *common)
        j = json.loads(out)
        check(claims(j["token"])["r"] == "recorder" and j["expires"] == claims(j["token"])["exp"],
              "recorder token: %s" % j)

        _, err = ctl("token", "--participant", "alice", "--role", "king", *common, expect=2)
        check("--role" in err, "bad role: %r" % err)
        _, err = ctl("token", "--participant", "../x", *common, expect=2)
        check("ids" in err, "bad id: %r" % err)
        _, err = ctl("token", "--participant", "alice", "--ttl", "0", *common, expect=2)
        check("--ttl" in err, "bad ttl: %r" % err)
        _, err = ctl("token", "--participant", "alice", "--meeting", "m2", "--server",
                     server(d), "--state-dir", d.state_dir, expect=2)
        check("unknown-meeting" in err, "token for an unknown meeting: %r" % err)
        nosecret = os.path.join(tmp, "nosecret")
        shutil.copytree(d.state_dir, nosecret, ignore=shutil.ignore_patterns("secret", "lock"))
        _, err = ctl("token", "--participant", "alice", "--local", "--meeting", "m1",
                     "--state-dir", nosecret, expect=2)
        check("secret" in err, "--local without a secret: %r" % err)


def test_status_over_tls(tmp):
    """https with the server's certificate pinned by --ca-file; refused without it."""
    cert, key = os.path.join(tmp, "cert.pem"), os.path.join(tmp, "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", key, "-out", cert], check=True, capture_output=True, timeout=60)
    conf = "[tls]\ncert=%s\nkey=%s\n" % (cert, key)
    with Daemon(state_dir=os.path.join(tmp, "state"), config=conf) as d:
        check(d.scheme == "https", "consentd did not start with TLS")
        d.ssl_context = __import__("ssl").create_default_context(cafile=cert)
        d.meeting("m1")
        url = "https://127.0.0.1:%d" % d.port
        out, _ = ctl("status", "m1", "--server", url, "--ca-file", cert, "--state-dir",
                     d.state_dir)
        check("Meeting:   m1" in out, "status over https: %r" % out)
        _, err = ctl("status", "m1", "--server", url, "--state-dir", d.state_dir, expect=2)
        check("--ca-file" in err, "an untrusted certificate must fail: %r" % err)
        _, err = ctl("status", "m1", "--server", "http://127.0.0.1:%d" % d.port, "--state-dir",
                     d.state_dir, expect=2)
        check(err.strip() != "", "plain http to a TLS port fails with a message")


if __name__ == "__main__":
    main([test_status, test_status_errors, test_token, test_status_over_tls])
