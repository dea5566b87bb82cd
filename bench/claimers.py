"""Concurrent claimers: in each round every expert claims a different open task at the same
moment (a barrier releases them together), then releases it, unmeasured, before the next round.
Before the first round each expert reads its first task once, unmeasured, on its connection.

    python bench/claimers.py --port 8000 --plan plan.json

plan.json: {"tokens": [one per expert], "rounds": [[task id per expert], ...]}.
Prints one JSON object with every claim's latency (ms) and the statuses. With `--read`, each
expert GETs the task instead of claiming it (the floor: a read at the same concurrency).
"""
from __future__ import annotations

import argparse
import http.client
import json
import threading
import time
from collections import Counter

HEADERS = {"Content-Type": "application/json"}


def expert(port: int, token: str, task_ids: list[int], barrier: threading.Barrier, latencies: list[float],
           statuses: Counter, lock: threading.Lock, read_only: bool = False) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    headers = {**HEADERS, "Authorization": f"Bearer {token}"}

    def send(method: str, path: str) -> int:
        connection.request(method, path, body=b"{}" if method == "POST" else None, headers=headers)
        response = connection.getresponse()
        response.read()
        return response.status

    # Warm-up, unmeasured: one authenticated read of the expert's first task on the
    # keep-alive connection the claims will use (connects it, loads the principal), as the
    # webhook figure warms up with 200 requests. A client that just connected is not what
    # "50 experts claiming at once" measures.
    send("GET", f"/api/v1/tasks/{task_ids[0]}")
    for task_id in task_ids:
        barrier.wait()
        began = time.perf_counter()
        status = send("GET", f"/api/v1/tasks/{task_id}") if read_only else \
            send("POST", f"/api/v1/tasks/{task_id}/claim")
        elapsed = (time.perf_counter() - began) * 1000
        with lock:
            latencies.append(elapsed)
            statuses[str(status)] += 1
        barrier.wait()  # everyone has claimed: release outside the measured moment
        if status == 200 and not read_only:
            send("POST", f"/api/v1/tasks/{task_id}/release")
    connection.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--plan", required=True)
    parser.add_argument("--read", action="store_true", help="GET each task instead of claiming it")
    args = parser.parse_args()
    with open(args.plan) as handle:
        plan = json.load(handle)
    tokens, rounds = plan["tokens"], plan["rounds"]
    latencies: list[float] = []
    statuses: Counter = Counter()
    lock = threading.Lock()
    barrier = threading.Barrier(len(tokens))
    threads = [threading.Thread(target=expert, args=(args.port, token, [r[i] for r in rounds], barrier, latencies,
                                                     statuses, lock, args.read))
               for i, token in enumerate(tokens)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    print(json.dumps({"latencies_ms": latencies, "statuses": dict(statuses), "experts": len(tokens),
                      "rounds": len(rounds), "seconds": time.perf_counter() - started}))


if __name__ == "__main__":
    main()
