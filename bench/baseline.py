#!/usr/bin/env python3
"""The default flows' behaviour written by hand in Python with sqlite3, no flow language:
the yardstick `replyflow replay` is compared with (see docs/benchmarks.md).

Per event: store the inbound message; app messages are forwarded; the first history
fetch of the day greets; staff replies are pushed and broadcast; Instagram and Telegram
private messages are answered while auto mode is on, else forwarded.
"""
import json
import os
import sqlite3
import sys
import tempfile
import time


def main() -> None:
    path = sys.argv[1]
    directory = tempfile.mkdtemp(prefix="replyflow-baseline-")
    db = sqlite3.connect(os.path.join(directory, "state.sqlite"))
    db.executescript("""
        PRAGMA journal_mode = MEMORY; PRAGMA synchronous = OFF;
        CREATE TABLE users (id TEXT PRIMARY KEY, name TEXT, inbound_count INTEGER NOT NULL DEFAULT 0);
        CREATE TABLE chats (source TEXT, user_id TEXT, auto_mode INTEGER, PRIMARY KEY (source, user_id));
        CREATE TABLE messages (id INTEGER PRIMARY KEY, user_id TEXT, source TEXT, direction TEXT, text TEXT, created_at TEXT);
        CREATE INDEX messages_by_user ON messages (user_id, id);
        CREATE TABLE markers (user_id TEXT, key TEXT, period TEXT, PRIMARY KEY (user_id, key, period));
        CREATE TABLE group_forwards (group_message_id INTEGER PRIMARY KEY, user_id TEXT);
    """)
    counts = {}
    forward_id = 1000
    start = time.perf_counter()
    events = 0
    with open(path, encoding="utf-8") as lines:
        for line in lines:
            event = json.loads(line)
            events += 1
            kind, at, user = event["kind"], event["at"], event["user"]
            uid, name = str(user.get("id")), user.get("name")
            message = event.get("message") or {}
            text = message.get("text") or ""
            source = {"telegram_message": "telegram", "instagram_dm": "instagram"}.get(kind, "app")
            if kind == "history_fetch":
                day = at[:10]
                if db.execute("SELECT 1 FROM markers WHERE user_id=? AND key='history' AND period=?", (uid, day)).fetchone():
                    continue
                db.execute("INSERT INTO markers VALUES (?, 'history', ?)", (uid, day))
                greeting = f"Здравствуйте, {name}!" if name else "Здравствуйте!"
                db.execute("INSERT INTO messages (user_id, source, direction, text, created_at) VALUES (?, 'app', 'support', ?, ?)", (uid, greeting, at))
                counts["greet"] = counts.get("greet", 0) + 1
                continue
            direction = "support" if kind == "telegram_reply" else "user"
            db.execute("INSERT INTO users (id, name, inbound_count) VALUES (?, ?, 1) ON CONFLICT (id) DO UPDATE SET inbound_count = inbound_count + 1", (uid, name))
            db.execute("INSERT INTO messages (user_id, source, direction, text, created_at) VALUES (?, ?, ?, ?, ?)", (uid, source, direction, text, at))
            if kind == "app_message":
                db.execute("INSERT INTO group_forwards VALUES (?, ?)", (forward_id, uid))
                forward_id += 1
                counts["forward_to_group"] = counts.get("forward_to_group", 0) + 1
            elif kind == "telegram_reply":
                counts["push"] = counts.get("push", 0) + 1
            else:
                chat = event.get("chat") or {}
                if "auto_mode" in chat:
                    db.execute("INSERT INTO chats VALUES (?, ?, ?) ON CONFLICT (source, user_id) DO UPDATE SET auto_mode = excluded.auto_mode", (source, uid, int(chat["auto_mode"])))
                row = db.execute("SELECT auto_mode FROM chats WHERE source=? AND user_id=?", (source, uid)).fetchone()
                if row is None or row[0]:
                    answer = (event.get("stubs") or {}).get("answer", "(assistant answer)")
                    db.execute("INSERT INTO messages (user_id, source, direction, text, created_at) VALUES (?, ?, 'support', ?, ?)", (uid, source, answer, at))
                    counts["reply"] = counts.get("reply", 0) + 1
                else:
                    db.execute("INSERT INTO group_forwards VALUES (?, ?)", (forward_id, uid))
                    forward_id += 1
                    counts["forward_to_group"] = counts.get("forward_to_group", 0) + 1
            if events % 10000 == 0:
                db.commit()
    db.commit()
    seconds = time.perf_counter() - start
    print(f"Python baseline: {events:,} events in {seconds:.2f} s ({events / seconds:,.0f} events/s); actions: {counts}")


if __name__ == "__main__":
    main()
