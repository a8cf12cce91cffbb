#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""A scripted stand-in for consentd's recorder websocket, for the client's tests.

Listens on 127.0.0.1 (port chosen by the kernel) at /v1/ws with subprotocol
consent.v1, optionally with TLS (--cert/--key). Talks over stdio:

  stdout  PORT <n>                       once listening
          CONNECT path=<p> subprotocol=<s> origin=<o or ->
          RECV <json>                    each text message received
          CLOSED                         the client's connection ended
  stdin   send <json>                    send a text message to the live connection
          drop                           cut the live connection (no close handshake)
          heartbeat <period-ms> <lease-ms> <epoch> | heartbeat off
          quit
"""
import argparse
import asyncio
import json
import ssl
import sys

import websockets

state = {"ws": None, "heartbeat": None}


def emit(line):
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


async def handler(ws, path=None):
    path = getattr(ws, "path", path)
    origin = ws.request_headers.get("Origin") or "-"
    emit(f"CONNECT path={path} subprotocol={ws.subprotocol} origin={origin}")
    state["ws"] = ws
    try:
        async for message in ws:
            if isinstance(message, bytes):
                emit("RECV-BINARY")
                continue
            emit("RECV " + message)
    except websockets.ConnectionClosed:
        pass
    finally:
        if state["ws"] is ws:
            state["ws"] = None
        emit("CLOSED")


async def heartbeat(period_ms, lease_ms, epoch):
    while True:
        await asyncio.sleep(period_ms / 1000)
        ws = state["ws"]
        if ws is not None:
            try:
                await ws.send(json.dumps({"type": "lease", "epoch": epoch, "lease-ms": lease_ms}))
            except websockets.ConnectionClosed:
                pass


async def command(line):
    words = line.split(" ", 1)
    ws = state["ws"]
    if words[0] == "send" and ws is not None:
        await ws.send(words[1])
    elif words[0] == "drop" and ws is not None:
        ws.transport.abort()
    elif words[0] == "heartbeat":
        if state["heartbeat"]:
            state["heartbeat"].cancel()
            state["heartbeat"] = None
        args = words[1].split() if len(words) > 1 else ["off"]
        if args[0] != "off":
            state["heartbeat"] = asyncio.ensure_future(
                heartbeat(int(args[0]), int(args[1]), int(args[2])))
    elif words[0] == "quit":
        return False
    return True


async def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--cert")
    parser.add_argument("--key")
    args = parser.parse_args()
    tls = None
    if args.cert:
        tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        tls.load_cert_chain(args.cert, args.key)
    server = await websockets.serve(handler, "127.0.0.1", 0, subprotocols=["consent.v1"],
                                    ssl=tls, ping_interval=None)
    emit("PORT %d" % server.sockets[0].getsockname()[1])
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    while True:
        line = await reader.readline()
        if not line or not await command(line.decode().rstrip("\n")):
            break
    server.close()


if __name__ == "__main__":
    asyncio.run(main())
