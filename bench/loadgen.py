"""A closed-loop HTTP load generator: C threads, each with one keep-alive connection to
127.0.0.1, POST prepared bodies one after another and record each request's latency.

    python bench/loadgen.py --port 8000 --path /api/v1/kobo/submissions --token T \
        --bodies bodies.jsonl --concurrency 8 --max-seconds 20 [--warmup 100]

Bodies are JSON lines, each sent once (so every request is a distinct submission). With
--paths-file, line i is the path for body i (e.g. a different task per request) instead.
`--method GET --requests N` sends N bodiless GETs instead (a floor such as /healthz).
Prints one JSON object: count, seconds, rate, latencies in ms (p50/p95/p99/max), statuses.
"""
from __future__ import annotations

import argparse
import http.client
import json
import threading
import time
from collections import Counter


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    rank = max(1, int(round(pct / 100 * len(ordered) + 0.4999)))
    return ordered[min(rank, len(ordered)) - 1]


class Shared:
    def __init__(self, bodies: list[bytes], paths: list[str]):
        self.bodies, self.paths = bodies, paths
        self.next = 0
        self.lock = threading.Lock()
        self.latencies: list[float] = []
        self.statuses: Counter = Counter()
        self.deadline = float("inf")

    def take(self) -> int | None:
        with self.lock:
            if self.next >= len(self.bodies) or time.perf_counter() > self.deadline:
                return None
            self.next += 1
            return self.next - 1


def worker(shared: Shared, port: int, headers: dict, start: threading.Barrier, method: str) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    start.wait()
    while (index := shared.take()) is not None:
        began = time.perf_counter()
        try:
            connection.request(method, shared.paths[index], body=shared.bodies[index], headers=headers)
            response = connection.getresponse()
            response.read()
            status = response.status
            if response.getheader("Connection", "").lower() == "close":
                connection.close()
        except (OSError, http.client.HTTPException) as exc:
            status = type(exc).__name__
            connection.close()
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        elapsed = time.perf_counter() - began
        with shared.lock:
            shared.latencies.append(elapsed * 1000)
            shared.statuses[str(status)] += 1
    connection.close()


def run(port: int, paths: list[str], bodies: list[bytes | None], token: str, concurrency: int,
        max_seconds: float, method: str = "POST") -> dict:
    shared = Shared(bodies, paths)
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    barrier = threading.Barrier(concurrency + 1)
    threads = [threading.Thread(target=worker, args=(shared, port, headers, barrier, method))
               for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    barrier.wait()
    started = time.perf_counter()
    shared.deadline = started + max_seconds
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - started
    latencies = shared.latencies
    return {
        "count": len(latencies), "seconds": seconds, "rate": len(latencies) / seconds,
        "p50_ms": percentile(latencies, 50), "p95_ms": percentile(latencies, 95),
        "p99_ms": percentile(latencies, 99), "max_ms": max(latencies), "statuses": dict(shared.statuses),
        "concurrency": concurrency,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--path", default="/")
    parser.add_argument("--paths-file")
    parser.add_argument("--token", required=True)
    parser.add_argument("--bodies")
    parser.add_argument("--method", default="POST")
    parser.add_argument("--requests", type=int, default=0, help="without --bodies: this many bodiless requests")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--max-seconds", type=float, default=20)
    parser.add_argument("--warmup", type=int, default=0, help="send this many first, unmeasured")
    args = parser.parse_args()
    if args.bodies:
        with open(args.bodies, "rb") as handle:
            bodies = [line.rstrip(b"\n") for line in handle if line.strip()]
    else:
        bodies = [None] * args.requests
    if args.paths_file:
        with open(args.paths_file) as handle:
            paths = [line.strip() for line in handle if line.strip()]
    else:
        paths = [args.path] * len(bodies)
    if args.warmup:
        run(args.port, paths[:args.warmup], bodies[:args.warmup], args.token, args.concurrency, args.max_seconds,
            args.method)
    result = run(args.port, paths[args.warmup:], bodies[args.warmup:], args.token, args.concurrency,
                 args.max_seconds, args.method)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
