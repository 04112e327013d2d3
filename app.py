"""``python app.py [--host 127.0.0.1] [--port 7860] [--share]``: the PolicyQA chat in a browser.

The port is ``--port``, else ``GRADIO_SERVER_PORT``, else 7860 (``make run PORT=8000`` passes ``--port``).

Builds the index first when it is missing or stale (progress on the console), then serves a
Gradio chat over ``qa.ask``. The chat itself lives in ``webui``; this file only starts it.
"""
from __future__ import annotations

import argparse
import sys
import time

STARTED = time.perf_counter()


def main(argv: list[str] | None = None) -> int:
    """Start the chat; returns the exit status (1 when the index or the server cannot be set up)."""
    from index.config import server_port

    parser = argparse.ArgumentParser(prog="python app.py", description="Chat with the indexed privacy policies.")
    parser.add_argument("--host", default="127.0.0.1", help="address to serve on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=None,
                        help="port to serve on (default: GRADIO_SERVER_PORT, else 7860)")
    parser.add_argument("--share", action="store_true", help="also ask Gradio for a public share link")
    args = parser.parse_args(argv)
    if args.port is None:
        args.port = server_port()
        if not 0 < args.port < 65536:
            parser.error("GRADIO_SERVER_PORT must be a port number between 1 and 65535")
    if not 0 < args.port < 65536:
        parser.error("--port must be between 1 and 65535")

    from index.config import get_config, quiet_third_parties
    from index.errors import PolicyQAError

    quiet_third_parties()
    config = get_config()
    from webui.serve import Warmup, launch

    warmup = Warmup(config).start()  # index and model load while Gradio is imported
    try:
        from webui.app import build_demo

        warmup.wait_for_index()
        demo = build_demo(config)
        warmup.wait()  # the port opens only once the first answer needs no model loading
        launch(demo, args.host, args.port, args.share, STARTED, warmup.policies, after_ready=warmup.open_store_later)
    except PolicyQAError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("stopped", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
