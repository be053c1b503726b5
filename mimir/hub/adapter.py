"""Push a peft adapter (plus tokenizer, training config, metrics, eval results) with a model card;
optionally a merged full model; download / load adapters back by repo id."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

from mimir.config import read_data_file
from mimir.errors import HubError, InputFileError
from mimir.hub.auth import hub_api, hub_errors, resolve_token
from mimir.hub.cards import merged_card, model_card
from mimir.hub.config import AdapterPushConfig
from mimir.hub.provenance import sanitize_config
from mimir.hub.repo import HubSession, Progress, PushResult, Upload, redacted_text

WEIGHTS = ("adapter_model.safetensors", "adapter_model.bin")
TOKENIZER_FILES = (
    "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "chat_template.jinja", "chat_template.json",
    "vocab.json", "merges.txt", "tokenizer.model", "added_tokens.json",
)
KNOWN_FILES = ("adapter_config.json", *WEIGHTS, *TOKENIZER_FILES, "generation_config.json", "mimir_train_config.yaml")
# Metrics / configs / eval results written beside the adapter: uploaded generically (top level only).
TEXT_SUFFIXES = (".json", ".jsonl", ".yaml", ".yml")
EVAL_FILE = "eval_results.json"


def adapter_files(adapter_dir: Path) -> list[Path]:
    """The files of an adapter folder that are published (allow-list; no checkpoints, no pickles, no README)."""
    if not (adapter_dir / "adapter_config.json").is_file():
        raise InputFileError(f"{adapter_dir}: no adapter_config.json; expected a peft adapter folder (the training output)")
    if not any((adapter_dir / w).is_file() for w in WEIGHTS):
        raise InputFileError(f"{adapter_dir}: no adapter weights ({' or '.join(WEIGHTS)})")
    return sorted(
        p for p in adapter_dir.iterdir()
        if p.is_file() and (p.name in KNOWN_FILES or p.suffix in TEXT_SUFFIXES) and p.name != "README.md"
    )


def hub_base_model(adapter_config: dict[str, Any], explicit: str) -> str:
    """The base model's Hub id: explicit, else ``base_model_name_or_path`` unless it is a local folder."""
    from mimir.models.embedded import EMBEDDED_HUB_ID, embedded_cache_dir

    if explicit:
        return explicit
    base = str(adapter_config.get("base_model_name_or_path") or "")
    if not base:
        raise HubError("adapter_config.json names no base model; pass base_model (a Hub id)")
    path = Path(base).expanduser()
    if path.exists():
        if path.resolve() == embedded_cache_dir().resolve():
            return EMBEDDED_HUB_ID
        raise HubError(f"the adapter's base model is a local folder ({path.name}); pass base_model as its Hub id")
    return base


def _metrics(adapter_dir: Path) -> dict[str, Any]:
    """Headline numbers for the card: the last logged values of ``*metrics*.jsonl`` + ``*metrics*.json``."""
    from mimir.jsonl import read_records

    out: dict[str, Any] = {}
    for path in sorted(adapter_dir.glob("*metrics*.json")):
        data = read_data_file(path, what="metrics file", error=InputFileError, fmt="json")
        if isinstance(data, dict):
            out.update({k: v for k, v in data.items() if isinstance(v, (int, float, str, bool))})
    for path in sorted(adapter_dir.glob("*metrics*.jsonl")):
        last: dict[str, Any] = {}
        for record in read_records(path):
            last.update({k: v for k, v in record.items() if isinstance(v, (int, float)) and not isinstance(v, bool)})
        out.update({f"last {k}" if k in ("loss", "lr", "learning_rate") else k: v for k, v in last.items()})
    return out


def _evaluation(eval_results: str | Path | dict[str, Any] | None) -> dict[str, Any] | None:
    if eval_results is None or isinstance(eval_results, dict):
        return eval_results
    return read_data_file(eval_results, what="eval results", error=InputFileError, fmt="json", mapping=True)


def _published_yaml(path: Path) -> bytes:
    """A YAML config as published: secret keys replaced, local folders cut to names (still valid YAML)."""
    import yaml

    try:
        data = read_data_file(path, error=InputFileError)
    except InputFileError:
        return redacted_text(path.read_bytes())
    return yaml.safe_dump(sanitize_config(data), sort_keys=False, allow_unicode=True).encode("utf-8")


def push_adapter(
    adapter_dir: str | Path,
    *,
    config: AdapterPushConfig,
    token: Any = None,
    eval_results: str | Path | dict[str, Any] | None = None,
    endpoint: str | None = None,
    progress: Progress | None = None,
) -> PushResult:
    """Upload a trained adapter folder to a model repo, card last; with ``config.merged_repo_id``
    also push the merged full model. ``adapter_config.json`` is published with the base model's
    Hub id instead of a local path; text files pass through secret redaction."""
    if not config.repo_id:
        raise HubError("no model repo id: set repo_id (e.g. 'my-clinic-expert-lora')")
    adapter_dir = Path(adapter_dir)
    files = adapter_files(adapter_dir)
    adapter_config = read_data_file(adapter_dir / "adapter_config.json", what="adapter config", error=InputFileError, mapping=True)
    base_model = hub_base_model(adapter_config, config.base_model)
    evaluation = _evaluation(eval_results)
    train_config = None
    if (adapter_dir / "mimir_train_config.yaml").is_file():
        train_config = sanitize_config(read_data_file(adapter_dir / "mimir_train_config.yaml", what="training config",
                                                      error=InputFileError))

    uploads: list[Upload] = []
    for path in files:
        if path.name == "adapter_config.json":
            published = dict(adapter_config, base_model_name_or_path=base_model)
            uploads.append(Upload(path.name, json.dumps(published, indent=2, sort_keys=True).encode("utf-8")))
        elif path.name in WEIGHTS:
            uploads.append(Upload(path.name, local=path))
        elif path.suffix in (".yaml", ".yml"):
            uploads.append(Upload(path.name, _published_yaml(path)))
        else:
            uploads.append(Upload(path.name, redacted_text(path.read_bytes())))
    if evaluation is not None:
        uploads = [u for u in uploads if u.path_in_repo != EVAL_FILE]
        uploads.append(Upload(EVAL_FILE, json.dumps(evaluation, indent=2, ensure_ascii=False).encode("utf-8")))
    has_tokenizer = any(u.path_in_repo in ("tokenizer.json", "tokenizer.model") for u in uploads)
    names = sorted(u.path_in_repo for u in uploads)

    session = HubSession(token, endpoint, progress)

    def card(repo_id: str) -> str:
        return model_card(
            repo_id, config=config, base_model=base_model, adapter_config=adapter_config, train_config=train_config,
            metrics=_metrics(adapter_dir), evaluation=evaluation, files=names, has_tokenizer=has_tokenizer,
        )

    result = session.push(
        config.repo_id, "model", private=config.private, uploads=uploads, card=card, keep=lambda p: False, what="adapter"
    )
    if config.merged_repo_id:
        push_merged(adapter_dir, base_model, result.repo_id, config=config, session=session)
    return result


def push_merged(adapter_dir: Path, base_model: str, adapter_repo: str, *, config: AdapterPushConfig, session: HubSession) -> PushResult:
    """Merge the adapter into its base model (CPU, fp32) and push the full model + tokenizer."""
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from mimir.models.embedded import resolve_model

    session.progress(f"merging the adapter into {base_model}")
    base_path = resolve_model(base_model)
    model = PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(base_path), str(adapter_dir)).merge_and_unload()
    tokenizer_source = str(adapter_dir) if (adapter_dir / "tokenizer_config.json").is_file() else base_path
    tokenizer = AutoTokenizer.from_pretrained(tokenizer_source)
    with tempfile.TemporaryDirectory(prefix="mimir-merged-") as tmp:
        model.save_pretrained(tmp, safe_serialization=True)
        tokenizer.save_pretrained(tmp)
        config_path = Path(tmp) / "config.json"
        published = json.loads(config_path.read_text(encoding="utf-8"))
        published["_name_or_path"] = base_model  # not the local cache folder
        config_path.write_text(json.dumps(published, indent=2, sort_keys=True), encoding="utf-8")
        uploads = [Upload(p.name, local=p) for p in sorted(Path(tmp).iterdir()) if p.is_file() and p.name != "README.md"]
        return session.push(
            config.merged_repo_id, "model", private=config.private, uploads=uploads, keep=lambda p: False, what="merged model",
            card=lambda repo_id: merged_card(repo_id, base_model=base_model, adapter_repo=adapter_repo, config=config),
        )


def download_adapter(
    repo_id: str, *, token: Any = None, revision: str | None = None, endpoint: str | None = None, cache_dir: str | None = None
) -> Path:
    """A local folder with the adapter's files from the Hub (usable as ``LocalModel(adapter=...)``)."""
    token = resolve_token(token, required=False)
    api = hub_api(token, endpoint)
    with hub_errors("download the adapter", repo_id):
        folder = Path(api.snapshot_download(repo_id, repo_type="model", revision=revision, cache_dir=cache_dir))
    if not (folder / "adapter_config.json").is_file():
        raise HubError(f"{repo_id} has no adapter_config.json: it is not a peft adapter repo")
    return folder


def load_adapter_from_hub(
    repo_id: str, *, base_model: str | None = None, token: Any = None, revision: str | None = None, endpoint: str | None = None
) -> Any:
    """``PeftModel`` = base model (``base_model``, else the one the adapter names; the embedded
    model's Hub id resolves to its local copy) + the adapter downloaded from ``repo_id``."""
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    from mimir.models.embedded import resolve_model

    folder = download_adapter(repo_id, token=token, revision=revision, endpoint=endpoint)
    adapter_config = read_data_file(folder / "adapter_config.json", what="adapter config", error=InputFileError, mapping=True)
    base = base_model or adapter_config.get("base_model_name_or_path")
    if not base:
        raise HubError(f"{repo_id}: adapter_config.json names no base model; pass base_model")
    model = AutoModelForCausalLM.from_pretrained(resolve_model(base))
    return PeftModel.from_pretrained(model, str(folder))
