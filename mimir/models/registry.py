"""Choose a backend by spec string or :class:`ModelConfig`, through a small registry.

Spec strings:
- ``local`` — the embedded SmolLM2-135M-Instruct; ``local:PATH_OR_HUB_ID`` for another model;
  ``local@ADAPTER_DIR`` / ``local:MODEL@ADAPTER_DIR`` adds a peft adapter on top
- ``endpoint:MODEL@BASE_URL`` — an OpenAI-compatible server (vLLM, TGI, Ollama, llama.cpp)
- ``endpoint:MODEL`` — Hugging Face Inference Providers
- ``scripted`` — replies enqueued by tests
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from mimir.config import option
from mimir.errors import ConfigError
from mimir.models.base import ChatModel


@dataclass
class ModelConfig:
    """Which chat model to use and how to reach it."""

    backend: str = option("local", help="Backend name: local, endpoint or scripted.")
    model: str = option("", help="Local path or Hub id (local), or model name (endpoint). Empty: the embedded model.")
    base_url: str = option("", help="OpenAI-compatible server URL, e.g. http://localhost:8000/v1. Empty: HF Inference Providers.")
    api_key_env: str = option("HF_TOKEN", help="Environment variable holding the endpoint token (the token itself is never stored).")
    concurrency: int = option(8, help="Endpoint: requests in flight at once across a batch.")
    timeout: float = option(60.0, help="Endpoint: seconds before a request counts as timed out and is retried.")
    max_retries: int = option(5, help="Endpoint: retries on 429/5xx/timeouts, with exponential backoff.")
    batch_size: int = option(16, help="Local: conversations per generate() call.")
    device: str = option("auto", help="Local: auto (CUDA with bf16 if present, else CPU), cpu or cuda.")
    prefix_cache_mb: int = option(1024, help="Local: memory for keys/values of recent prompts, reused by the turns "
                                  "that extend them (0: off, every prompt computed in full).")
    adapter: str = option("", help="Local: a peft adapter folder (or Hub id) loaded on top of the model.")

    @classmethod
    def from_spec(cls, spec: str) -> "ModelConfig":
        backend, _, rest = spec.partition(":")
        if "@" in backend:  # "local@ADAPTER": no model part
            backend, _, adapter = backend.partition("@")
            rest = "@" + adapter + (":" + rest if rest else "")
        backend = backend.strip() or "local"
        if backend not in _BACKENDS:
            raise ConfigError(f"model spec {spec!r}: unknown backend {backend!r}; choose one of {', '.join(sorted(_BACKENDS))}")
        if backend == "endpoint":
            model, _, url = rest.partition("@")
            if not model:
                raise ConfigError(f"model spec {spec!r}: write endpoint:MODEL or endpoint:MODEL@BASE_URL")
            return cls(backend=backend, model=model, base_url=url)
        if backend == "local" and "@" in rest:
            model, _, adapter = rest.partition("@")
            return cls(backend=backend, model=model, adapter=adapter)
        return cls(backend=backend, model=rest)

    def spec(self) -> str:
        if self.backend == "endpoint":
            return f"endpoint:{self.model}" + (f"@{self.base_url}" if self.base_url else "")
        return self.backend + (f":{self.model}" if self.model else "") + (f"@{self.adapter}" if self.adapter else "")


Factory = Callable[[ModelConfig], ChatModel]
_BACKENDS: dict[str, Factory] = {}


def register_backend(name: str) -> Callable[[Factory], Factory]:
    """Decorator: make a backend available under ``name``."""

    def wrap(factory: Factory) -> Factory:
        _BACKENDS[name] = factory
        return factory

    return wrap


def load_model(spec: str | ModelConfig = "local") -> ChatModel:
    """Instantiate the backend a spec string or config names."""
    config = ModelConfig.from_spec(spec) if isinstance(spec, str) else spec
    try:
        factory = _BACKENDS[config.backend]
    except KeyError:
        raise ConfigError(f"model backend {config.backend!r} is unknown; choose one of {', '.join(sorted(_BACKENDS))}") from None
    return factory(config)


@register_backend("local")
def _local(config: ModelConfig) -> ChatModel:
    from mimir.models.local import LocalModel

    return LocalModel(config.model or None, adapter=config.adapter or None, batch_size=config.batch_size, device=config.device,
                      prefix_cache_mb=config.prefix_cache_mb)


@register_backend("endpoint")
def _endpoint(config: ModelConfig) -> ChatModel:
    from mimir.models.endpoint import EndpointModel

    return EndpointModel.from_config(config)


@register_backend("scripted")
def _scripted(config: ModelConfig) -> ChatModel:
    from mimir.models.scripted import ScriptedModel

    return ScriptedModel()
