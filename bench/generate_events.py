#!/usr/bin/env python3
"""Writes a JSON Lines file of synthetic events for `replyflow replay` benchmarks.

The mix follows a support day: mostly app messages and history fetches, staff replies to
earlier messages, and Instagram / Telegram private messages with some voice and photos.
Usage: generate_events.py COUNT OUT.jsonl [--users N] [--seed S]
"""
import argparse
import json
import random
from datetime import datetime, timedelta, timezone


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("count", type=int)
    parser.add_argument("out")
    parser.add_argument("--users", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    start = datetime(2026, 11, 1, 6, 0, tzinfo=timezone.utc)
    # Spread the events over 30 days so daily greetings and markers are exercised.
    step = timedelta(seconds=30 * 86400 / max(args.count, 1))
    texts = ["Здравствуйте", "Где мой заказ?", "Не приходит код", "Спасибо!", "Сколько стоит доставка?", "Можно вернуть товар?"]
    kinds = ["app_message"] * 35 + ["history_fetch"] * 30 + ["telegram_reply"] * 10 + ["instagram_dm"] * 15 + ["telegram_message"] * 10
    with open(args.out, "w", encoding="utf-8") as out:
        for index in range(args.count):
            at = (start + step * index).isoformat(timespec="seconds")
            kind = rng.choice(kinds)
            user = str(rng.randrange(args.users))
            event = {"kind": kind, "at": at, "user": {"id": user}}
            if rng.random() < 0.7:
                event["user"]["name"] = f"User {user}"
            if kind != "history_fetch":
                message = {"text": rng.choice(texts)}
                roll = rng.random()
                if kind in ("instagram_dm", "telegram_message"):
                    if roll < 0.1:
                        message = {"media": "voice"}
                    elif roll < 0.2:
                        message["media"] = "photo"
                    if rng.random() < 0.05:
                        event["chat"] = {"auto_mode": rng.random() < 0.5}
                    event["stubs"] = {"answer": "Спасибо за вопрос! Ответим скоро."}
                elif kind == "app_message" and roll < 0.1:
                    message["media"] = "photo"
                event["message"] = message
            out.write(json.dumps(event, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
