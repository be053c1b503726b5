"""``python -m mimir app``: start the Gradio app (also what the repository's ``app.py`` runs)."""

from __future__ import annotations

import argparse
import os

# Gradio and huggingface_hub phone home (analytics, version check, telemetry) unless told not to.
QUIET_ENV = {
    "GRADIO_ANALYTICS_ENABLED": "False",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "GRADIO_SSR_MODE": "False",  # SSR starts a Node server; the plain Python server is enough
}


def quiet_environment() -> None:
    for key, value in QUIET_ENV.items():
        os.environ.setdefault(key, value)


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default=os.environ.get("GRADIO_SERVER_NAME", "127.0.0.1"),
                        help="Interface to listen on (0.0.0.0 to serve your network). Default 127.0.0.1.")
    parser.add_argument("--port", type=int, default=int(os.environ.get("GRADIO_SERVER_PORT", "7860")),
                        help="Port to listen on. Default 7860.")
    parser.add_argument("--model", default="local",
                        help="Default model spec for new sessions: local, local:PATH, endpoint:MODEL@URL.")
    parser.add_argument("--runs-root", default=None,
                        help="Folder for per-session workspaces (default $MIMIR_RUNS or ./runs).")
    parser.add_argument("--share", action="store_true",
                        help="Also open a temporary public *.gradio.live link (reaches the internet).")
    parser.add_argument("--max-file-size", default="50mb", help="Largest upload accepted, e.g. 50mb.")
    parser.add_argument("--auth", action="append", default=[], metavar="USER:PASS",
                        help="Require a login (repeat for more users; default $MIMIR_AUTH, comma-separated). "
                             "Each user sees and reopens only the workspaces they made.")


def parse_auth(values: list[str]) -> list[tuple[str, str]]:
    """``user:pass`` pairs (from --auth and $MIMIR_AUTH); a malformed one is an error naming it."""
    from mimir.errors import ConfigError

    items = list(values or []) + [v for v in os.environ.get("MIMIR_AUTH", "").split(",") if v.strip()]
    pairs = []
    for item in items:
        user, sep, password = item.strip().partition(":")
        if not sep or not user or not password:
            raise ConfigError(f"--auth {user or item.split(':')[0]!r}…: expected USER:PASS with both parts non-empty")
        pairs.append((user, password))
    return pairs


def run(args: argparse.Namespace) -> int:
    quiet_environment()
    from mimir.secrets import install_log_redaction
    from mimir.ui.app import build_app, launch_kwargs

    install_log_redaction()
    auth = parse_auth(getattr(args, "auth", []))
    from mimir import secrets as _secrets

    for _, password in auth:
        _secrets.remember(password)  # never in a log line
    demo = build_app(args.runs_root, default_model=args.model)
    demo.queue(default_concurrency_limit=2)
    demo.launch(
        server_name=args.host,
        server_port=args.port,
        share=bool(args.share),
        max_file_size=args.max_file_size,
        show_error=True,
        **launch_kwargs(demo, auth=auth),
    )
    return 0


def main(argv: list[str] | None = None) -> int:
    from mimir.runtime import prefer_passive_openmp

    prefer_passive_openmp()  # app.py does not pass through mimir.cli
    parser = argparse.ArgumentParser(prog="python -m mimir app", description=__doc__)
    configure(parser)
    return run(parser.parse_args(argv))
