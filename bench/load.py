"""Concurrent load on the chat's API: N clients x M questions through `/ask`, on loopback.

    .venv/bin/python bench/load.py [--clients 20] [--questions 10] [--write]

Starts the real chat (`python app.py`) over the seed corpus (a temporary index is built first,
untimed, unless POLICYQA_DATA points at one), connects ``--clients`` `gradio_client` clients, and
has each ask ``--questions`` questions one after another, all clients at once. Every answer is
checked against the question asked; any error fails the run. Reports latency per request (p50,
p95, max) and throughput. ``--write`` puts the results in docs/performance.md under
"Concurrent load", replacing that section only.
"""
from __future__ import annotations

import argparse
import os
import platform
import re
import statistics
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))
sys.path.insert(0, str(PROJECT / "tests"))

SECTION = "## Concurrent load"

# Found and silent answers, several companies, a version, an unknown company, another language,
# a question across companies and one across versions.
QUESTIONS = [
    "Does Comindware share data with Salesforce?",
    "What does Azendoo use cookies for?",
    "Does Azalead sell my personal information?",
    "Did Azalead use web beacons in 2014?",
    "Does Axosoft share data with Salesforce?",
    "How long does Comindware keep my data?",
    "Does Facebook sell my data?",
    "Can I delete my Azendoo account?",
    "Comindware 会与 Salesforce 共享数据吗？",
    "Does axosoft.com use cookies?",
    "Which companies share data with Salesforce?",
    "What changed about cookies in Azalead's policy between 2014 and 2017?",
]


@dataclass
class LoadResult:
    """Latencies (seconds) of every request, the answers, and the errors, of one load run."""

    clients: int
    per_client: int
    wall_s: float = 0.0
    latencies: list[float] = field(default_factory=list)
    answers: list[tuple[str, dict]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def requests(self) -> int:
        return len(self.latencies)

    def percentile(self, q: float) -> float:
        ordered = sorted(self.latencies)
        if not ordered:
            return float("nan")
        return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered) + 0.5) - 1))]

    @property
    def throughput(self) -> float:
        return self.requests / self.wall_s if self.wall_s else 0.0


def run_load(url: str, clients: int, per_client: int, questions: list[str] = QUESTIONS) -> LoadResult:
    """``clients`` threads, each with its own `gradio_client.Client`, ask ``per_client`` questions at once."""
    os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
    from gradio_client import Client

    result = LoadResult(clients, per_client)
    lock = threading.Lock()
    connected = [None] * clients
    for n in range(clients):  # connecting is not part of the load: each client fetches the API description
        connected[n] = Client(url, verbose=False)
    start = threading.Barrier(clients + 1)

    def client(n: int) -> None:
        start.wait()
        for i in range(per_client):
            question = questions[(n + i) % len(questions)]
            began = time.perf_counter()
            try:
                answer = connected[n].predict(question, None, None, None, api_name="/ask")
            except Exception as exc:  # counted: a load run must have none
                with lock:
                    result.errors.append(f"{question!r}: {type(exc).__name__}: {exc}")
                continue
            elapsed = time.perf_counter() - began
            with lock:
                result.latencies.append(elapsed)
                result.answers.append((question, answer))

    threads = [threading.Thread(target=client, args=(n,), daemon=True) for n in range(clients)]
    for t in threads:
        t.start()
    start.wait()
    began = time.perf_counter()
    for t in threads:
        t.join()
    result.wall_s = time.perf_counter() - began
    for c in connected:
        c.close()
    return result


def check_answers(result: LoadResult) -> list[str]:
    """Answers that are not about the question asked (empty, or another question's)."""
    wrong = []
    for question, answer in result.answers:
        if not isinstance(answer, dict) or not answer.get("text") or answer.get("question") != question:
            wrong.append(f"{question!r} -> {str(answer)[:200]}")
    return wrong


def _machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} logical CPUs, Python {platform.python_version()}, {platform.system()}"


def _app_concurrency() -> str:
    try:
        from webui.app import CHAT_CONCURRENCY, QUEUE_MAX_SIZE

        return f"queue `default_concurrency_limit={CHAT_CONCURRENCY}`, `max_size={QUEUE_MAX_SIZE}`"
    except Exception:  # the bench still runs against an app laid out differently
        return "queue settings of webui.app"


def section(result: LoadResult, command: str, load: str) -> str:
    ms = lambda s: f"{s * 1000:.0f} ms"  # noqa: E731
    return "\n".join([
        SECTION,
        "",
        f"{result.clients} concurrent `gradio_client` clients × {result.per_client} questions each through the "
        f"chat's `/ask` API on loopback ({result.requests} requests), all clients starting together; the app "
        f"({_app_concurrency()}) over the seed corpus. Measured "
        f"{datetime.now(timezone.utc).strftime('%Y-%m-%d %H:%M UTC')} on {_machine()}; {load}.",
        "",
        "| requests | errors | p50 | p95 | max | throughput |",
        "| --- | --- | --- | --- | --- | --- |",
        f"| {result.requests} | {len(result.errors)} | {ms(result.percentile(50))} | {ms(result.percentile(95))} | "
        f"{ms(max(result.latencies))} | {result.throughput:.1f} requests/s |",
        "",
        "Latency is per request, from the client's call to its answer, queueing in the app included: with "
        "more clients than the queue runs at once, most of p95 is waiting in line. Every answer was "
        "checked against its question.",
        "",
        f"Command: `{command}`",
        "",
    ])


def write_section(text: str, path: Path = PROJECT / "docs" / "performance.md") -> None:
    """Replace this benchmark's section of ``path`` (or add it), leaving the other sections alone."""
    old = path.read_text(encoding="utf-8") if path.exists() else "# Performance\n\n"
    pattern = re.compile(rf"^{re.escape(SECTION)}\n.*?(?=^## |\Z)", re.S | re.M)
    new = pattern.sub(lambda _: text + "\n", old) if pattern.search(old) else old.rstrip("\n") + "\n\n" + text
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(new.rstrip("\n") + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--questions", type=int, default=10, help="questions per client")
    parser.add_argument("--write", action="store_true", help="update docs/performance.md")
    args = parser.parse_args(argv)

    from apprunner import start_app

    from index.build import build
    from index.config import get_config, quiet_third_parties

    quiet_third_parties()
    env = {"POLICYQA_CORPUS": os.environ.get("POLICYQA_CORPUS", str(PROJECT / "corpus"))}
    with tempfile.TemporaryDirectory(prefix="policyqa-load-") as tmp:
        env["POLICYQA_DATA"] = os.environ.get("POLICYQA_DATA") or tmp
        os.environ.update(env)
        build(get_config(), progress=False)  # untimed
        app = start_app(env)
        try:
            load_before = os.getloadavg()[0]
            result = run_load(app.url, args.clients, args.questions)
        finally:
            app.stop()
    wrong = check_answers(result)
    load = f"1-minute load average {load_before:.1f} when it started" if hasattr(os, "getloadavg") else ""
    command = f".venv/bin/python bench/load.py --clients {args.clients} --questions {args.questions}"
    text = section(result, command, load)
    print(text)
    for problem in result.errors + wrong:
        print("ERROR", problem, file=sys.stderr)
    if args.write:
        write_section(text)
    return 1 if result.errors or wrong else 0


if __name__ == "__main__":
    sys.exit(main())
