"""Chat start-up: time from `python app.py` to ready, and to the first answer after that.

    .venv/bin/python bench/app_startup.py [--runs 5] [--write]

"Ready" is the first moment the page answers HTTP 200 and the API description (/gradio_api/info)
loads; the app builds nothing (the index exists: a temporary one is built first, untimed, unless
POLICYQA_DATA points at one). "First answer" is one `/ask` call through `gradio_client` right after
ready. Medians of ``--runs`` fresh processes. ``--write`` puts the results in docs/performance.md
under "Chat start-up", replacing that section only.
"""
from __future__ import annotations

import argparse
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))
sys.path.insert(0, str(PROJECT / "tests"))

from apprunner import free_port, http_status  # noqa: E402

QUESTION = "Does Comindware share data with Salesforce?"
READY_TARGET_S = 10.0
FIRST_ANSWER_TARGET_S = 1.0
SECTION = "## Chat start-up"


def one_run(env: dict[str, str]) -> tuple[float, float, float]:
    """(seconds to ready, seconds to connect a client, seconds for the first answer) of one fresh process."""

    from gradio_client import Client

    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    started = time.perf_counter()
    process = subprocess.Popen([sys.executable, str(PROJECT / "app.py"), "--port", str(port)], cwd=PROJECT,
                               env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while not (http_status(url, 1) == 200 and http_status(url + "gradio_api/info", 2) == 200):
            if process.poll() is not None:
                raise RuntimeError(f"app.py exited with {process.returncode}")
            if time.perf_counter() - started > 300:
                raise RuntimeError("app.py not ready after 300 s")
            time.sleep(0.05)
        ready = time.perf_counter() - started
        t0 = time.perf_counter()
        client = Client(url, verbose=False)
        connect = time.perf_counter() - t0
        t0 = time.perf_counter()
        answer = client.predict(QUESTION, api_name="/ask")
        first = time.perf_counter() - t0
        if not answer["found"] or answer["citations"][0]["company"] != "Comindware":
            raise RuntimeError(f"unexpected answer: {answer['text']}")
        return ready, connect, first
    finally:
        stop_process(process)


def stop_process(process: subprocess.Popen) -> None:
    """Stop a started app: terminate, then kill if it has not ended within 20 s."""
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()


def import_seconds(module: str, env: dict[str, str]) -> float:
    """Wall time of a fresh interpreter that imports ``module`` and exits, less a bare interpreter's."""
    import subprocess

    def run(code: str) -> float:
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], env=env, check=True, capture_output=True)
        return time.perf_counter() - t0

    return max(0.0, run(f"import {module}") - run("pass"))


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    return (f"{platform.system()} {platform.release()}, {cpu}, {os.cpu_count()} cores visible, "
            f"load average at start {load}")


def write_section(text: str) -> Path:
    path = PROJECT / "docs" / "performance.md"
    path.parent.mkdir(parents=True, exist_ok=True)
    old = path.read_text(encoding="utf-8") if path.exists() else "# Performance\n"
    pattern = re.compile(rf"^{re.escape(SECTION)}\n.*?(?=^## |\Z)", re.S | re.M)
    new = pattern.sub(lambda _: text, old) if pattern.search(old) else old.rstrip("\n") + "\n\n" + text
    path.write_text(new.rstrip("\n") + "\n", encoding="utf-8")
    return path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--write", action="store_true", help="update docs/performance.md")
    args = parser.parse_args()

    env = {**os.environ, "GRADIO_ANALYTICS_ENABLED": "False", "HF_HUB_DISABLE_TELEMETRY": "1",
           "HF_HUB_OFFLINE": "1"}
    env.pop("POLICYQA_CHROMA_URL", None)
    temp = None
    if not env.get("POLICYQA_DATA"):
        temp = tempfile.TemporaryDirectory(prefix="policyqa-bench-")
        env["POLICYQA_DATA"] = temp.name
    os.environ.update(env)
    from index.build import build, is_stale
    from index.config import get_config

    config = get_config()
    if is_stale(config):
        print(f"building the index in {config.data_dir} (not timed)", file=sys.stderr)
        build(config, progress=False)

    about = machine()
    rows = []
    imports: dict[str, list[float]] = {"gradio": [], "sentence_transformers": []}
    for i in range(args.runs):
        ready, connect, first = one_run(env)
        rows.append((ready, connect, first))
        for module in imports:
            imports[module].append(import_seconds(module, env))
        print(f"run {i + 1}: ready {ready:.2f} s, client connect {connect:.2f} s, first answer {first:.3f} s, "
              f"imports: " + ", ".join(f"{m} {v[-1]:.2f} s" for m, v in imports.items()), file=sys.stderr)
    ready = statistics.median(r[0] for r in rows)
    connect = statistics.median(r[1] for r in rows)
    first = statistics.median(r[2] for r in rows)
    gradio_s = statistics.median(imports["gradio"])
    st_s = statistics.median(imports["sentence_transformers"])
    verdict = lambda value, target: "met" if value < target else "NOT met"
    when = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    text = (
        f"{SECTION}\n\n"
        f"`bench/app_startup.py --runs {args.runs}`: {args.runs} fresh `python app.py` processes over an existing "
        f"index of `{config.corpus_dir.name}/` ({len(list(config.corpus_dir.glob('*')))} files); medians.\n\n"
        f"- Machine: {about}\n"
        f"- Date: {when}; load average at the end {', '.join(f'{x:.2f}' for x in os.getloadavg())}\n\n"
        f"| measure | median | all runs | target |\n| --- | --- | --- | --- |\n"
        f"| process start → ready (HTTP 200 and /gradio_api/info) | {ready:.2f} s | "
        f"{', '.join(f'{r[0]:.2f}' for r in rows)} | < {READY_TARGET_S:.0f} s ({verdict(ready, READY_TARGET_S)}) |\n"
        f"| `gradio_client.Client(url)` connect | {connect:.2f} s | {', '.join(f'{r[1]:.2f}' for r in rows)} | |\n"
        f"| first `/ask` answer after ready | {first:.3f} s | {', '.join(f'{r[2]:.3f}' for r in rows)} | "
        f"< {FIRST_ANSWER_TARGET_S:.0f} s ({verdict(first, FIRST_ANSWER_TARGET_S)}) |\n"
        f"| `import gradio` alone (fresh interpreter) | {gradio_s:.2f} s | "
        f"{', '.join(f'{v:.2f}' for v in imports['gradio'])} | |\n"
        f"| `import sentence_transformers` alone | {st_s:.2f} s | "
        f"{', '.join(f'{v:.2f}' for v in imports['sentence_transformers'])} | |\n\n"
        "The app loads the index and the embedding model and answers one warm-up question in a background "
        "thread while Gradio is imported and the page is built, and opens the port only after both, so "
        "\"ready\" means the first answer needs no model loading. The two imports are mostly Python work "
        "under one interpreter lock, so running them in two threads overlaps them only partly: ready / "
        f"(sum of the two imports, {gradio_s + st_s:.2f} s) = {ready / (gradio_s + st_s):.2f}. The machine "
        "is shared: compare the load average above with other runs before comparing times.\n"
    )
    print(text)
    if args.write:
        print(f"written to {write_section(text)}", file=sys.stderr)
    if temp:
        temp.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
