"""Hugging Face credentials and Hub errors: a token per call, never a global login.

The token comes from (first hit wins) an explicit argument — a string, or Gradio's
``gr.OAuthToken`` (anything with a ``.token`` attribute; gradio is never imported here) —
then the ``HF_TOKEN`` environment variable. It is handed to ``HfApi(token=...)`` for one
operation and registered with :mod:`mimir.secrets` so it is scrubbed from every message;
it is never written to files, logs or cards, and ``huggingface_hub.login()`` is never called.
"""

from __future__ import annotations

import contextlib
import logging
import os
from typing import Any, Iterator

from mimir.errors import HubAuthError, HubError  # noqa: F401 (HubAuthError re-exported)
from mimir.secrets import redact, remember

log = logging.getLogger(__name__)

TOKEN_HINT = (
    "log in with the Hugging Face button, paste a token with write access "
    "(https://huggingface.co/settings/tokens), set HF_TOKEN, or pass --token"
)


def resolve_token(token: Any = None, *, required: bool = True) -> str | None:
    """The token to use for one Hub call: explicit / OAuth object, else ``HF_TOKEN``.

    ``required=False`` returns ``None`` when there is none (reading public repos).
    """
    value = getattr(token, "token", token)  # gr.OAuthToken duck-typed: the UI may pass it as is
    if value is not None and not isinstance(value, str):
        raise HubAuthError(f"a Hugging Face token must be a string, got {type(value).__name__}")
    value = (value or "").strip() or (os.environ.get("HF_TOKEN") or "").strip()
    if not value:
        if required:
            raise HubAuthError(f"no Hugging Face token: {TOKEN_HINT}")
        return None
    remember(value)
    return value


def hub_endpoint(endpoint: str | None = None) -> str:
    """The Hub base URL: explicit, else ``HF_ENDPOINT`` now, else what huggingface_hub was imported with."""
    if endpoint:
        return endpoint.rstrip("/")
    from huggingface_hub import constants

    return (os.environ.get("HF_ENDPOINT") or constants.ENDPOINT).rstrip("/")


def hub_api(token: str | None, endpoint: str | None = None) -> Any:
    """An ``HfApi`` bound to this token and endpoint only (``token=False`` when anonymous:
    never fall back to a token stored on disk by ``hf auth login``)."""
    from huggingface_hub import HfApi

    return HfApi(endpoint=hub_endpoint(endpoint), token=token if token else False, library_name="mimir")


def whoami(token: Any = None, *, endpoint: str | None = None) -> dict[str, Any]:
    """Who the token belongs to: ``{"name", "orgs", "can_write"}`` (nothing secret)."""
    token = resolve_token(token)
    with hub_errors("check the Hugging Face token"):
        info = hub_api(token, endpoint).whoami(token=token)
    access = ((info.get("auth") or {}).get("accessToken") or {})
    role = access.get("role")
    orgs = [org.get("name") for org in info.get("orgs") or [] if org.get("name")]
    return {"name": info.get("name"), "orgs": orgs, "can_write": role in (None, "write", "admin", "fineGrained")}


def qualify_repo_id(repo_id: str, user: dict[str, Any]) -> str:
    """``name`` -> ``user/name``; ``ns/name`` as given. Rejects malformed ids early."""
    repo_id = (repo_id or "").strip().strip("/")
    parts = repo_id.split("/")
    if not repo_id or len(parts) > 2 or not all(parts):
        raise HubError(f"repo id {repo_id!r} is not valid: use 'name' or 'namespace/name'")
    return repo_id if len(parts) == 2 else f"{user['name']}/{repo_id}"


@contextlib.contextmanager
def hub_errors(action: str, repo_id: str | None = None) -> Iterator[None]:
    """Turn huggingface_hub / HTTP failures into :class:`HubError` with a redacted, actionable message.

    The original exception is not chained: its response object holds the request headers.
    """
    from huggingface_hub.errors import HfHubHTTPError, RepositoryNotFoundError

    where = f" ({repo_id})" if repo_id else ""
    try:
        yield
        return
    except HubError:
        raise
    except RepositoryNotFoundError:
        error: HubError = HubError(
            f"could not {action}{where}: the repo does not exist or this token cannot see it; "
            "check the repo id and that the token belongs to its owner"
        )
    except HfHubHTTPError as exc:
        status = exc.response.status_code if exc.response is not None else None
        server = _server_message(exc)
        if status == 401:
            error = HubAuthError(f"could not {action}{where}: the Hub rejected the token (401); {TOKEN_HINT}")
        elif status == 403:
            error = HubAuthError(
                f"could not {action}{where}: the token is not allowed to do this (403{': ' + server if server else ''}); "
                "use a token with write access to that namespace"
            )
        else:
            error = HubError(
                f"could not {action}{where}: the Hub answered {status or 'an error'}"
                f"{': ' + server if server else ''}; nothing was marked complete, so running the push again is safe"
            )
        error.status = status  # type: ignore[attr-defined]
    except Exception as exc:  # noqa: BLE001 - connection failures (httpx's are not OSError), bad metadata, ...
        if _is_connection_error(exc):
            error = HubError(
                f"could not {action}{where}: no connection to the Hub ({_host_of(exc)}: {type(exc).__name__}); "
                "check the network connection (or HF_ENDPOINT) and run the command again"
            )
        elif isinstance(exc, (OSError, ValueError)):
            error = HubError(f"could not {action}{where}: {type(exc).__name__}: {exc}")
        else:
            raise
    error.args = (redact(error.args[0]),)
    log.warning("%s", error)
    raise error from None


def _host_of(exc: BaseException) -> str:
    """The server the failed request went to (scheme://host:port, never a path or query), else the endpoint."""
    try:
        url = exc.request.url  # type: ignore[attr-defined]  # httpx errors carry their request
        return f"{url.scheme}://{url.host}" + (f":{url.port}" if url.port else "")
    except Exception:  # noqa: BLE001 - not an httpx error, or no request attached
        return hub_endpoint()


def _is_connection_error(exc: BaseException) -> bool:
    """httpx / requests / socket failures to reach the server at all (timeouts included)."""
    import socket

    if isinstance(exc, (ConnectionError, socket.gaierror, TimeoutError)):
        return True
    module = type(exc).__module__
    if module.startswith(("httpx", "httpcore")):
        return True
    return module.startswith("requests") and type(exc).__name__ in ("ConnectionError", "ConnectTimeout", "ReadTimeout", "Timeout")


def _server_message(exc: Any) -> str:
    response = getattr(exc, "response", None)
    if response is None:
        return ""
    message = response.headers.get("X-Error-Message") or ""
    if not message:
        try:
            message = str(response.json().get("error") or "")
        except Exception:  # noqa: BLE001 - the body need not be JSON
            message = ""
    return redact(message)[:300]
