"""Dataset and model cards: YAML metadata (dumped, so always valid) + a body from ``templates/``.

Templates are ``string.Template`` markdown files; every placeholder must be filled
(``substitute`` raises on a missing one) so a card never ships with a hole in it.
"""

from __future__ import annotations

import json
from pathlib import Path
from string import Template
from typing import Any

from mimir.secrets import redact

TEMPLATES = Path(__file__).parent / "templates"
BASE_TAGS_DATASET = ["mimir", "synthetic", "multi-turn", "tool-calling", "agents"]
BASE_TAGS_MODEL = ["mimir", "peft", "lora", "sft"]


def _render(template: str, metadata: dict[str, Any], **values: Any) -> str:
    import yaml

    front = yaml.safe_dump(metadata, sort_keys=False, allow_unicode=True).strip()
    body = Template((TEMPLATES / template).read_text(encoding="utf-8")).substitute(**values)
    return redact(f"---\n{front}\n---\n\n{body.rstrip()}\n")


def _names(values: list[str], empty: str = "not recorded") -> str:
    return ", ".join(f"`{v}`" for v in values) if values else f"_{empty}_"


def _title(repo_id: str) -> str:
    return repo_id.split("/")[-1].replace("-", " ").replace("_", " ").strip().capitalize()


def _yaml_block(data: Any) -> str:
    import yaml

    return "```yaml\n" + yaml.safe_dump(data, sort_keys=False, allow_unicode=True).strip() + "\n```"


def _flatten(rows: dict[str, Any], prefix: str = "", depth: int = 0) -> dict[str, Any]:
    """Nested results (``{"vs_original": {"win": 3}}``) as dotted rows, two levels deep."""
    out: dict[str, Any] = {}
    for key, value in rows.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and depth < 2:
            out.update(_flatten(value, name + ".", depth + 1))
        else:
            out[name] = value
    return out


def _table(rows: dict[str, Any]) -> str:
    if not rows:
        return "_none recorded_"
    lines = ["| name | value |", "|---|---|"]
    for key, value in _flatten(rows).items():
        text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
        lines.append(f"| {key} | {str(text).replace('|', '/')} |")
    return "\n".join(lines)


def dataset_card(
    repo_id: str,
    *,
    config: Any,
    split_files: dict[str, list[str]],
    split_rows: dict[str, int],
    split_kinds: dict[str, list[str]],
    columns: list[str],
    provenance: dict[str, list[str]],
    languages: list[str],
    verification: dict[str, int],
    run_config: dict[str, Any] | None,
    knowledge_uploaded: bool,
) -> str:
    from mimir.hub.provenance import size_category

    metadata: dict[str, Any] = {
        "license": config.license,
        "language": languages or None,
        "task_categories": list(config.task_categories),
        "tags": list(dict.fromkeys(BASE_TAGS_DATASET + list(config.tags))),
        "size_categories": [size_category(sum(split_rows.values()))],
        "pretty_name": config.pretty_name or _title(repo_id),
        "configs": [{
            "config_name": "default",
            "data_files": [{"split": name, "path": f"data/{name}-*"} for name in split_files],
        }],
    }
    metadata = {k: v for k, v in metadata.items() if v is not None}
    rows = "\n".join(f"| {name} | {split_rows[name]} | {', '.join(split_kinds.get(name) or []) or '-'} |" for name in split_files)
    if verification:
        total = sum(verification.values())
        verification_text = ", ".join(f"{k}: {v}" for k, v in sorted(verification.items())) + f" (of {total} checked)"
    else:
        verification_text = "_not run for this dataset_"
    if run_config:
        reproduce = (
            "The MIMIR config of this run (also uploaded as `mimir_config.yaml`; secrets and local folders removed):\n\n"
            + _yaml_block(run_config)
            + "\n\nRerun a stage with `python -m mimir <stage> --config mimir_config.yaml` "
            "(with your own copies of the knowledge files)."

        )
    else:
        reproduce = "_The run config was not provided when this dataset was pushed._"
    return _render(
        "dataset_card.md",
        metadata,
        title=metadata["pretty_name"],
        repo_id=repo_id,
        split_rows=rows,
        sources=_names(provenance.get("sources", [])),
        knowledge_note="are included under `knowledge/`" if knowledge_uploaded else "are not uploaded",
        roles=_names(provenance.get("roles", [])),
        frameworks=_names(provenance.get("frameworks", [])),
        models=_names(provenance.get("models", [])),
        verification=verification_text,
        columns=", ".join(f"`{c}`" for c in columns),
        split_names=", ".join(split_files),
        first_split=next(iter(split_files)),
        reproduce=reproduce,
    )


def model_card(
    repo_id: str,
    *,
    config: Any,
    base_model: str,
    adapter_config: dict[str, Any],
    train_config: dict[str, Any] | None,
    metrics: dict[str, Any],
    evaluation: dict[str, Any] | None,
    files: list[str],
    has_tokenizer: bool,
) -> str:
    peft_type = str(adapter_config.get("peft_type", "LORA")).lower()
    method = str((train_config or {}).get("method") or "").lower()
    tags = BASE_TAGS_MODEL + ([method] if method and method not in ("lora",) else [])
    metadata: dict[str, Any] = {
        "base_model": base_model,
        "library_name": "peft",
        "pipeline_tag": "text-generation",
        "license": config.license,
        "language": list(config.language) or None,
        "datasets": [config.dataset_repo] if config.dataset_repo else None,
        "tags": list(dict.fromkeys(tags + ([peft_type] if peft_type != "lora" else []) + list(config.tags))),
    }
    metadata = {k: v for k, v in metadata.items() if v is not None}
    adapter_rows = {k: adapter_config[k] for k in ("peft_type", "r", "lora_alpha", "lora_dropout", "target_modules", "task_type") if k in adapter_config}
    training = "Adapter (`adapter_config.json`):\n\n" + _table(adapter_rows)
    if train_config:
        training += "\n\nMIMIR training config (`mimir_train_config.yaml`; secrets and local folders removed):\n\n" + _yaml_block(train_config)
    merged_note = ""
    if config.merged_repo_id:
        merged_note = f"\nA merged full model (no peft needed) is at [`{config.merged_repo_id}`](https://huggingface.co/{config.merged_repo_id}).\n"
    return _render(
        "model_card.md",
        metadata,
        title=_title(repo_id),
        base_model=base_model,
        repo_id=repo_id,
        tokenizer_repo=repo_id if has_tokenizer else base_model,
        dataset_note=f" ([`{config.dataset_repo}`](https://huggingface.co/datasets/{config.dataset_repo}))" if config.dataset_repo else "",
        merged_note=merged_note,
        training=training,
        metrics=_table(metrics),
        evaluation=_table(evaluation) if evaluation else "_No evaluation results were provided._",
        files="\n".join(f"- `{f}`" for f in files),
    )


def merged_card(repo_id: str, *, base_model: str, adapter_repo: str, config: Any) -> str:
    metadata = {
        "base_model": base_model,
        "library_name": "transformers",
        "pipeline_tag": "text-generation",
        "license": config.license,
        "tags": list(dict.fromkeys(["mimir", "merged-lora"] + list(config.tags))),
    }
    return _render("merged_card.md", metadata, title=_title(repo_id), base_model=base_model, adapter_repo=adapter_repo, repo_id=repo_id)
