# SPDX-License-Identifier: LGPL-2.1-or-later
"""A headless Chromium driven over the DevTools protocol (python3-websockets
only; no npm, no webdriver).

Chromium binds a free DevTools port (--remote-debugging-port=0) and writes
it to DevToolsActivePort in its user data directory. Page URLs (which may
carry a token in their fragment) are sent over the protocol, never put on
the command line."""

import asyncio
import base64
import itertools
import json
import os
import shutil
import subprocess
import tempfile
import time
import urllib.request

import websockets

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")


class Browser:
    def __init__(self):
        self.tmp = tempfile.mkdtemp(prefix="consent-browser-")
        self.proc = None
        self.port = None

    def start(self, timeout=60):
        profile = os.path.join(self.tmp, "profile")
        argv = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu",
                "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--no-first-run", "--disable-dev-shm-usage",
                "--remote-debugging-port=0", "--user-data-dir=" + profile,
                "--window-size=900,1000", "about:blank"]
        env = dict(os.environ)
        env.pop("LD_PRELOAD", None)  # never run chromium under our sanitizers
        self.log = open(os.path.join(self.tmp, "chromium.log"), "wb")
        self.proc = subprocess.Popen(argv, stdout=self.log, stderr=subprocess.STDOUT, env=env)
        active = os.path.join(profile, "DevToolsActivePort")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if os.path.exists(active):
                with open(active) as f:
                    lines = f.read().split("\n")
                if len(lines) >= 2 and lines[0].strip().isdigit():
                    self.port = int(lines[0])
                    return self
            if self.proc.poll() is not None:
                raise RuntimeError("chromium exited (%s):\n%s" % (self.proc.returncode, self.read_log()))
            time.sleep(0.1)
        raise RuntimeError("chromium did not open its DevTools port:\n" + self.read_log())

    def read_log(self):
        with open(os.path.join(self.tmp, "chromium.log"), "rb") as f:
            return f.read().decode("utf-8", "replace")[-4000:]

    def page_ws_url(self):
        with urllib.request.urlopen("http://127.0.0.1:%d/json/list" % self.port, timeout=30) as r:
            targets = json.load(r)
        pages = [t for t in targets if t.get("type") == "page"]
        if not pages:
            raise RuntimeError("no page target in chromium")
        return pages[0]["webSocketDebuggerUrl"]

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc is not None:
            self.log.close()
        shutil.rmtree(self.tmp, ignore_errors=True)


class Page:
    """One page target: commands, events, and a few user-like helpers."""

    def __init__(self, ws):
        self.ws = ws
        self.ids = itertools.count(1)
        self.pending = {}
        self.events = []
        self.event_arrived = asyncio.Event()
        self.reader = asyncio.ensure_future(self._read())

    @classmethod
    async def connect(cls, url):
        ws = await websockets.connect(url, max_size=64 * 1024 * 1024, open_timeout=30)
        page = cls(ws)
        await page.send("Page.enable")
        await page.send("Runtime.enable")
        return page

    async def _read(self):
        try:
            async for raw in self.ws:
                msg = json.loads(raw)
                if "id" in msg and msg["id"] in self.pending:
                    self.pending.pop(msg["id"]).set_result(msg)
                elif "method" in msg:
                    self.events.append(msg)
                    self.event_arrived.set()
        except websockets.ConnectionClosed:
            pass

    async def send(self, method, params=None, timeout=30):
        mid = next(self.ids)
        fut = asyncio.get_running_loop().create_future()
        self.pending[mid] = fut
        await self.ws.send(json.dumps({"id": mid, "method": method, "params": params or {}}))
        msg = await asyncio.wait_for(fut, timeout)
        if "error" in msg:
            raise RuntimeError("%s: %s" % (method, msg["error"]))
        return msg.get("result", {})

    async def wait_event(self, method, timeout=30):
        deadline = time.monotonic() + timeout
        while True:
            for i, ev in enumerate(self.events):
                if ev["method"] == method:
                    return self.events.pop(i)
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError("no %s event" % method)
            self.event_arrived.clear()
            try:
                await asyncio.wait_for(self.event_arrived.wait(), left)
            except asyncio.TimeoutError:
                pass

    def exceptions(self):
        return [e for e in self.events if e["method"] == "Runtime.exceptionThrown"]

    async def navigate(self, url):
        await self.send("Page.navigate", {"url": url})
        await self.wait_event("Page.loadEventFired")

    async def evaluate(self, expression):
        res = await self.send("Runtime.evaluate", {"expression": expression,
                                                   "returnByValue": True})
        if "exceptionDetails" in res:
            raise RuntimeError("%s: %s" % (expression, res["exceptionDetails"]))
        return res["result"].get("value")

    async def text(self, element_id):
        return await self.evaluate(
            "(function(){const e=document.getElementById(%s);return e?e.textContent:null})()"
            % json.dumps(element_id))

    async def until(self, expression, what, timeout=30):
        """Polls @expression until it is truthy (the page updates asynchronously)."""
        deadline = time.monotonic() + timeout
        while True:
            value = await self.evaluate(expression)
            if value:
                return value
            if time.monotonic() > deadline:
                raise AssertionError("page never showed %s" % what)
            await asyncio.sleep(0.1)

    async def click(self, element_id):
        """A real mouse click at the element's centre (it must be visible and
        enabled for the page to react, as for a person)."""
        box = await self.evaluate(
            "(function(){const e=document.getElementById(%s);e.scrollIntoView();"
            "const r=e.getBoundingClientRect();return [r.x+r.width/2,r.y+r.height/2]})()"
            % json.dumps(element_id))
        for kind in ("mousePressed", "mouseReleased"):
            await self.send("Input.dispatchMouseEvent", {
                "type": kind, "x": box[0], "y": box[1], "button": "left", "clickCount": 1})

    async def screenshot(self, path):
        res = await self.send("Page.captureScreenshot", {"format": "png"})
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(base64.b64decode(res["data"]))

    async def close(self):
        await self.ws.close()
        await self.reader
