# SPDX-License-Identifier: LGPL-2.1-or-later
"""Shared helpers for tests that run the real consentd.

Daemon: starts consentd on a free loopback port (it binds port 0 and logs
"listening on SCHEME://HOST:PORT"), with a temporary state directory, and
talks to its admin API. Client: a consent.v1 websocket client.

Other suites (end-to-end, browser) import this module; keep it stdlib +
python3-websockets only.
"""

import asyncio
import http.client
import json
import os
import re
import signal
import ssl
import subprocess
import sys
import tempfile
import time

import websockets

SOURCE_ROOT = os.environ.get("CONSENT_SOURCE_ROOT", os.path.abspath(
    os.path.join(os.path.dirname(__file__), "..", "..", "..")))
BUILD_ROOT = os.environ.get("CONSENT_BUILD_ROOT", os.path.join(SOURCE_ROOT, "build"))

LISTEN_RE = re.compile(r"listening on (https?)://(\[[^\]]+\]|[^:]+):(\d+)")


def consentd_path():
    return os.environ.get("CONSENTD") or os.path.join(BUILD_ROOT, "daemon", "consentd", "consentd")


def web_dir():
    return os.environ.get("CONSENTD_WEB_DIR") or os.path.join(SOURCE_ROOT, "daemon", "web")


class Daemon:
    """One consentd process with its own state directory."""

    def __init__(self, state_dir=None, config=None, args=(), env=None, wrapper=()):
        self._tmp = None
        if state_dir is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="consentd-test-")
            state_dir = os.path.join(self._tmp.name, "state")
        self.state_dir = state_dir
        self.config_text = config
        self.args = list(args)
        self.extra_env = env or {}
        # argv prefix that execs consentd in the end (same pid), e.g. a
        # mount-namespace helper; tests that need one pass it.
        self.wrapper = list(wrapper)
        self.proc = None
        self.port = None
        self.scheme = None
        self.log_path = None
        self.ssl_context = None

    # -- lifecycle ---------------------------------------------------------
    def start(self, timeout=60):
        os.makedirs(os.path.dirname(self.state_dir), exist_ok=True)
        argv = [consentd_path(), "--state-dir", self.state_dir, "--listen", "127.0.0.1:0",
                "--web-dir", web_dir()]
        if self.config_text is not None:
            conf = os.path.join(os.path.dirname(self.state_dir), "consentd.conf")
            with open(conf, "w") as f:
                f.write(self.config_text)
            argv += ["--config", conf]
        argv = self.wrapper + argv + self.args
        env = dict(os.environ)
        for var in ("NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID", "LISTEN_FDS"):
            env.pop(var, None)
        env["G_MESSAGES_DEBUG"] = env.get("G_MESSAGES_DEBUG", "")
        env.update(self.extra_env)
        self.log_path = os.path.join(os.path.dirname(self.state_dir),
                                     "consentd-%d.log" % int(time.time() * 1000))
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(argv, stdout=self._log, stderr=subprocess.STDOUT, env=env)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            m = LISTEN_RE.search(self.log())
            if m:
                self.scheme, self.port = m.group(1), int(m.group(3))
                return self
            if self.proc.poll() is not None:
                raise RuntimeError("consentd exited with %s:\n%s" % (self.proc.returncode, self.log()))
            time.sleep(0.05)
        raise RuntimeError("consentd did not start:\n" + self.log())

    def log(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def stop(self, sig=signal.SIGTERM, timeout=60):
        """Stops the daemon; returns its exit status (negative: killed by a signal)."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            rc = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = self.proc.wait()
        self._log.close()
        self.proc = None
        if rc != 0 and sig != signal.SIGKILL:
            # Sanitizer reports and crashes end up in the test log.
            sys.stderr.write("consentd exited with %s; its log:\n%s\n" % (rc, self.log()[-20000:]))
        return rc

    def kill(self):
        return self.stop(signal.SIGKILL)

    def cleanup(self):
        if self.proc is not None:
            self.kill()
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.cleanup()

    # -- admin API ---------------------------------------------------------
    @property
    def admin_token(self):
        with open(os.path.join(self.state_dir, "admin.token")) as f:
            return f.read().strip()

    def http(self, method, path, body=None, headers=None, token=True, raw=None):
        """Returns (status, parsed JSON body or text, headers dict)."""
        if self.scheme == "https":
            conn = http.client.HTTPSConnection("127.0.0.1", self.port, timeout=30,
                                               context=self.ssl_context or _insecure_context())
        else:
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        hdrs = dict(headers or {})
        if token is True:
            hdrs["Authorization"] = "Bearer " + self.admin_token
        elif token:
            hdrs["Authorization"] = "Bearer " + token
        data = raw
        if body is not None:
            data = json.dumps(body).encode()
        if data is not None:
            hdrs.setdefault("Content-Type", "application/json")
        conn.request(method, path, body=data, headers=hdrs)
        resp = conn.getresponse()
        text = resp.read().decode("utf-8", "replace")
        out = {k.lower(): v for k, v in resp.getheaders()}
        conn.close()
        try:
            parsed = json.loads(text) if out.get("content-type", "").startswith("application/json") else text
        except ValueError:
            parsed = text
        return resp.status, parsed, out

    def ok(self, method, path, body=None):
        status, data, _ = self.http(method, path, body)
        if status not in (200, 201):
            raise AssertionError("%s %s -> %s %s" % (method, path, status, data))
        return data

    def meeting(self, meeting, **body):
        return self.ok("PUT", "/v1/meetings/" + meeting, body)

    def join(self, meeting, participant, name=None, role="guest"):
        body = {"role": role}
        if name:
            body["display-name"] = name
        return self.ok("PUT", "/v1/meetings/%s/participants/%s" % (meeting, participant), body)

    def leave(self, meeting, participant):
        return self.ok("DELETE", "/v1/meetings/%s/participants/%s" % (meeting, participant))

    def request_recording(self, meeting, action="request"):
        return self.ok("POST", "/v1/meetings/%s/recording" % meeting, {"action": action})

    def state(self, meeting):
        return self.ok("GET", "/v1/meetings/" + meeting)

    def token(self, meeting, participant, role="participant", ttl=600):
        return self.ok("POST", "/v1/tokens", {"meeting": meeting, "participant": participant,
                                               "role": role, "ttl": ttl})["token"]

    def ws_url(self):
        return "%s://127.0.0.1:%d/v1/ws" % ("wss" if self.scheme == "https" else "ws", self.port)


def _insecure_context():
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


class Client:
    """A consent.v1 websocket client (asyncio). Lease heartbeats are kept
    apart so tests can wait for the messages they care about."""

    def __init__(self, ws):
        self.ws = ws
        self.leases = []
        self.seen = []

    @classmethod
    async def connect(cls, daemon, token=None, hello=True, origin=None, ssl_context=None,
                      subprotocols=("consent.v1",), **kw):
        extra = {}
        if daemon.scheme == "https":
            extra["ssl"] = ssl_context or _insecure_context()
        ws = await websockets.connect(daemon.ws_url(), subprotocols=list(subprotocols),
                                      origin=origin, open_timeout=30, max_size=None, **extra, **kw)
        c = cls(ws)
        if token is not None and hello:
            await c.send({"type": "hello", "token": token})
        return c

    async def send(self, msg):
        await self.ws.send(json.dumps(msg) if isinstance(msg, dict) else msg)

    async def recv(self, timeout=30):
        while True:
            raw = await asyncio.wait_for(self.ws.recv(), timeout)
            msg = json.loads(raw)
            self.seen.append(msg)
            if msg.get("type") == "lease":
                self.leases.append(msg)
                continue
            return msg

    async def expect(self, mtype, timeout=30, **fields):
        """Skips other messages until one of @mtype (matching @fields) arrives."""
        deadline = asyncio.get_event_loop().time() + timeout
        while True:
            left = deadline - asyncio.get_event_loop().time()
            if left <= 0:
                raise AssertionError("no %s %s; saw %s" % (mtype, fields, self.seen[-10:]))
            msg = await self.recv(left)
            if msg.get("type") == mtype and all(msg.get(k) == v for k, v in fields.items()):
                return msg

    async def expect_close(self, timeout=30):
        """Waits for the server to close; returns (close code, messages before it)."""
        msgs = []
        try:
            while True:
                msgs.append(json.loads(await asyncio.wait_for(self.ws.recv(), timeout)))
        except websockets.ConnectionClosed as e:
            return e.code, msgs

    async def close(self):
        await self.ws.close()


def run(coro):
    return asyncio.run(coro)
