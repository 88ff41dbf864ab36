"""``rnnkit serve RUN [RUN ...]``: the runs behind a JSON API and web pages (see :mod:`.app`).

    rnnkit serve runs/textgen-20261205-101500 runs/reviews --port 8000
    python -m rnnkit.apps.serve RUN [RUN ...]       (the same, without the rnnkit command)
"""

from __future__ import annotations

import argparse
import logging
import sys

# The serve extra, imported here so that `rnnkit serve` without it is one line naming the extra
# (rnnkit's CLI turns this module's ModuleNotFoundError into "pip install 'rnnkit[serve]'").
import fastapi  # noqa: F401
import uvicorn

from .app import ServeSettings

__all__ = ["add_serve_args", "serve", "settings_from_args"]


def add_serve_args(p: argparse.ArgumentParser) -> None:
    d = ServeSettings()
    p.add_argument("runs", nargs="+", metavar="RUN", help="run folders to serve (each under its folder's name)")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1: this machine "
                   "only; 0.0.0.0 for every interface)")
    p.add_argument("--port", type=int, default=8000, help="TCP port (default 8000; 0 = any free port)")
    p.add_argument("--max-batch", type=int, default=d.max_batch,
                   help=f"requests per micro-batch for classify and generate (default {d.max_batch}; 1 = no batching)")
    p.add_argument("--batch-wait-ms", type=float, default=d.batch_wait_ms,
                   help=f"how long a batch waits for more requests after its first (default {d.batch_wait_ms:g} ms)")
    p.add_argument("--max-body-bytes", type=int, default=d.max_body_bytes,
                   help=f"largest JSON request body; larger ones get 413 (default {d.max_body_bytes:,})")
    p.add_argument("--max-upload-bytes", type=int, default=d.max_upload_bytes,
                   help=f"largest upload (CSV, audio, image, clip); larger ones get 413 (default {d.max_upload_bytes:,})")
    p.add_argument("--max-text-chars", type=int, default=d.max_text_chars,
                   help=f"longest text, prompt or primer (default {d.max_text_chars:,})")
    p.add_argument("--max-texts", type=int, default=d.max_texts,
                   help=f"most texts in one classify/translate request (default {d.max_texts})")
    p.add_argument("--max-new-tokens", type=int, default=d.max_new_tokens,
                   help=f"most characters (textgen) or events (music) one request may ask for (default {d.max_new_tokens:,})")
    p.add_argument("--log-level", default="info", choices=["critical", "error", "warning", "info", "debug"],
                   help="uvicorn's log level (default info: one line per request)")


def settings_from_args(args: argparse.Namespace) -> ServeSettings:
    s = ServeSettings(max_batch=args.max_batch, batch_wait_ms=args.batch_wait_ms, max_body_bytes=args.max_body_bytes,
                      max_upload_bytes=args.max_upload_bytes, max_text_chars=args.max_text_chars,
                      max_texts=args.max_texts, max_new_tokens=args.max_new_tokens)
    for name, value in vars(s).items():
        if value < (0 if name == "batch_wait_ms" else 1):
            raise ValueError(f"--{name.replace('_', '-')} must be {'>= 0' if name == 'batch_wait_ms' else '>= 1'}, "
                             f"got {value}")
    return s


def serve(args: argparse.Namespace) -> int:
    """Load the runs, then serve until interrupted (Ctrl-C). Returns the exit code."""
    from .app import create_app

    logging.getLogger("rnnkit.serve").setLevel(logging.INFO)
    app = create_app(args.runs, settings_from_args(args))
    shown = "localhost" if args.host in ("127.0.0.1", "0.0.0.0") else args.host
    for name, svc in app.state.services.items():
        print(f"{svc.app_name:>9}  http://{shown}:{args.port}/{name}", flush=True)
    uvicorn.run(app, host=args.host, port=args.port, log_level=args.log_level)
    return 0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="rnnkit serve", description="Serve trained runs: a JSON API and a web page each.")
    add_serve_args(p)
    args = p.parse_args(argv)
    try:
        return serve(args)
    except (ValueError, FileNotFoundError) as err:
        print(f"rnnkit serve: error: {err}", file=sys.stderr)
        return 2
