"""What the app shares across sessions: where runs live and loaded models (read-only resources).

Per-session choices live in :class:`mimir.ui.session.Session`; this holds only things that are
expensive to recreate and safe to share: model weights behind a lock, keyed by spec.
Nothing here imports gradio.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from mimir.models.base import ChatModel, Conversation, GenerationSettings, Reply

# Bundled assets live in the package (mimir/assets); a checkout from before that move has them at the root.
_PACKAGED, _CHECKOUT = Path(__file__).resolve().parents[1] / "assets", Path(__file__).resolve().parents[2] / "assets"
ASSETS = _PACKAGED if (_PACKAGED / "roles.yaml").exists() or not (_CHECKOUT / "roles.yaml").exists() else _CHECKOUT
ModelLoader = Callable[[str], ChatModel]


def default_runs_root() -> Path:
    """``$MIMIR_RUNS`` or ``./runs`` (on a Space: the persistent ``/data`` when mounted)."""
    if os.environ.get("MIMIR_RUNS"):
        return Path(os.environ["MIMIR_RUNS"])
    if os.environ.get("SYSTEM") == "spaces" and Path("/data").is_dir():
        return Path("/data/mimir-runs")
    return Path("runs")


def running_on_space() -> bool:
    """The test gradio itself uses to decide between real and mocked OAuth."""
    return os.environ.get("SYSTEM") == "spaces" and bool(os.environ.get("SPACE_ID"))


class SerializedModel(ChatModel):
    """One shared model; calls from concurrent sessions take turns (local backends are not re-entrant)."""

    def __init__(self, inner: ChatModel) -> None:
        self.inner = inner
        self.name = inner.name
        self._lock = threading.Lock()

    def generate(self, conversations: list[Conversation], settings: GenerationSettings | None = None) -> list[Reply]:
        with self._lock:
            return self.inner.generate(conversations, settings)

    def serve(self, admit, finish, settings: GenerationSettings | None = None) -> None:  # type: ignore[no-untyped-def]
        """The backend's own continuous batching (not rounds of generate), one session at a time."""
        with self._lock:
            self.inner.serve(admit, finish, settings)

    def close(self) -> None:
        with self._lock:
            self.inner.close()

    def __getattr__(self, name: str):  # backend extras (tokenizer, model path) pass through
        return getattr(self.inner, name)


class ModelCache:
    """Loads each model spec once; keeps the ``capacity`` most recently used."""

    def __init__(self, loader: ModelLoader, capacity: int = 2) -> None:
        self.loader = loader
        self.capacity = capacity
        self._models: OrderedDict[str, SerializedModel] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, spec: str) -> ChatModel:
        spec = spec.strip() or "local"
        with self._lock:
            if spec in self._models:
                self._models.move_to_end(spec)
                return self._models[spec]
        model = SerializedModel(self.loader(spec))  # load outside the lock: it may take seconds
        with self._lock:
            if spec in self._models:  # another session loaded it meanwhile
                model.close()
                return self._models[spec]
            self._models[spec] = model
            while len(self._models) > self.capacity:
                _, old = self._models.popitem(last=False)
                old.close()
        return model

    def loaded(self) -> list[str]:
        with self._lock:
            return list(self._models)


@dataclass
class AppContext:
    """App-wide settings handed to every tab builder."""

    runs_root: Path
    models: ModelCache
    default_model: str = "local"
    on_space: bool = field(default_factory=lambda: running_on_space())


def session_model(ctx: AppContext, spec: str, token: str | None = None) -> ChatModel:
    """The model a session asked for. Endpoint models with a session token are built per call
    (cheap, and the token must not be shared through the app-wide cache); others are cached."""
    spec = (spec or ctx.default_model).strip()
    if spec.startswith("endpoint:") and token:
        from mimir.models.endpoint import EndpointModel
        from mimir.models.registry import ModelConfig

        config = ModelConfig.from_spec(spec)
        return EndpointModel(config.model, base_url=config.base_url, token=token, concurrency=config.concurrency)
    return ctx.models.get(spec)
