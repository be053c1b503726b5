"""Small gradio helpers shared by the tabs: readable errors, tables, status lines."""

from __future__ import annotations

import functools
import logging
from typing import Any, Callable

import gradio as gr

from mimir.errors import MimirError
from mimir.secrets import redact
from mimir.ui.text import md_table, shorten, status  # noqa: F401 - re-exported for the tabs

log = logging.getLogger("mimir.ui")

# Errors a user can act on (bad file, bad config, missing model). Anything else is a bug: logged
# with its traceback (redacted by the log filter) and shown as a short message.
USER_ERRORS = (MimirError, ValueError, OSError, KeyError)


def as_ui_error(exc: BaseException) -> gr.Error:
    if isinstance(exc, gr.Error):
        return exc
    if isinstance(exc, USER_ERRORS):
        return gr.Error(redact(str(exc)) or type(exc).__name__, print_exception=False)
    log.exception("unexpected error in a UI handler")
    return gr.Error(redact(f"{type(exc).__name__}: {exc}"), print_exception=False)


def guard(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Turn exceptions of a (non-generator) handler into a gradio error toast, secrets redacted."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except Exception as exc:  # noqa: BLE001 - every handler error becomes a readable toast
            raise as_ui_error(exc) from None

    return wrapper
