"""``python -m mimir app``: start the Gradio app (also what the repository's ``app.py`` runs)."""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import dataclass

from mimir.cliargs import add_config_arguments, config_from_args, print_config_requested, render_config
from mimir.config import option

# Gradio and huggingface_hub phone home (analytics, version check, telemetry) unless told not to.
QUIET_ENV = {
    "GRADIO_ANALYTICS_ENABLED": "False",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "GRADIO_SSR_MODE": "False",  # SSR starts a Node server; the plain Python server is enough
}


def quiet_environment() -> None:
    for key, value in QUIET_ENV.items():
        os.environ.setdefault(key, value)


@dataclass
class AppConfig:
    """How the Gradio app is served."""

    host: str = option("", help="Interface to listen on (0.0.0.0 to serve your network). Empty: $GRADIO_SERVER_NAME, else 127.0.0.1.")
    port: int = option(0, min=0, max=65535, help="Port to listen on. 0: $GRADIO_SERVER_PORT, else 7860.")
    model: str = option("local", help="Default model spec for new sessions: local, local:PATH, endpoint:MODEL@URL.")
    runs_root: str = option("", help="Folder for per-session workspaces. Empty: $MIMIR_RUNS, else ./runs.")
    share: bool = option(False, help="Also open a temporary public *.gradio.live link (reaches the internet).")
    max_file_size: str = option("50mb", help="Largest upload accepted, e.g. 50mb.")


CONFIGS = {"app": AppConfig}


def configure(parser: argparse.ArgumentParser) -> None:
    add_config_arguments(parser, AppConfig, section="app")
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
    config = config_from_args(AppConfig, args, section="app")
    if print_config_requested(args):
        print(render_config(config), end="")
        return 0
    from mimir.models.registry import ModelConfig

    ModelConfig.from_spec(config.model)  # a bad spec is an error now, not in the first session
    host = config.host or os.environ.get("GRADIO_SERVER_NAME", "127.0.0.1")
    port = config.port or int(os.environ.get("GRADIO_SERVER_PORT", "7860"))
    quiet_environment()
    from mimir.secrets import install_log_redaction
    from mimir.ui.app import build_app, launch_kwargs

    install_log_redaction()
    auth = parse_auth(getattr(args, "auth", []))
    from mimir import secrets as _secrets

    for _, password in auth:
        _secrets.remember(password)  # never in a log line
    demo = build_app(config.runs_root or None, default_model=config.model)
    demo.queue(default_concurrency_limit=2)
    demo.launch(
        server_name=host,
        server_port=port,
        share=config.share,
        max_file_size=config.max_file_size,
        show_error=True,
        **launch_kwargs(demo, auth=auth),
    )
    return 0


def main(argv: list[str] | None = None) -> int:
    from mimir.runtime import settle_openmp_waiting

    settle_openmp_waiting()  # app.py does not pass through mimir.cli
    parser = argparse.ArgumentParser(prog="python -m mimir app", description=__doc__)
    configure(parser)
    args = parser.parse_args(argv)
    from mimir.errors import MimirError

    try:
        return run(args)
    except MimirError as exc:  # a bad setting is a message, not a traceback
        print(f"error: {exc}", file=sys.stderr)
        return 2
