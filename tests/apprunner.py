"""Start the real chat (`python app.py`) in a subprocess on a free loopback port, for tests and benchmarks."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http_status(url: str, timeout: float = 5.0) -> int | None:
    """The HTTP status of a GET, or None when nothing answers."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as reply:
            return reply.status
    except urllib.error.HTTPError as exc:
        return exc.code
    except OSError:
        return None


@dataclass
class RunningApp:
    """A chat process and everything it printed so far."""

    url: str
    process: subprocess.Popen
    lines: list[str] = field(default_factory=list)

    @property
    def output(self) -> str:
        return "".join(self.lines)

    def wait_for_line(self, needle: str, timeout: float) -> str | None:
        """The first printed line containing ``needle``, waiting up to ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in list(self.lines):
                if needle in line:
                    return line
            if self.process.poll() is not None:
                time.sleep(0.2)
                return next((line for line in self.lines if needle in line), None)
            time.sleep(0.1)
        return None

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=15)


def start_app(env: dict[str, str], *args: str, timeout: float = 300.0, port_by_env: bool = False) -> RunningApp:
    """Run ``app.py`` with ``env`` added to the environment; return once it answers HTTP 200.

    The port is passed as ``--port``, or with ``port_by_env`` as ``GRADIO_SERVER_PORT`` only.
    """
    port = free_port()
    full_env = {**os.environ, **env, "PYTHONUNBUFFERED": "1", "GRADIO_ANALYTICS_ENABLED": "False",
                "HF_HUB_DISABLE_TELEMETRY": "1"}
    full_env.pop("GRADIO_SERVER_PORT", None)
    if "POLICYQA_CHROMA_URL" not in env:
        full_env.pop("POLICYQA_CHROMA_URL", None)
    if port_by_env:
        full_env["GRADIO_SERVER_PORT"] = str(port)
    port_args = [] if port_by_env else ["--port", str(port)]
    process = subprocess.Popen([sys.executable, str(PROJECT / "app.py"), *port_args, *args],
                               cwd=PROJECT, env=full_env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               text=True, bufsize=1)
    app = RunningApp(f"http://127.0.0.1:{port}/", process)

    def read() -> None:
        for line in process.stdout:
            app.lines.append(line)

    threading.Thread(target=read, daemon=True).start()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"app.py exited with {process.returncode}:\n{app.output}")
        if http_status(app.url, timeout=2) == 200:
            return app
        time.sleep(0.25)
    app.stop()
    raise RuntimeError(f"app.py did not answer within {timeout:.0f} s:\n{app.output}")
