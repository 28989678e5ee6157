"""The reverse proxy of docs/deploying.md, tried as clients use it: through nginx with TLS
(a self-signed certificate, so certificates are not checked) to `replyflow serve`.

usage: proxy_story.py PROXY_URL API_KEY ADMIN_PASSWORD

Checks, printing one line each and exiting 1 with the reason at the first that fails:
- /health answers through the proxy;
- /api/stream (Server-Sent Events) gets a new message within 3 s: the proxy does not
  buffer the stream;
- socket.io over a WebSocket (no long-polling) gets a staff reply as `new_message`;
- the admin panel's login cookie is Secure: the server believed the proxy's
  X-Forwarded-Proto (TRUSTED_PROXIES), and the Origin check saw the browser's host.
Prints `story: done` at the end.
"""
import json
import sys
import threading
import time

try:
    import requests
    import socketio
    import urllib3
except ImportError:
    sys.stderr.write('python-socketio is missing: pip install "python-socketio[client]"\n')
    sys.exit(3)

urllib3.disable_warnings()


def fail(reason):
    sys.stderr.write(reason + "\n")
    sys.exit(1)


def main():
    base, api_key, admin_password = sys.argv[1], sys.argv[2], sys.argv[3]
    key = {"X-API-Key": api_key}

    # nginx is started just before this script: give it a few seconds to listen.
    deadline = time.monotonic() + 10
    while True:
        try:
            health = requests.get(base + "/health", verify=False, timeout=5)
            break
        except requests.ConnectionError as error:
            if time.monotonic() > deadline:
                fail("the proxy does not answer: %s" % error)
            time.sleep(0.2)
    if health.status_code != 200:
        fail("GET /health through the proxy: %d %s" % (health.status_code, health.text[:200]))
    print("health: %d" % health.status_code, flush=True)

    # Server-Sent Events: the stream opens, then a message must arrive while it is open.
    stream = requests.get(base + "/api/stream", headers=dict(key, Accept="text/event-stream"), stream=True, verify=False, timeout=10)
    if stream.status_code != 200:
        fail("GET /api/stream through the proxy: %d" % stream.status_code)
    seen = threading.Event()

    def read_stream():
        for line in stream.iter_lines(decode_unicode=True):
            if line and line.startswith("data:") and "hello through the proxy" in line:
                seen.set()
                return

    threading.Thread(target=read_stream, daemon=True).start()
    time.sleep(0.3)
    started = time.monotonic()
    sent = requests.post(
        base + "/send_message", json={"user_id": "proxy-1", "user_name": "Proxy", "message": "hello through the proxy"}, verify=False, timeout=10
    )
    if sent.status_code != 200:
        fail("POST /send_message through the proxy: %d %s" % (sent.status_code, sent.text[:200]))
    if not seen.wait(3):
        fail("the stream did not deliver the message within 3 s: is the proxy buffering it?")
    print("stream: the message arrived in %d ms" % ((time.monotonic() - started) * 1000), flush=True)
    stream.close()

    # socket.io on a WebSocket through the proxy's Upgrade pass-through.
    client = socketio.Client(reconnection=False, ssl_verify=False)
    joined, replies = threading.Event(), []
    got_reply = threading.Event()
    client.on("joined", lambda data: joined.set())

    @client.on("new_message")
    def on_new_message(data):
        replies.append(data)
        got_reply.set()

    client.connect(base, transports=["websocket"], wait_timeout=10)
    if client.transport() != "websocket":
        fail("socket.io is on %s, not a WebSocket" % client.transport())
    client.emit("join_chat", {"user_id": "proxy-1"})
    if not joined.wait(5):
        fail("no `joined` after join_chat over the WebSocket")
    reply = requests.post(
        base + "/api/messages", headers=key, json={"platformChatId": "proxy-1", "source": "app", "text": "staff says hi"}, verify=False, timeout=10
    )
    if reply.status_code != 201:
        fail("POST /api/messages through the proxy: %d %s" % (reply.status_code, reply.text[:200]))
    if not got_reply.wait(5):
        fail("the staff reply did not reach the app's WebSocket within 5 s")
    print("websocket: " + json.dumps(replies[0], ensure_ascii=False)[:120], flush=True)
    client.disconnect()

    # The admin panel behind the proxy: a login from the browser's own origin works, and its
    # cookie is Secure because the proxy said https.
    login = requests.post(
        base + "/admin/login",
        data={"username": "lead", "password": admin_password},
        headers={"Origin": base},
        allow_redirects=False,
        verify=False,
        timeout=10,
    )
    cookie = login.headers.get("Set-Cookie", "")
    if login.status_code != 303 or "replyflow_session=" not in cookie:
        fail("POST /admin/login through the proxy: %d, Set-Cookie: %r, %s" % (login.status_code, cookie, login.text[:200]))
    if "secure" not in cookie.lower():
        fail("the session cookie is not Secure behind the TLS proxy: %r" % cookie)
    print("login: the session cookie is Secure", flush=True)
    print("story: done", flush=True)


if __name__ == "__main__":
    main()
