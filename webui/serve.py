"""Starting the chat: index and model warmed up first, then the server, then (optionally) a share link."""
from __future__ import annotations

import sys
import threading
import time
from dataclasses import dataclass
from urllib.parse import urlparse, urlunparse

from index.config import Config
from index.errors import PolicyQAError

SHARE_TIMEOUT_S = 20.0
MAX_UPLOAD = "20mb"


@dataclass
class Warmup:
    """The index brought up to date and the model loaded, in a background thread."""

    config: Config
    error: BaseException | None = None
    policies: int = 0

    def __post_init__(self):
        self._thread = threading.Thread(target=self._run, name="policyqa-warmup", daemon=True)
        self._index_ready = threading.Event()

    def start(self) -> "Warmup":
        self._thread.start()
        return self

    def _run(self) -> None:
        try:
            from index.build import is_stale
            from qa.answer import ask, ensure_index

            if is_stale(self.config):
                print("PolicyQA: the index is missing or out of date; building it now "
                      f"(corpus: {self.config.corpus_dir})", file=sys.stderr, flush=True)
            view = ensure_index(self.config, progress=True)
            self.policies = len(view.policies)
            self._index_ready.set()
            # Loads the model and runs the answer path once, so the first real answer is quick. One
            # company only: a question over all policies would read every policy, however many.
            some = next(iter(view.policies.values()))
            try:
                ask("Does this company share personal data with third parties?", company=some.company,
                    config=self.config)
            except PolicyQAError:
                pass
            from qa.cross_encoder import yes_probability

            # The lead's second reader reads only answers with a Yes/No reading, which that one may not have.
            yes_probability("Does this company sell data?", "We do not sell data.", self.config)
        except BaseException as exc:  # reported by wait(), in the main thread
            self.error = exc
        finally:
            self._index_ready.set()

    def wait_for_index(self) -> None:
        """Block until the index is loaded (the model may still be loading); re-raise what went wrong."""
        self._index_ready.wait()
        if self.error is not None:
            raise self.error

    def wait(self) -> None:
        """Block until done; re-raise what went wrong."""
        self._thread.join()
        if self.error is not None:
            raise self.error

    def open_store_later(self) -> None:
        """Open the vector store in the background. The warm-up answer used cached vectors, so the
        port opens before Chroma is imported (1-2 s); the first question across companies needs it.
        Then the overview cells of policies not cached yet (an index the app built itself) are
        computed, so that the Overview tab opens at once."""

        def run() -> None:
            try:
                from index.retrieval import open_index

                open_index(self.config).store.count()
            except Exception:  # the question that needs the store reports what is wrong
                pass
            try:
                from qa.overview import update_overview

                update_overview(self.config, progress=False)
            except Exception:  # the Overview tab computes what is missing, and says what is wrong
                pass

        threading.Thread(target=run, name="policyqa-store", daemon=True).start()


def open_share_link(demo, timeout_s: float = SHARE_TIMEOUT_S) -> tuple[str | None, str | None]:
    """Ask Gradio's share server for a public link to the running ``demo``.

    Returns (url, None) or (None, reason). Never raises and never waits longer than ``timeout_s``:
    the local server keeps running either way.
    """
    from gradio import networking

    result: dict = {}

    def tunnel() -> None:
        try:
            result["url"] = networking.setup_tunnel(
                local_host=demo.server_name, local_port=demo.server_port, share_token=demo.share_token,
                share_server_address=demo.share_server_address,
                share_server_tls_certificate=demo.share_server_tls_certificate)
        except Exception as exc:
            result["error"] = exc

    worker = threading.Thread(target=tunnel, name="policyqa-share", daemon=True)
    worker.start()
    worker.join(timeout_s)
    if "url" in result:
        protocol = getattr(demo, "share_server_protocol", None) or "https"
        url = urlunparse((protocol,) + urlparse(result["url"])[1:])
        demo.share_url, demo.share = url, True
        return url, None
    if "error" in result:
        return None, _reason(result["error"])
    return None, f"no reply from Gradio's share server within {timeout_s:.0f} s"


def _reason(exc: BaseException) -> str:
    causes = []
    while exc is not None and len(causes) < 3:
        text = str(exc).strip().rstrip(".")
        if text and text not in causes:
            causes.append(text)
        exc = exc.__cause__ or exc.__context__
    reason = ": ".join(causes) or "unknown error"
    return " ".join(reason.split())[:200]


def launch(demo, host: str, port: int, share: bool, started: float, policies: int = 0, after_ready=None) -> None:
    """Serve ``demo`` on ``host:port`` until interrupted; ``--share`` adds a public link when it can.
    ``after_ready()`` runs once the port is open."""
    from .app import CSS, PAGE_JS, THEME

    try:
        demo.launch(server_name=host, server_port=port, share=False, prevent_thread_lock=True, quiet=True,
                    theme=THEME, css=CSS, js=PAGE_JS, max_file_size=MAX_UPLOAD, show_error=True,
                    footer_links=["api"])
    except OSError as exc:
        other = port + 1 if port < 65535 else 7860
        raise PolicyQAError(f"cannot serve on {host}:{port} ({exc}). Is another app using the port? "
                            f"Choose another: `python app.py --port {other}`, `make run PORT={other}` or "
                            f"GRADIO_SERVER_PORT={other}.") from None
    local = demo.local_url
    print(f"PolicyQA chat ready at {local} ({policies} policies; started in {time.perf_counter() - started:.1f} s)",
          flush=True)
    if after_ready is not None:
        after_ready()
    if share:
        url, reason = open_share_link(demo)
        if url:
            print(f"PolicyQA share link: {url} (public; it lasts up to a week or until you stop the app)", flush=True)
        else:
            print(f"PolicyQA share link unavailable ({reason}); still serving locally at {local}", flush=True)
    try:
        demo.block_thread()
    except KeyboardInterrupt:
        pass
