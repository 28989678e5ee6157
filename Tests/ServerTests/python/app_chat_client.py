"""An app's chat screen, played by python-socketio: joins the user's room and prints
the first COUNT (default 1) `new_message` events it receives, one JSON line each.

usage: app_chat_client.py URL USER_ID TRANSPORT(polling|websocket|upgrade) [TIMEOUT_SECONDS] [COUNT]

polling: long-polling only; websocket: WebSocket only; upgrade: polling, then upgraded
to WebSocket (what socket.io libraries do by default).

Prints `READY` once `joined` arrived, then the messages; exits 1 with a reason on stderr
when anything does not happen in time.
"""
import json
import sys
import threading

try:
    import socketio
except ImportError:
    sys.stderr.write('python-socketio is missing: pip install "python-socketio[client]"\n')
    sys.exit(3)


def main():
    url, user_id, transport = sys.argv[1], sys.argv[2], sys.argv[3]
    timeout = float(sys.argv[4]) if len(sys.argv) > 4 else 15.0
    count = int(sys.argv[5]) if len(sys.argv) > 5 else 1
    transports = {"polling": ["polling"], "websocket": ["websocket"], "upgrade": ["polling", "websocket"]}[transport]
    # 20 s per HTTP request, not engine.io's 5: the full suite on two cores can keep the
    # server from answering a poll for a few seconds.
    client = socketio.Client(reconnection=False, request_timeout=20)
    joined = threading.Event()
    received = []
    got_messages = threading.Event()

    @client.on("joined")
    def on_joined(data):
        joined.set()

    @client.on("new_message")
    def on_new_message(data):
        received.append(data)
        if len(received) >= count:
            got_messages.set()

    client.connect(url, transports=transports, wait_timeout=timeout)
    client.emit("join_chat", {"user_id": user_id})
    if not joined.wait(timeout):
        sys.stderr.write("no `joined` after join_chat\n")
        client.disconnect()
        sys.exit(1)
    print("READY transport=" + client.transport(), flush=True)
    if not got_messages.wait(timeout):
        sys.stderr.write("%d of %d `new_message` events within %.0f s\n" % (len(received), count, timeout))
        client.disconnect()
        sys.exit(1)
    for message in received[:count]:
        print(json.dumps(message, ensure_ascii=False), flush=True)
    client.disconnect()


if __name__ == "__main__":
    main()
