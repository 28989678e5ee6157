"""Live stream fan-out benchmark: N subscribers hold GET /api/stream open (Server-Sent
Events), messages sent with POST /send_message reach each of them as `event: update`
records, and the time from the POST to each subscriber's receipt is measured. Also
reports the server's resident memory with every subscriber connected.

usage: stream.py URL SERVER_PID API_KEY [SUBSCRIBERS] [ROUNDS]

Subscribers are spread over one process per core, so that python's own time to read
1,000 streams is not counted as the server's; receipt times use the system-wide
monotonic clock, comparable between processes. Each round is one POST; a subscriber
counts the `message` record whose content carries the round's marker.
"""
import asyncio
import json
import multiprocessing
import os
import sys
import time
import urllib.request

from benchlib import latency_line, rss_mb

URL, PID, KEY = sys.argv[1], int(sys.argv[2]), sys.argv[3]
SUBSCRIBERS = int(sys.argv[4]) if len(sys.argv) > 4 else 1000
ROUNDS = int(sys.argv[5]) if len(sys.argv) > 5 else 20
HOST, PORT = URL.replace("http://", "").split(":")



async def subscribe(received, ready):
    reader, writer = await asyncio.open_connection(HOST, int(PORT))
    writer.write(f"GET /api/stream?source=app HTTP/1.1\r\nHost: {HOST}\r\nX-API-Key: {KEY}\r\n"
                 "Accept: text/event-stream\r\n\r\n".encode())
    await writer.drain()
    status = await reader.readline()
    assert b" 200 " in status, status
    while (await reader.readline()) not in (b"\r\n", b""):
        pass  # headers
    ready.release()
    while True:
        line = await reader.readline()
        if not line:
            return
        # Chunked transfer: size lines and blank lines carry no event text.
        if line.startswith(b"data: ") and b'"type":"message"' in line:
            at = time.monotonic()
            record = json.loads(line[6:])["record"]
            received.append((at, record["content"]))


async def run_subscribers(count, pipe):
    received = []
    ready = asyncio.Semaphore(0)
    tasks = []
    for index in range(count):
        tasks.append(asyncio.create_task(subscribe(received, ready)))
        if index % 50 == 49:
            await asyncio.sleep(0.05)  # connect in waves, as dashboards reconnecting would
    for _ in range(count):
        await asyncio.wait_for(ready.acquire(), 60)
    pipe.send("ready")
    await asyncio.get_running_loop().run_in_executor(None, pipe.recv)
    pipe.send(received)
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


def worker(count, pipe):
    asyncio.run(run_subscribers(count, pipe))


def post(user_id, text):
    body = json.dumps({"user_id": user_id, "message": text}).encode()
    request = urllib.request.Request(URL + "/send_message", data=body, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        assert response.status == 200



def main():
    processes = max(1, os.cpu_count() or 1)
    pipes = []
    for index in range(processes):
        parent, child = multiprocessing.Pipe()
        share = SUBSCRIBERS // processes + (1 if index < SUBSCRIBERS % processes else 0)
        multiprocessing.Process(target=worker, args=(share, child), daemon=True).start()
        pipes.append(parent)
    for pipe in pipes:
        assert pipe.recv() == "ready"
    print(f"{SUBSCRIBERS} subscribers connected; server RSS {rss_mb(PID):.1f} MB")

    sent = {}
    for round_ in range(ROUNDS):
        text = f"stream round {round_}"
        sent[text] = time.monotonic()
        post(f"stream-user-{round_ % 5}", text)
        time.sleep(0.25)
    time.sleep(1)
    for pipe in pipes:
        pipe.send("stop")
    latencies = []
    for pipe in pipes:
        for at, text in pipe.recv():
            if text in sent:
                latencies.append(at - sent[text])
    print(latency_line("updates", latencies, SUBSCRIBERS * ROUNDS))
    print(f"  server RSS after: {rss_mb(PID):.1f} MB")


if __name__ == "__main__":
    main()
