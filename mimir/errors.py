"""Errors MIMIR raises. Each inherits the built-in it refines, so callers can catch either."""

from __future__ import annotations


class MimirError(Exception):
    """Base class for every error MIMIR raises on purpose."""


class ConfigError(MimirError, ValueError):
    """A config file or value is wrong; the message names the key and the fix."""


class InputFileError(MimirError, ValueError):
    """An uploaded or given file cannot be used; the message names the file and the cause."""


class ModelNotFoundError(MimirError, OSError):
    """A model could not be located; the message says how to install or point to it."""


class BackendError(MimirError, RuntimeError):
    """A model backend failed (server error after retries, malformed reply, ...)."""


class AuthError(BackendError, PermissionError):
    """Credentials were rejected (401/403). Never carries the credential itself."""


class HubError(MimirError, RuntimeError):
    """A Hugging Face Hub operation failed; the message says what to do."""


class TrainingError(MimirError, RuntimeError):
    """Training stopped for a reason the user must act on (NaN loss, out of memory, ...)."""


class HubAuthError(HubError, PermissionError):
    """The Hub refused the credentials (401) or the action (403). Never carries the token."""


class KnowledgeBaseError(MimirError, OSError):
    """A knowledge base folder is missing, not a knowledge base, or damaged."""


class DialogueFailed(MimirError):
    """The dialogue cannot become a usable record; it is written with status "failed"."""


class MalformedJudgement(MimirError, ValueError):
    """A judge's reply does not follow the rubric's JSON format; the message says what is wrong."""


class ToolCallRefused(MimirError, PermissionError):
    """A tool call was refused: it followed instructions found in data, or it would leak private knowledge."""
