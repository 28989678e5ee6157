#!/usr/bin/env python3
"""Checks a Socket.IO server running SocketIOConformanceHandlers with a real client.

Usage: client_check.py [URL]   (default http://127.0.0.1:3000)

Uses python-socketio's synchronous client twice: once with the default transports (HTTP
long-polling, then upgrade to WebSocket) and once WebSocket-only. Each run checks the `auth`
echo on `/` and `/custom`, `message` -> `message-back`, `message-with-ack` through
`sio.call`, then disconnects. Exits 0 on success; otherwise prints what failed and exits 1
(2 if python-socketio is missing). A watchdog ends the process after 50 s whatever happens.
"""

import os
import queue
import sys
import threading
import time

HARD_TIMEOUT_SECONDS = 50
STEP_TIMEOUT_SECONDS = 15  # generous: the whole suite shares two cores with this client


def _watchdog():
    time.sleep(HARD_TIMEOUT_SECONDS)
    print(f"FAIL: client_check.py did not finish within {HARD_TIMEOUT_SECONDS} s", flush=True)
    os._exit(3)


threading.Thread(target=_watchdog, daemon=True).start()

try:
    import socketio  # noqa: E402
except ImportError:
    print('FAIL: python-socketio is not installed; run: pip install "python-socketio[client]"', flush=True)
    sys.exit(2)


class CheckFailed(Exception):
    pass


def expect(condition, message):
    if not condition:
        raise CheckFailed(message)


def run(url, transports, label):
    # 20 s per HTTP request, not engine.io's 5: the full suite on two cores can keep the
    # server from answering a poll for a few seconds.
    sio = socketio.Client(reconnection=False, request_timeout=20)
    inbox = {"/": queue.Queue(), "/custom": queue.Queue()}

    for namespace in inbox:
        def on_auth(data, namespace=namespace):
            inbox[namespace].put(("auth", data))

        def on_message_back(*args, namespace=namespace):
            inbox[namespace].put(("message-back", list(args)))

        sio.on("auth", on_auth, namespace=namespace)
        sio.on("message-back", on_message_back, namespace=namespace)

    # Why a connection went away, so a failure says so instead of only timing out.
    disconnects = []

    def on_disconnect(*reason):
        disconnects.append(reason[0] if reason else "unknown")

    sio.on("disconnect", on_disconnect, namespace="/")

    def next_event(namespace, name):
        try:
            event, data = inbox[namespace].get(timeout=STEP_TIMEOUT_SECONDS)
        except queue.Empty:
            dropped = f" (disconnected: {disconnects})" if disconnects else ""
            raise CheckFailed(f"[{label}] no '{name}' event on {namespace} within {STEP_TIMEOUT_SECONDS} s{dropped}")
        expect(event == name, f"[{label}] expected '{name}' on {namespace}, got '{event}' with {data!r}")
        return data

    auth = {"token": "abc-123"}
    sio.connect(
        url,
        transports=transports,
        namespaces=["/", "/custom"],
        auth=auth,
        wait_timeout=STEP_TIMEOUT_SECONDS,
    )
    try:
        for namespace in ("/", "/custom"):
            got = next_event(namespace, "auth")
            expect(got == auth, f"[{label}] auth echo on {namespace}: expected {auth!r}, got {got!r}")

        if transports != ["websocket"]:
            # Give the polling -> websocket upgrade time to finish, then check it happened.
            deadline = time.time() + STEP_TIMEOUT_SECONDS
            while sio.transport() != "websocket" and time.time() < deadline:
                time.sleep(0.05)
        expect(
            sio.transport() == "websocket",
            f"[{label}] expected to end up on websocket, transport is {sio.transport()!r}",
        )

        for namespace in ("/", "/custom"):
            payload = [1, "two", {"3": [True, None]}, [4.5]]
            sio.emit("message", tuple(payload), namespace=namespace)
            got = next_event(namespace, "message-back")
            expect(got == payload, f"[{label}] message-back on {namespace}: expected {payload!r}, got {got!r}")

            unicode_text = "héllo \u2603 \"quoted\" \\ \n"
            sio.emit("message", unicode_text, namespace=namespace)
            got = next_event(namespace, "message-back")
            expect(got == [unicode_text], f"[{label}] unicode echo on {namespace}: got {got!r}")

            got = sio.call("message-with-ack", ("a", 2), namespace=namespace, timeout=STEP_TIMEOUT_SECONDS)
            # python-socketio returns a tuple for several ack arguments.
            expect(
                tuple(got) == ("a", 2) if isinstance(got, (tuple, list)) else False,
                f"[{label}] message-with-ack on {namespace}: expected ('a', 2), got {got!r}",
            )

            got = sio.call("message-with-ack", {"k": "v"}, namespace=namespace, timeout=STEP_TIMEOUT_SECONDS)
            expect(got == {"k": "v"}, f"[{label}] single-arg ack on {namespace}: got {got!r}")

            blob = bytes(range(256))
            sio.emit("message", blob, namespace=namespace)
            got = next_event(namespace, "message-back")
            expect(got == [blob], f"[{label}] binary echo on {namespace}: got {got!r}")

        # Let a few 300 ms heartbeats pass to make sure the client answers pings in time.
        time.sleep(1.0)
        expect(sio.connected, f"[{label}] connection dropped during the heartbeat check")
        sio.emit("message", "still there", namespace="/")
        got = next_event("/", "message-back")
        expect(got == ["still there"], f"[{label}] echo after heartbeats: got {got!r}")
    finally:
        sio.disconnect()
    print(f"ok: {label}", flush=True)


def main():
    url = sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:3000"
    try:
        run(url, ["polling", "websocket"], "polling+upgrade")
        run(url, ["websocket"], "websocket-only")
    except CheckFailed as failure:
        print(f"FAIL: {failure}", flush=True)
        os._exit(1)
    except Exception as error:  # connection errors, timeouts from sio.call, ...
        print(f"FAIL: {type(error).__name__}: {error}", flush=True)
        os._exit(1)
    print("all checks passed", flush=True)
    os._exit(0)


if __name__ == "__main__":
    main()
