"""Options of the two pushes (``python -m mimir push dataset|adapter``), with help text."""

from __future__ import annotations

from dataclasses import dataclass

from mimir.config import option


@dataclass
class DatasetPushConfig:
    repo_id: str = option("", help="Target dataset repo: 'name' (under your account) or 'namespace/name'.")
    private: bool = option(True, help="Create the repo private; pushing private data into an existing PUBLIC repo is refused.")
    license: str = option("other", help="License in the card metadata (Hub identifier, e.g. cc-by-4.0, apache-2.0, other).")
    language: list[str] = option([], help="ISO 639-1 codes for the card; empty = detected from the dialogues with py3langid.")
    pretty_name: str = option("", help="Human title of the dataset; empty = derived from the repo name.")
    task_categories: list[str] = option(["text-generation"], help="Hub task categories for the card metadata.")
    tags: list[str] = option([], help="Extra card tags (mimir, synthetic, multi-turn, tool-calling are always added).")
    include_knowledge_files: bool = option(
        False, help="Also upload the private knowledge files under knowledge/. Off by default: only their NAMES are listed."
    )
    max_shard_rows: int = option(50_000, min=1, help="Rows per parquet shard.")
    include_replay: bool = option(
        False, help="Also push the replay records (the base model's own answers to general prompts, mixed into training "
        "against forgetting). Off: they are the base model's words, not the dataset's knowledge, and may be wrong."
    )


@dataclass
class AdapterPushConfig:
    repo_id: str = option("", help="Target model repo for the adapter: 'name' or 'namespace/name'.")
    private: bool = option(True, help="Create the repo private; pushing into an existing PUBLIC repo with private=True is refused.")
    base_model: str = option(
        "", help="Hub id of the base model for the card and adapter_config.json; empty = from adapter_config.json "
        "(the embedded model's local cache maps to HuggingFaceTB/SmolLM2-135M-Instruct)."
    )
    license: str = option("other", help="License in the card metadata (should be compatible with the base model's).")
    language: list[str] = option([], help="ISO 639-1 codes for the card metadata (optional).")
    dataset_repo: str = option("", help="Dataset repo the adapter was trained on, linked in the card ('datasets:' metadata).")
    tags: list[str] = option([], help="Extra card tags (mimir, peft, lora are always added).")
    merged_repo_id: str = option(
        "", help="If set, also merge the adapter into the base model and push the full model to this repo."
    )
