"""Small gradio helpers shared by the tabs: readable errors, tables, status lines."""

from __future__ import annotations

import functools
import logging
from pathlib import Path
from typing import Any, Callable

import gradio as gr

from mimir.errors import MimirError
from mimir.secrets import redact
from mimir.ui.text import hide_paths, md_table, shorten, status  # noqa: F401 - re-exported for the tabs

log = logging.getLogger("mimir.ui")

# Errors a user can act on (bad file, bad config, missing model). Anything else is a bug: logged
# with its traceback (redacted by the log filter) and shown as a short message.
USER_ERRORS = (MimirError, ValueError, OSError, KeyError)


def as_ui_error(exc: BaseException) -> gr.Error:
    """A toast for the page. Expected validation messages (gr.Error, MimirError, ValueError, …) are not
    logged as tracebacks; anything else is a bug and is logged once with its traceback (redacted)."""
    if isinstance(exc, gr.Error):
        return gr.Error(hide_paths(redact(exc.message)), duration=exc.duration, title=exc.title, print_exception=False)
    if isinstance(exc, USER_ERRORS):
        return gr.Error(hide_paths(redact(str(exc))) or type(exc).__name__, print_exception=False)
    log.exception("unexpected error in a UI handler")
    return gr.Error(hide_paths(redact(f"{type(exc).__name__}: {exc}")), print_exception=False)


NOT_READY = "The page is still starting its workspace; try again in a second."


def ready(session: Any) -> Any:
    """The session a handler got, or a clear error while the page's load event has not set it yet."""
    if session is None:
        raise gr.Error(NOT_READY, print_exception=False)
    return session


def _takes_session(fn: Callable[..., Any]) -> bool:
    import inspect

    try:
        params = list(inspect.signature(fn).parameters)
    except (TypeError, ValueError):
        return False
    return bool(params) and params[0] in ("session", "s")


def guard(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Turn exceptions of a (non-generator) handler into a gradio error toast, secrets redacted."""

    takes_session = _takes_session(fn)

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            if takes_session and args and args[0] is None:
                ready(None)
            return fn(*args, **kwargs)
        except Exception as exc:  # noqa: BLE001 - every handler error becomes a readable toast
            raise as_ui_error(exc) from None

    return wrapper


def guard_stream(fn: Callable[..., Any]) -> Callable[..., Any]:
    """:func:`guard` for generator handlers (streamed progress)."""

    takes_session = _takes_session(fn)

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            if takes_session and args and args[0] is None:
                ready(None)
            yield from fn(*args, **kwargs)
        except Exception as exc:  # noqa: BLE001
            raise as_ui_error(exc) from None

    return wrapper


def upload_paths(files: Any) -> list[Path]:
    """Paths of gradio upload values (one or a list; str, FileData-like or tempfile objects)."""
    if files is None:
        return []
    items = files if isinstance(files, (list, tuple)) else [files]
    return [Path(getattr(f, "path", None) or getattr(f, "name", f)) for f in items if f]


def remove_uploads(paths: list[Path]) -> None:
    """Delete uploaded temp copies once used (untrusted, and served from gradio's cache until removed);
    their per-upload folder goes too when it is left empty."""
    for path in paths:
        try:
            path.unlink(missing_ok=True)
            if path.parent.is_dir() and not any(path.parent.iterdir()):
                path.parent.rmdir()
        except OSError:
            log.warning("could not remove an uploaded temp file")
