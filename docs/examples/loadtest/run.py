"""Load-test the reference backend on this machine: fake provider, 127.0.0.1 only.

    python docs/examples/loadtest/run.py --users 200 --spawn-rate 20 --seconds 60

Starts ``python -m chatbot`` (one uvicorn worker) on a free loopback port, runs Locust
headless against it for a bounded time, samples the server's CPU and memory, stops
both, and prints one JSON summary. Nothing leaves the machine: the fake provider
answers every turn word by word with ``--token-delay`` seconds between words.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

import psutil

HERE = Path(__file__).resolve().parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_ready(url: str, server: subprocess.Popen[bytes], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"server exited with {server.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/readyz", timeout=1) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise TimeoutError("the backend did not become ready")


def read_stats(path: Path) -> dict[str, dict[str, Any]]:
    """Locust's ``*_stats.csv``: one row per request name, times in milliseconds."""
    rows: dict[str, dict[str, Any]] = {}
    with path.open(newline="") as handle:
        for row in csv.DictReader(handle):
            rows[row["Name"]] = {
                "count": int(row["Request Count"]),
                "failures": int(row["Failure Count"]),
                "p50_ms": float(row["50%"]),
                "p95_ms": float(row["95%"]),
                "p99_ms": float(row["99%"]),
                "per_s": round(float(row["Requests/s"]), 2),
            }
    return rows


def read_failures(path: Path) -> dict[str, int]:
    """Why requests failed, and how often (``*_failures.csv``)."""
    with path.open(newline="") as handle:
        return {row["Error"]: int(row["Occurrences"]) for row in csv.DictReader(handle)}


def sample(process: psutil.Process, stop: threading.Event, into: dict[str, float]) -> None:
    """CPU (average and peak, percent of one core) and peak memory of the server."""
    started, cpu_at_start = time.monotonic(), sum(process.cpu_times()[:2])
    process.cpu_percent()
    while not stop.wait(1.0):
        into["cpu_seconds"] = round(sum(process.cpu_times()[:2]) - cpu_at_start, 2)
        into["cpu_avg_percent"] = round(100 * into["cpu_seconds"] / (time.monotonic() - started), 1)
        with_children = [process, *process.children(recursive=True)]
        cpu = sum(p.cpu_percent() for p in with_children)
        rss = sum(p.memory_info().rss for p in with_children) / 2**20
        into["cpu_peak_percent"] = max(into.get("cpu_peak_percent", 0.0), cpu)
        into["rss_peak_mib"] = max(into.get("rss_peak_mib", 0.0), round(rss, 1))


# [start:run]
def run(
    users: int,
    spawn_rate: float,
    seconds: int,
    token_delay: float,
    server_log: Path | None = None,
    extra_env: dict[str, str] | None = None,
) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as workdir:
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        env = {
            **os.environ,
            "CHATBOT_HOST": "127.0.0.1",
            "CHATBOT_PORT": str(port),
            "CHATBOT_LLM_PROVIDER": "fake",
            "CHATBOT_FAKE_TOKEN_DELAY_S": str(token_delay),
            "CHATBOT_DATABASE_URL": f"sqlite+aiosqlite:///{workdir}/load.db",
            # Every simulated user is "anonymous" from 127.0.0.1: one rate-limit key and
            # one tenant, so both limits are lifted to measure the service, not the limits.
            "CHATBOT_RATE_LIMIT_PER_MINUTE": "1000000",
            "CHATBOT_TENANT_TOKENS_PER_MINUTE": "1000000000",
            **(extra_env or {}),
        }
        log = server_log.open("wb") if server_log else subprocess.DEVNULL
        server = subprocess.Popen(
            [sys.executable, "-m", "chatbot"],
            env=env,
            stdout=subprocess.DEVNULL,  # uvicorn's access log: one line per turn
            stderr=log,  # errors and tracebacks, with --server-log
        )
        resources: dict[str, float] = {}
        stop = threading.Event()
        try:
            wait_ready(base, server)
            sampler = threading.Thread(
                target=sample, args=(psutil.Process(server.pid), stop, resources), daemon=True
            )
            sampler.start()
            prefix = Path(workdir) / "load"
            subprocess.run(
                [
                    *(sys.executable, "-m", "locust", "-f", str(HERE / "locustfile.py")),
                    *("--headless", "--host", base, "--csv", str(prefix), "--only-summary"),
                    *("-u", str(users), "-r", str(spawn_rate), "-t", f"{seconds}s"),
                    *("--stop-timeout", "10", "--exit-code-on-error", "0"),
                ],
                check=True,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                timeout=seconds + 60,
            )
            stats = read_stats(Path(f"{prefix}_stats.csv"))
            failures = read_failures(Path(f"{prefix}_failures.csv"))
        finally:
            stop.set()
            server.terminate()
            server.wait(40)
            if server_log:
                log.close()  # type: ignore[union-attr]
    turns = stats.get("chat turn", {}).get("count", 0)
    if turns and "cpu_seconds" in resources:
        resources["cpu_ms_per_turn"] = round(1000 * resources["cpu_seconds"] / turns, 1)
    return {
        "users": users,
        "seconds": seconds,
        "token_delay_s": token_delay,
        "cpu_count": os.cpu_count(),
        "load_average_1m": round(os.getloadavg()[0], 2),
        **resources,
        "stats": stats,
        "failures": failures,
    }


# [end:run]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--spawn-rate", type=float, default=10)
    parser.add_argument("--seconds", type=int, default=30)
    parser.add_argument("--token-delay", type=float, default=0.02)
    parser.add_argument("--server-log", type=Path, help="write the server's stderr here")
    parser.add_argument(
        "--env", action="append", default=[], help="extra CHATBOT_X=value for the server"
    )
    args = parser.parse_args()
    extra = dict(item.split("=", 1) for item in args.env)
    summary = run(
        args.users, args.spawn_rate, args.seconds, args.token_delay, args.server_log, extra
    )
    print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
