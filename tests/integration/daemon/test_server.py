#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""consentd as a server: command line, config checking, state directory,
TLS really on, origin allow-list, the consent page and its headers,
/healthz and /metrics, clean shutdown."""

import http.client
import os
import socket
import ssl
import stat
import subprocess
import sys
import tempfile
import unittest

import websockets

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from consentd_fixture import Client, Daemon, consentd_path, run  # noqa: E402


def make_cert(directory):
    cert, key = os.path.join(directory, "cert.pem"), os.path.join(directory, "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-subj", "/CN=127.0.0.1", "-keyout", key, "-out", cert],
                   check=True, capture_output=True)
    return cert, key


class CommandLineTest(unittest.TestCase):
    def consentd(self, *args):
        return subprocess.run([consentd_path(), *args], capture_output=True, text=True, timeout=60)

    def test_version(self):
        r = self.consentd("--version")
        self.assertEqual(r.returncode, 0)
        self.assertRegex(r.stdout, r"^consentd \d+\.\d+")

    def test_check_config(self):
        with tempfile.TemporaryDirectory() as tmp:
            good = os.path.join(tmp, "good.conf")
            with open(good, "w") as f:
                f.write("[server]\nlisten=127.0.0.1:9000\norigins=https://a.example;https://b.example\n"
                        "[limits]\nmax-message-bytes=4096\n")
            self.assertEqual(self.consentd("--check-config", "--config", good).returncode, 0)
            bad_cases = {
                "[server]\nlisten=localhost:80\n": 2,
                "[limits]\n\nmax-message-bytes=12\n": 3,
                "[limits]\nmessages-per-second=fast\n": 2,
                "[server]\nlisten=127.0.0.1:1\n[nope]\nx=1\n": 3,
                "[limits]\nmax-mesage-bytes=4096\n": 2,
                "# comment\n[tls]\ncert=/x.pem\n": 2,
                "[server]\norigins=evil.example\n": 2,
                "[server]\nthis is not a key\n": 2,
                "[limits]\nping-interval-s=60\nidle-timeout-s=30\n": 3,
            }
            for text, line in bad_cases.items():
                bad = os.path.join(tmp, "bad.conf")
                with open(bad, "w") as f:
                    f.write(text)
                r = self.consentd("--check-config", "--config", bad)
                self.assertEqual(r.returncode, 1, text)
                self.assertTrue(r.stderr.startswith("%s:%d: " % (bad, line)), (text, r.stderr))

    def test_bad_listen_flag(self):
        r = self.consentd("--listen", "nowhere", "--state-dir", "/nonexistent-consentd-test")
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("ADDR:PORT", r.stderr)


class StateDirTest(unittest.TestCase):
    def test_layout_and_modes(self):
        with tempfile.TemporaryDirectory() as tmp:
            env = {"XDG_STATE_HOME": tmp}
            d = Daemon(state_dir=os.path.join(tmp, "consentgate"), env=env).start()
            try:
                st = d.state_dir
                for name in ("secret", "admin.token", "audit.key"):
                    mode = stat.S_IMODE(os.stat(os.path.join(st, name)).st_mode)
                    self.assertEqual(mode, 0o600, name)
                self.assertEqual(stat.S_IMODE(os.stat(os.path.join(st, "recordings")).st_mode), 0o750)
                for name in ("ledger", "keys", "policy.conf"):
                    self.assertTrue(os.path.exists(os.path.join(st, name)), name)
                with open(os.path.join(st, "secret")) as f:
                    secret = f.read()
                token = d.admin_token
            finally:
                self.assertEqual(d.stop(), 0)
            # Secrets survive a restart unchanged; nothing secret is logged.
            log = d.log()
            d.start()
            try:
                with open(os.path.join(st, "secret")) as f:
                    self.assertEqual(f.read(), secret)
                self.assertEqual(d.admin_token, token)
            finally:
                self.assertEqual(d.stop(), 0)
            self.assertNotIn(token, log + d.log())
            self.assertNotIn(secret.strip(), log + d.log())
            d.cleanup()


class DefaultStateDirTest(unittest.TestCase):
    def test_xdg_state_home(self):
        """Without --state-dir or a config, state goes to $XDG_STATE_HOME/consentgate."""
        import signal
        import time
        with tempfile.TemporaryDirectory() as tmp:
            env = dict(os.environ, XDG_STATE_HOME=tmp, HOME=tmp)
            log = os.path.join(tmp, "log")
            with open(log, "wb") as out:
                p = subprocess.Popen([consentd_path(), "--listen", "127.0.0.1:0"], env=env,
                                     stdout=out, stderr=subprocess.STDOUT)
            try:
                deadline = time.monotonic() + 60
                while "listening on" not in open(log).read():
                    self.assertIsNone(p.poll(), open(log).read())
                    self.assertLess(time.monotonic(), deadline)
                    time.sleep(0.05)
                state = os.path.join(tmp, "consentgate")
                for name in ("secret", "admin.token", "audit.key", "policy.conf", "recordings"):
                    self.assertTrue(os.path.exists(os.path.join(state, name)), name)
            finally:
                p.send_signal(signal.SIGTERM)
                self.assertEqual(p.wait(timeout=60), 0)


class TlsTest(unittest.TestCase):
    def test_tls_really_on(self):
        with tempfile.TemporaryDirectory() as tmp:
            cert, key = make_cert(tmp)
            creds = os.path.join(tmp, "creds")
            os.mkdir(creds)
            os.rename(key, os.path.join(creds, "consentd.key"))
            # The key comes from $CREDENTIALS_DIRECTORY (systemd LoadCredential=).
            conf = "[tls]\ncert=%s\nkey=consentd.key\n" % cert
            d = Daemon(config=conf, env={"CREDENTIALS_DIRECTORY": creds})
            d.start()
            try:
                self.assertEqual(d.scheme, "https")
                # A plain HTTP client gets no HTTP answer.
                conn = http.client.HTTPConnection("127.0.0.1", d.port, timeout=30)
                with self.assertRaises((http.client.HTTPException, ConnectionError, OSError)):
                    conn.request("GET", "/healthz")
                    conn.getresponse()
                conn.close()
                # A TLS client that trusts the cert works (and verifies it).
                ctx = ssl.create_default_context(cafile=cert)
                ctx.check_hostname = False
                d.ssl_context = ctx
                status, data, _ = d.http("GET", "/healthz", token=None)
                self.assertEqual((status, data["status"]), (200, "ok"))
                d.meeting("tls")
                token = d.token("tls", "alice")

                async def ws():
                    c = await Client.connect(d, token, ssl_context=ctx)
                    await c.expect("welcome")
                    await c.close()
                    # Plain ws:// to a TLS port fails.
                    with self.assertRaises(Exception):
                        await websockets.connect("ws://127.0.0.1:%d/v1/ws" % d.port,
                                                 subprotocols=["consent.v1"], open_timeout=10)
                run(ws())
            finally:
                self.assertEqual(d.stop(), 0)
                d.cleanup()

    def test_missing_cert_refuses_start(self):
        d = Daemon(config="[tls]\ncert=/nonexistent/c.pem\nkey=/nonexistent/k.pem\n")
        with self.assertRaises(RuntimeError) as e:
            d.start()
        self.assertIn("/nonexistent/c.pem", str(e.exception))
        d.cleanup()


class OriginAndPageTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.d = Daemon(config="[server]\norigins=https://meet.example.org\n").start()
        cls.d.meeting("web")

    @classmethod
    def tearDownClass(cls):
        rc = cls.d.stop()
        cls.d.cleanup()
        assert rc == 0

    def test_origins(self):
        d = self.d
        token = d.token("web", "alice")

        async def go():
            for origin in ("https://meet.example.org", None, "http://127.0.0.1:%d" % d.port):
                c = await Client.connect(d, token, origin=origin)
                await c.expect("welcome")
                await c.close()
            for origin in ("https://evil.example", "null", "https://meet.example.org.evil.example"):
                with self.assertRaises(websockets.InvalidStatusCode) as e:
                    await Client.connect(d, token, origin=origin)
                self.assertEqual(e.exception.status_code, 403)
        run(go())

    def test_page_and_headers(self):
        d = self.d
        for path, ctype, needle in (("/", "text/html", 'id="accept"'),
                                    ("/consent.js", "text/javascript", "location.hash"),
                                    ("/consent.css", "text/css", "button")):
            status, body, hdrs = d.http("GET", path, token=None)
            self.assertEqual(status, 200, path)
            self.assertTrue(hdrs["content-type"].startswith(ctype))
            self.assertIn(needle, body)
            csp = hdrs["content-security-policy"]
            for directive in ("default-src 'none'", "script-src 'self'", "style-src 'self'",
                              "connect-src 'self'", "frame-ancestors 'none'"):
                self.assertIn(directive, csp)
            self.assertEqual(hdrs["x-content-type-options"], "nosniff")
            self.assertEqual(hdrs["referrer-policy"], "no-referrer")
        status, body, _ = d.http("GET", "/", token=None)
        for el in ("accept", "decline", "withdraw", "receipt", "status", "notice-controller",
                   "notice-purpose", "notice-storage", "notice-retention", "notice-text",
                   "notice-version"):
            self.assertIn('id="%s"' % el, body)
        self.assertNotIn("<script>", body, "no inline script under the CSP")
        for path in ("/../state/secret", "/index.html/../../x", "/nothing.js"):
            self.assertEqual(d.http("GET", path, token=None)[0], 404, path)
        self.assertEqual(d.http("POST", "/", token=None, raw=b"x")[0], 405)

    def test_health_and_metrics(self):
        d = self.d
        self.assertEqual(d.http("GET", "/healthz", token=None)[0], 200)
        status, text, hdrs = d.http("GET", "/metrics", token=None)
        self.assertEqual(status, 200)
        self.assertTrue(hdrs["content-type"].startswith("text/plain"))
        for name in ("consentd_connections ", "consentd_meetings ", "consentd_gate_opens_total",
                     "consentd_gate_closes_total", "consentd_ledger_ack_seconds_bucket",
                     "consentd_decisions_total"):
            self.assertIn(name, text)


class NotifyTest(unittest.TestCase):
    def test_sd_notify(self):
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "notify")
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
            sock.bind(path)
            sock.settimeout(60)
            d = Daemon(env={"NOTIFY_SOCKET": path, "WATCHDOG_USEC": "400000"})
            d.start()
            seen = []
            try:
                while not ({"READY=1", "WATCHDOG=1"} <= set(seen)):
                    seen += sock.recv(4096).decode().split("\n")
                self.assertEqual(d.stop(), 0)
                while "STOPPING=1" not in seen:
                    seen += sock.recv(4096).decode().split("\n")
            finally:
                sock.close()
                d.cleanup()


class ShutdownTest(unittest.TestCase):
    def test_sigterm_with_and_without_connections(self):
        for connected in (False, True):
            d = Daemon().start()
            try:
                if connected:
                    d.meeting("bye")
                    s = socket.create_connection(("127.0.0.1", d.port))

                    async def hold():
                        c = await Client.connect(d, d.token("bye", "rec", "recorder"))
                        await c.expect("gate")
                        return c
                    import asyncio
                    loop = asyncio.new_event_loop()
                    c = loop.run_until_complete(hold())
                    self.assertEqual(d.stop(), 0)
                    loop.run_until_complete(c.expect_close())
                    loop.close()
                    s.close()
                else:
                    self.assertEqual(d.stop(), 0)
                self.assertIn("stopped", d.log())
            finally:
                d.cleanup()


if __name__ == "__main__":
    unittest.main(verbosity=2)
