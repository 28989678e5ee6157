"""An app's chat screen that stays open across server restarts, played by python-socketio
with its default reconnection settings: joins the user's room on every connect, as apps
do, and prints a line for each step.

usage: reconnecting_chat_client.py URL USER_ID TRANSPORT(polling|websocket) [SECONDS]

Prints `JOINED n` when the n-th connection's `joined` arrived, `MESSAGE text` for each
`new_message` and `DISCONNECTED reason` when a connection drops; runs for SECONDS
(default 60), then disconnects.
"""
import sys

try:
    import socketio
except ImportError:
    sys.stderr.write('python-socketio is missing: pip install "python-socketio[client]"\n')
    sys.exit(3)


def main():
    url, user_id, transport = sys.argv[1], sys.argv[2], sys.argv[3]
    seconds = float(sys.argv[4]) if len(sys.argv) > 4 else 60.0
    client = socketio.Client()
    joins = []

    @client.event
    def connect():
        client.emit("join_chat", {"user_id": user_id})

    @client.on("joined")
    def on_joined(data):
        joins.append(data)
        print("JOINED %d" % len(joins), flush=True)

    @client.on("new_message")
    def on_new_message(data):
        print("MESSAGE %s" % data.get("message"), flush=True)

    @client.event
    def disconnect(reason=None):
        print("DISCONNECTED %s" % reason, flush=True)

    client.connect(url, transports=[transport], wait_timeout=15)
    client.sleep(seconds)
    client.disconnect()


if __name__ == "__main__":
    main()
