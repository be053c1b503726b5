"""Keep secrets (HF tokens, Tavily keys) out of logs, exceptions, files and the UI.

Secrets are passed per call and never stored. Whatever text might carry one goes through
:func:`redact`; :func:`install_log_redaction` adds a logging filter that scrubs every record.
"""

from __future__ import annotations

import logging
import re
import threading

# Shapes of well-known tokens, scrubbed even when not registered.
_PATTERNS = [re.compile(r"hf_[A-Za-z0-9]{20,}"), re.compile(r"tvly-[A-Za-z0-9-]{10,}"), re.compile(r"sk-[A-Za-z0-9_-]{20,}")]
_known: set[str] = set()
_lock = threading.Lock()
MASK = "***"


def remember(secret: str | None) -> str | None:
    """Register a secret so :func:`redact` scrubs it wherever it appears; returns it unchanged."""
    if secret and len(secret) >= 6:
        with _lock:
            _known.add(secret)
    return secret


def redact(text: object) -> str:
    out = str(text)
    with _lock:
        known = sorted(_known, key=len, reverse=True)
    for secret in known:
        out = out.replace(secret, MASK)
    for pattern in _PATTERNS:
        out = pattern.sub(MASK, out)
    return out


class RedactingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = redact(record.getMessage())
        record.args = None
        return True


def install_log_redaction(logger: logging.Logger | None = None) -> None:
    """Scrub secrets from every record that reaches the given (default: root) logger's handlers."""
    target = logger or logging.getLogger()
    for handler in target.handlers:
        if not any(isinstance(f, RedactingFilter) for f in handler.filters):
            handler.addFilter(RedactingFilter())
