"""socket.io fan-out benchmark: N clients on the WebSocket transport join rooms, messages
sent with POST /send_message reach them as `new_message` (the server runs a flow that
broadcasts every app message), and the time from the POST to each client's receipt is
measured. Also reports the server's resident memory with all clients connected.

usage: sockets.py URL SERVER_PID [CLIENTS] [ROUNDS]

Two runs:
  one room:   all clients join one room; each round one POST reaches every client.
  own rooms:  each client joins its own room; each round POSTs one message per client.

The clients are spread over one process per core, so that python's own time to read
1,000 frames is not counted as the server's; receipt times use the system-wide
monotonic clock, comparable between processes.
"""
import asyncio
import json
import multiprocessing
import os
import sys
import time
import urllib.request

import websockets

from benchlib import latency_line, rss_mb

URL, PID = sys.argv[1], int(sys.argv[2])
CLIENTS = int(sys.argv[3]) if len(sys.argv) > 3 else 1000
ROUNDS = int(sys.argv[4]) if len(sys.argv) > 4 else 20
WS = URL.replace("http://", "ws://") + "/socket.io/?EIO=4&transport=websocket"



class Client:
    def __init__(self, room):
        self.room = room
        self.received = []  # (monotonic time, message text)
        self.joined = asyncio.Event()

    async def run(self, ready):
        async with websockets.connect(WS, max_queue=None, ping_interval=None) as ws:
            opening = await ws.recv()
            assert opening.startswith("0"), opening
            await ws.send("40")
            connected = await ws.recv()
            assert connected.startswith("40"), connected
            await ws.send('42["join_chat",' + json.dumps({"user_id": self.room}) + "]")
            ready.release()
            async for packet in ws:
                if packet == "2":
                    await ws.send("3")
                elif packet.startswith('42["new_message"'):
                    at = time.monotonic()
                    self.received.append((at, json.loads(packet[2:])[1]["message"]))
                elif packet.startswith('42["joined"'):
                    self.joined.set()


def post(user_id, text):
    body = json.dumps({"user_id": user_id, "message": text}).encode()
    request = urllib.request.Request(URL + "/send_message", data=body, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        assert response.status == 200



def report(name, latencies, expected):
    print(latency_line(name, latencies, expected).replace(" received", " deliveries"))


async def run_clients(rooms, pipe):
    """One worker process: connects its clients, says so, waits for `stop`, reports."""
    clients = [Client(room) for room in rooms]
    ready = asyncio.Semaphore(0)
    tasks = []
    for index, client in enumerate(clients):
        tasks.append(asyncio.create_task(client.run(ready)))
        if index % 50 == 49:
            await asyncio.sleep(0.05)  # connect in waves, as real apps would
    for _ in clients:
        await asyncio.wait_for(ready.acquire(), 60)
    await asyncio.wait_for(asyncio.gather(*(client.joined.wait() for client in clients)), 60)
    pipe.send("ready")
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, pipe.recv)
    pipe.send([entry for client in clients for entry in client.received])
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


def worker(rooms, pipe):
    asyncio.run(run_clients(rooms, pipe))


def scenario(name, rooms, rounds):
    processes = max(1, os.cpu_count() or 1)
    pipes = []
    for index in range(processes):
        parent, child = multiprocessing.Pipe()
        multiprocessing.Process(target=worker, args=(rooms[index::processes], child), daemon=True).start()
        pipes.append(parent)
    for pipe in pipes:
        assert pipe.recv() == "ready"
    print(f"{name}: {len(rooms)} clients connected and joined; server RSS {rss_mb(PID):.1f} MB")

    sent = {}  # text -> monotonic time of the POST
    distinct_rooms = sorted(set(rooms))
    for round_number in range(rounds):
        for room in distinct_rooms:
            text = f"{name}-{round_number}-{room}"
            sent[text] = time.monotonic()
            post(room, text)
        time.sleep(0.3 if len(distinct_rooms) == 1 else 0.05)
    time.sleep(2)
    for pipe in pipes:
        pipe.send("stop")
    received = [entry for pipe in pipes for entry in pipe.recv()]
    latencies = [at - sent[text] for at, text in received if text in sent]
    per_room = len(rooms) // len(distinct_rooms)
    report(name, latencies, rounds * len(distinct_rooms) * per_room)
    print(f"  server RSS after: {rss_mb(PID):.1f} MB")


if __name__ == "__main__":
    scenario("one room", ["bench-room"] * CLIENTS, ROUNDS)
    scenario("own rooms", [f"bench-user-{index}" for index in range(CLIENTS)], 3)
