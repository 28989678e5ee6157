"""A live-stream consumer played by sseclient-py (a real Server-Sent Events client):
prints READY once connected, then each event as one JSON line, and exits after COUNT.

usage: sse_client.py URL API_KEY COUNT [LAST_EVENT_ID] [TIMEOUT_SECONDS]
URL is the whole stream URL (with ?chatId= / ?source= / ?token= as wanted); API_KEY may
be "-" to send none (token in the URL).
"""
import json
import os
import sys
import threading

try:
    import requests
    import sseclient
except ImportError:
    sys.stderr.write('sseclient-py is missing: pip install sseclient-py\n')
    sys.exit(3)


def main():
    url, key, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
    last_id = sys.argv[4] if len(sys.argv) > 4 and sys.argv[4] != "-" else None
    timeout = float(sys.argv[5]) if len(sys.argv) > 5 else 15.0
    # Heartbeats keep a quiet stream open for ever: give up after the timeout in any case.
    watchdog = threading.Timer(timeout, lambda: (sys.stderr.write("gave up after %.0f s\n" % timeout), os._exit(2)))
    watchdog.daemon = True
    watchdog.start()
    headers = {"Accept": "text/event-stream"}
    if key != "-":
        headers["X-API-Key"] = key
    if last_id:
        headers["Last-Event-ID"] = last_id
    response = requests.get(url, headers=headers, stream=True, timeout=timeout)
    if response.status_code != 200:
        sys.stderr.write("status %d: %s\n" % (response.status_code, response.text))
        sys.exit(1)
    print("READY " + response.headers.get("Content-Type", ""), flush=True)
    seen = 0
    for event in sseclient.SSEClient(response).events():
        print(json.dumps({"id": event.id, "event": event.event, "data": json.loads(event.data)}, ensure_ascii=False), flush=True)
        seen += 1
        if seen >= count:
            break
    response.close()


if __name__ == "__main__":
    main()
