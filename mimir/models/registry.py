"""Choose a backend by spec string or :class:`ModelConfig`, through a small registry.

Spec strings:
- ``local`` — the embedded SmolLM2-135M-Instruct; ``local:PATH_OR_HUB_ID`` for another model;
  ``local@ADAPTER_DIR`` / ``local:MODEL@ADAPTER_DIR`` adds a peft adapter on top
- ``endpoint:MODEL@BASE_URL`` — an OpenAI-compatible server (vLLM, TGI, Ollama, llama.cpp)
- ``endpoint:MODEL`` — Hugging Face Inference Providers
- ``llamacpp`` / ``llamacpp:FILE.gguf`` — llama.cpp's server started by MIMIR on a loopback port
  (the embedded model's GGUF by default; ``concurrency`` parallel slots)
- ``scripted`` — replies enqueued by tests

Any spec takes options after ``?``: ``local?dtype=bf16&prefix_cache_mb=2048`` (fields of
:class:`ModelConfig`, checked like a config file; tokens never go into a spec).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Literal

from mimir.config import option
from mimir.errors import ConfigError
from mimir.models.base import ChatModel


@dataclass
class ModelConfig:
    """Which chat model to use and how to reach it."""

    backend: str = option("local", help="Backend name: local, endpoint, llamacpp or scripted.")
    model: str = option("", help="Local path or Hub id (local), or model name (endpoint). Empty: the embedded model.")
    base_url: str = option("", help="OpenAI-compatible server URL, e.g. http://localhost:8000/v1. Empty: HF Inference Providers.")
    api_key_env: str = option("HF_TOKEN", help="Environment variable holding the endpoint token (the token itself is never stored).")
    concurrency: int = option(8, min=1, help="Endpoint: requests in flight at once across a batch (llamacpp: the server's "
                              "parallel slots, 16 when left at 8).")
    timeout: float = option(60.0, min=0.001, help="Endpoint: seconds before a request counts as timed out and is retried.")
    max_retries: int = option(5, min=0, help="Endpoint: retries on 429/5xx/timeouts, with exponential backoff.")
    batch_size: int = option(16, min=1, help="Local: conversations per generate() call.")
    device: str = option("auto", choices=("auto", "cpu", "cuda"), help="Local: auto (CUDA with bf16 if present, else CPU), cpu or cuda.")
    dtype: Literal["auto", "fp32", "bf16", "fp16"] = option(
        "auto", help="Local: weights and compute precision; auto is bf16 on CUDA, fp32 on CPU ('bf16' on a CPU with "
        "AVX512-BF16 or AMX computes prompts ~2x faster).")
    prefix_cache_mb: int = option(1024, min=0, help="Local: memory for keys/values of recent prompts, reused by the turns "
                                  "that extend them (0: off, every prompt computed in full).")
    adapter: str = option("", help="Local: a peft adapter folder (or Hub id) loaded on top of the model.")
    engine: Literal["auto", "transformers", "llamacpp"] = option(
        "auto", help="Local: what generates. transformers: MIMIR's batched engine (adapters, token-probability choices); "
        "llamacpp: llama.cpp's server (~2.5x the tokens/s on a 2-core CPU, measured); auto: llamacpp when the `llamacpp` "
        "extra is installed and the model is the embedded one or a .gguf file without an adapter, else transformers.")

    @classmethod
    def from_spec(cls, spec: str) -> "ModelConfig":
        """'local', 'local:PATH', 'local@ADAPTER', 'endpoint:MODEL[@URL]', 'scripted', each optionally
        followed by '?option=value&...' with fields of this config (e.g. 'local?dtype=bf16')."""
        spec, options = _split_options(spec)
        config = cls._from_plain_spec(spec)
        if options:
            from mimir.config import config_from_dict, config_to_dict

            config = config_from_dict(cls, {**config_to_dict(config), **options}, where=f"model spec {spec!r} options")
        return config

    @classmethod
    def _from_plain_spec(cls, spec: str) -> "ModelConfig":
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


def _split_options(spec: str) -> tuple[str, dict[str, Any]]:
    """'local?dtype=bf16&batch_size=8' -> ('local', {'dtype': 'bf16', 'batch_size': 8})."""
    import yaml

    head, sep, tail = spec.rpartition("?")
    if not sep or not re.fullmatch(r"\w+=[^&=]*(&\w+=[^&=]*)*", tail):
        return spec, {}
    options = {}
    for pair in tail.split("&"):
        key, _, value = pair.partition("=")
        if key in {"api_key", "token"}:
            raise ConfigError(f"model spec options: {key!r} cannot be given in a spec; set the environment variable named by api_key_env")
        options[key] = yaml.safe_load(value) if value else ""
    return head, options


Factory = Callable[[ModelConfig], ChatModel]
_BACKENDS: dict[str, Factory] = {}


def register_backend(name: str) -> Callable[[Factory], Factory]:
    """Decorator: make a backend available under ``name``."""

    def wrap(factory: Factory) -> Factory:
        _BACKENDS[name] = factory
        return factory

    return wrap


def load_model(spec: str | ModelConfig = "local") -> ChatModel:
    """Instantiate the backend a spec string or config names (after :func:`check_model`)."""
    config = ModelConfig.from_spec(spec) if isinstance(spec, str) else spec
    try:
        factory = _BACKENDS[config.backend]
    except KeyError:
        raise ConfigError(f"model backend {config.backend!r} is unknown; choose one of {', '.join(sorted(_BACKENDS))}") from None
    check_model(config)
    return factory(config)


def _looks_like_path(value: str) -> bool:
    """A filesystem path rather than a Hub id ('org/name' has one slash and no leading dot/slash)."""
    return value.startswith(("/", "./", "../", "~", ".\\")) or "\\" in value or value.count("/") > 1 or value in (".", "..")


def check_model(config: ModelConfig) -> None:
    """Errors a backend would hit only after minutes of loading, found now, in words.

    A local model or adapter that names a folder must exist and hold a model; an endpoint URL
    must be http(s) (no retries against an ``ftp://`` URL).
    """
    from mimir.errors import ModelNotFoundError

    if config.backend == "local":
        for what, value in (("model", config.model), ("adapter", config.adapter)):
            if not value or not _looks_like_path(value):
                continue
            path = Path(value).expanduser()
            if not path.exists():
                raise ModelNotFoundError(
                    f"local {what} {value!r}: no such file or folder; give a folder saved with save_pretrained, "
                    f"a .gguf file, or a Hub id such as HuggingFaceTB/SmolLM2-135M-Instruct"
                )
            if path.is_dir() and not any((path / n).exists() for n in ("config.json", "adapter_config.json")) \
                    and not any(path.glob("*.gguf")):
                raise ModelNotFoundError(
                    f"local {what} {value!r}: the folder holds no model (no config.json, adapter_config.json or .gguf file)"
                )
    if config.backend == "endpoint" and config.base_url:
        check_endpoint_url(config.base_url)
    if config.backend == "llamacpp" or (config.backend == "local" and config.engine == "llamacpp"):
        from mimir.models.llamacpp import INSTALL_HINT, find_llama_server, resolve_gguf

        if find_llama_server() is None:
            raise ModelNotFoundError(INSTALL_HINT)
        resolve_gguf(config.model or None)


def check_endpoint_url(url: str) -> None:
    """An endpoint base URL must be http:// or https:// with a host."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigError(
            f"endpoint base_url {url!r}: use an http:// or https:// URL of an OpenAI-compatible server, "
            f"e.g. http://localhost:8000/v1 ({parts.scheme or 'no'} scheme is not supported)"
        )


def local_engine(config: ModelConfig) -> str:
    """The engine a ``local`` spec runs on (see ``ModelConfig.engine``)."""
    if config.engine != "auto":
        return config.engine
    servable = (not config.model or config.model == "embedded" or config.model.endswith(".gguf")) and not config.adapter
    if servable:
        from mimir.models.llamacpp import extra_installed

        if extra_installed():
            return "llamacpp"
    return "transformers"


@register_backend("local")
def _local(config: ModelConfig) -> ChatModel:
    from mimir.models.local import LocalModel

    if local_engine(config) == "llamacpp":
        return _llamacpp(config)

    return LocalModel(config.model or None, adapter=config.adapter or None, batch_size=config.batch_size, device=config.device,
                      prefix_cache_mb=config.prefix_cache_mb, dtype=config.dtype)


@register_backend("endpoint")
def _endpoint(config: ModelConfig) -> ChatModel:
    from mimir.models.endpoint import EndpointModel

    return EndpointModel.from_config(config)


@register_backend("llamacpp")
def _llamacpp(config: ModelConfig) -> ChatModel:
    from mimir.models.llamacpp import LlamaCppModel

    # 16 slots unless set: the batched workload keeps 16 dialogues in flight
    slots = 16 if config.concurrency == ModelConfig.concurrency else config.concurrency
    return LlamaCppModel(config.model or None, slots=slots, timeout=max(config.timeout, 600.0))


@register_backend("scripted")
def _scripted(config: ModelConfig) -> ChatModel:
    from mimir.models.scripted import ScriptedModel

    return ScriptedModel()
