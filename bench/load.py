"""Concurrent load on the chat's API: N clients x M questions through `/ask`, on loopback.

    .venv/bin/python bench/load.py [--clients 20] [--questions 10] [--limits 1,2,4,8] [--add-mid-run] [--write]

Starts the real chat (`python app.py`) over the seed corpus (a temporary index is built first,
untimed, unless POLICYQA_DATA points at one), connects ``--clients`` `gradio_client` clients, and
has each ask ``--questions`` questions one after another, all clients at once. Every answer is
checked against the question asked; any error fails the run. Reports latency per request (p50,
p95, max) and throughput. ``--limits`` repeats the run, in the same invocation, with the chat
queue's concurrency limit (``webui.app.CHAT_CONCURRENCY``) set to each value in turn, so the
app's setting can be compared with others. ``--add-mid-run`` indexes a copy of the corpus and, once
one round of requests is answered, runs `python -m index add` on a new policy in a second process
while the clients go on; from then on every other question, and each client's last, is about the
new policy, and each of those answers must quote it (one writer, many readers: docs/reliability.md). ``--write`` puts the results in docs/performance.md
under "Concurrent load", replacing that section only.
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


NEW_POLICY_NAME = "mailtopia-2020-01-01.md"
NEW_POLICY = ("# Mailtopia Privacy Policy\n\nLast updated 2020-01-01.\n\n## Sharing\n\n"
              "We share e-mail addresses with Mailchimp to send our newsletter.\n")
NEW_QUESTION = "Does Mailtopia share data with Mailchimp?"


@dataclass
class MidRunAdd:
    """A policy added by the CLI, in another process, once ``after`` requests are answered."""

    path: Path
    after: int
    done: threading.Event = field(default_factory=threading.Event)
    seconds: float = 0.0
    error: str | None = None

    def run(self, result: "LoadResult") -> None:
        import subprocess

        while len(result.latencies) + len(result.errors) < self.after:
            time.sleep(0.05)
        began = time.perf_counter()
        out = subprocess.run([sys.executable, "-m", "index", "add", str(self.path), "--json"], cwd=PROJECT,
                             capture_output=True, text=True, env=dict(os.environ), timeout=600)
        self.seconds = time.perf_counter() - began
        if out.returncode != 0:
            self.error = f"index add exited {out.returncode}: {out.stderr[-500:]}"
        self.done.set()


def run_load(url: str, clients: int, per_client: int, questions: list[str] = QUESTIONS,
             mid_run: MidRunAdd | None = None) -> LoadResult:
    """``clients`` threads, each with its own `gradio_client.Client`, ask ``per_client`` questions at once.

    With ``mid_run``, a policy is added by the CLI after one round; later questions ask about it (see ``MidRunAdd``)."""
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
            if mid_run is not None and i == per_client - 1:
                mid_run.done.wait(600)  # each client's last question is about the added policy
            if mid_run is not None and mid_run.done.is_set() and (i % 2 or i == per_client - 1):
                question = NEW_QUESTION
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
    if mid_run is not None:
        threading.Thread(target=mid_run.run, args=(result,), daemon=True).start()
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
        elif question == NEW_QUESTION and not (answer.get("found") and any(
                c.get("company") == "Mailtopia" for c in answer.get("citations", []))):
            wrong.append(f"{question!r} (the policy added mid-run) -> {str(answer)[:200]}")
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


def _app_limit() -> int:
    from webui.app import CHAT_CONCURRENCY

    return CHAT_CONCURRENCY


# app.py with the chat queue's concurrency limit replaced (argv: port, limit); nothing else differs.
_WITH_LIMIT = ("import runpy, sys; port, limit = sys.argv[1:3]; import webui.app as w; "
               "w.CHAT_CONCURRENCY = int(limit); sys.argv = ['app.py', '--port', port]; "
               "runpy.run_path('app.py', run_name='__main__')")


def start_app_with_limit(env: dict[str, str], limit: int | None, timeout: float = 300.0):
    """The real chat in a subprocess; ``limit`` replaces its queue's concurrency limit (None: its own)."""
    import subprocess

    from apprunner import RunningApp, free_port, http_status, start_app

    if limit is None:
        return start_app(env, timeout=timeout)
    port = free_port()
    full_env = {**os.environ, **env, "PYTHONUNBUFFERED": "1", "GRADIO_ANALYTICS_ENABLED": "False",
                "HF_HUB_DISABLE_TELEMETRY": "1"}
    process = subprocess.Popen([sys.executable, "-c", _WITH_LIMIT, str(port), str(limit)], cwd=PROJECT,
                               env=full_env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1)
    app = RunningApp(f"http://127.0.0.1:{port}/", process)
    threading.Thread(target=lambda: app.lines.extend(process.stdout), daemon=True).start()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the app exited with {process.returncode}:\n{app.output}")
        if http_status(app.url, timeout=2) == 200:
            return app
        time.sleep(0.25)
    app.stop()
    raise RuntimeError(f"the app did not answer within {timeout:.0f} s")


def section(runs: list[tuple[int, LoadResult, float]], app_limit: int, command: str) -> str:
    """Markdown for docs/performance.md: one row per queue limit, in the order they ran."""
    ms = lambda s: f"{s * 1000:.0f} ms"  # noqa: E731
    first = runs[0][1]
    rows = []
    for limit, result, load in runs:
        mark = " (the app's)" if limit == app_limit else ""
        rows.append(f"| {limit}{mark} | {result.requests} | {len(result.errors)} | {ms(result.percentile(50))} | "
                    f"{ms(result.percentile(95))} | {ms(max(result.latencies, default=0))} | "
                    f"{result.throughput:.1f}/s | {load:.1f} |")
    return "\n".join([
        SECTION,
        "",
        f"{first.clients} concurrent `gradio_client` clients × {first.per_client} questions each through the "
        f"chat's `/ask` API on loopback ({first.requests} requests per run), all clients starting together, "
        f"against `python app.py` over the seed corpus (queue `max_size` as in `webui/app.py`). Measured "
        f"{datetime.now(timezone.utc).strftime('%Y-%m-%d %H:%M UTC')} on {_machine()}, a machine shared with "
        f"other jobs (the 1-minute load average at the start of each run is in the table; the benchmark and "
        f"the app ran at niceness {os.nice(0)}).",
        "",
        "| queue concurrency limit | requests | errors | p50 | p95 | max | throughput | load avg |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
        *rows,
        "",
        "Latency is per request, from the client's call to its answer, waiting in the app's queue "
        "included. Each client asks its next question as soon as it has an answer, so the median is "
        "about clients / throughput (Little's law): it measures how many answers per second the app "
        "gives on these cores more than the cost of one answer. Every answer was checked against its "
        "question. The clients run in the benchmark's own process on the same cores as the app.",
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
    parser.add_argument("--limits", default="", help="queue concurrency limits to compare, e.g. 1,2,4,8 "
                                                     "(default: the app's own)")
    parser.add_argument("--add-mid-run", action="store_true",
                        help="add a policy with `python -m index add` (another process) after one round of questions")
    parser.add_argument("--write", action="store_true", help="update docs/performance.md")
    args = parser.parse_args(argv)

    from index.build import build
    from index.config import get_config, quiet_third_parties

    quiet_third_parties()
    app_limit = _app_limit()
    limits = [int(x) for x in args.limits.split(",") if x.strip()] or [app_limit]
    env = {"POLICYQA_CORPUS": os.environ.get("POLICYQA_CORPUS", str(PROJECT / "corpus"))}
    runs: list[tuple[int, LoadResult, float]] = []
    problems: list[str] = []
    with tempfile.TemporaryDirectory(prefix="policyqa-load-") as tmp:
        env["POLICYQA_DATA"] = os.environ.get("POLICYQA_DATA") or tmp
        if args.add_mid_run:  # a copy of the corpus, and a data folder of its own, are changed
            import shutil

            env["POLICYQA_CORPUS"] = str(Path(tmp) / "corpus")
            env["POLICYQA_DATA"] = str(Path(tmp) / "data")
            (Path(tmp) / "new").mkdir()
            (Path(tmp) / "new" / NEW_POLICY_NAME).write_text(NEW_POLICY)
        os.environ.update(env)
        for limit in limits:
            mid_run = None
            if args.add_mid_run:
                shutil.rmtree(env["POLICYQA_CORPUS"], ignore_errors=True)
                shutil.copytree(PROJECT / "corpus", env["POLICYQA_CORPUS"])
                mid_run = MidRunAdd(Path(tmp) / "new" / NEW_POLICY_NAME, args.clients)
            build(get_config(), progress=False)  # untimed
            app = start_app_with_limit(env, None if limit == app_limit else limit)
            try:
                load = os.getloadavg()[0]
                result = run_load(app.url, args.clients, args.questions, mid_run=mid_run)
            finally:
                app.stop()
            runs.append((limit, result, load))
            problems += result.errors + check_answers(result)
            if mid_run is not None:
                new = sum(q == NEW_QUESTION for q, _ in result.answers)
                print(f"mid-run add: `python -m index add` took {mid_run.seconds:.1f} s; {new} answers about "
                      f"the added policy", file=sys.stderr)
                if mid_run.error or not mid_run.done.is_set():
                    problems.append(mid_run.error or "the mid-run add did not finish before the clients")
                elif not new:
                    problems.append("no question was asked about the policy added mid-run")
    command = f".venv/bin/python bench/load.py --clients {args.clients} --questions {args.questions}"
    if args.limits:
        command += f" --limits {args.limits}"
    if args.add_mid_run:
        command += " --add-mid-run"
    text = section(runs, app_limit, command + (" --write" if args.write else ""))
    print(text)
    for problem in problems:
        print("ERROR", problem, file=sys.stderr)
    if args.write:
        write_section(text)
    return 1 if problems else 0

if __name__ == "__main__":
    sys.exit(main())
