"""Push MIMIR dialogue datasets to the Hub as parquet splits with a card, and load them back."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any, Mapping

from mimir.errors import HubError, InputFileError
from mimir.hub import provenance
from mimir.hub.auth import hub_endpoint, hub_errors, resolve_token
from mimir.hub.cards import dataset_card
from mimir.hub.config import DatasetPushConfig
from mimir.hub.records import read_split, write_parquet
from mimir.hub.repo import HubSession, Progress, PushResult, Upload, redacted_text
from mimir.types import is_replay_record

CONFIG_FILE = "mimir_config.yaml"


def push_dataset(
    splits: Mapping[str, str | Path],
    *,
    config: DatasetPushConfig,
    token: Any = None,
    run_config: str | Path | dict[str, Any] | None = None,
    verdicts: str | Path | None = None,
    verification: dict[str, Any] | None = None,
    knowledge_sources: list[str] = (),  # type: ignore[assignment]
    knowledge_files: list[str | Path] = (),  # type: ignore[assignment]
    endpoint: str | None = None,
    progress: Progress | None = None,
) -> PushResult:
    """Upload JSONL splits (e.g. ``{"raw": ..., "verified": ..., "baseline": ...}``) as parquet.

    ``token``: a string or ``gr.OAuthToken`` (else ``HF_TOKEN``). ``run_config``: the MIMIR config
    (YAML path or dict) embedded in the card and uploaded as ``mimir_config.yaml``, sanitized.
    ``verdicts`` / ``verification``: verification totals for the card. ``knowledge_sources``:
    names listed in the card (plus those found in the records). ``knowledge_files`` are uploaded
    only with ``config.include_knowledge_files=True``; otherwise only their names are listed.
    Everything is validated locally before the first request.
    """
    if not config.repo_id:
        raise HubError("no dataset repo id: set repo_id (e.g. 'my-clinic-dialogues')")
    if not splits:
        raise InputFileError("no splits to push: give at least one JSONL file (raw, verified or baseline)")
    if config.max_shard_rows < 1:
        raise HubError("max_shard_rows must be at least 1")
    records = {name: read_split(path) for name, path in splits.items()}
    if not config.include_replay:
        records = {name: [r for r in rs if not is_replay_record(r)] for name, rs in records.items()}
        if not any(records.values()):
            raise InputFileError("every record is a replay record (the base model's own answers); nothing to push")
    all_records = [r for rs in records.values() for r in rs]
    found = provenance.collect(all_records)
    found["sources"] = list(dict.fromkeys([provenance.source_name(s) for s in knowledge_sources] + [
        provenance.source_name(str(f)) for f in knowledge_files] + found["sources"]))
    totals = provenance.verification_totals(verdicts, verification)
    languages = list(config.language) or provenance.detect_languages(all_records)
    published_config = provenance.load_run_config(run_config)
    knowledge = [Path(f) for f in knowledge_files] if config.include_knowledge_files else []
    for path in knowledge:
        if not path.is_file():
            raise InputFileError(f"{path}: knowledge file not found")

    session = HubSession(token, endpoint, progress)
    with tempfile.TemporaryDirectory(prefix="mimir-hub-") as tmp:
        files, json_columns = write_parquet(records, Path(tmp), max_rows=config.max_shard_rows)
        import pyarrow.parquet as pq

        columns = list(pq.read_schema(next(iter(files.values()))[0]).names)
        uploads = [Upload(f"data/{p.name}", local=p) for paths in files.values() for p in paths]
        if published_config is not None:
            import yaml

            text = yaml.safe_dump(published_config, sort_keys=False, allow_unicode=True)
            uploads.append(Upload(CONFIG_FILE, text.encode("utf-8")))
        uploads += [Upload(f"knowledge/{p.name}", redacted_text(p.read_bytes())) for p in knowledge]

        def card(repo_id: str) -> str:
            return dataset_card(
                repo_id,
                config=config,
                split_files={name: [f"data/{p.name}" for p in paths] for name, paths in files.items()},
                split_rows={name: len(rs) for name, rs in records.items()},
                split_kinds={name: provenance.collect(rs)["kinds"] for name, rs in records.items()},
                columns=columns,
                provenance=found,
                languages=languages,
                verification=totals,
                run_config=published_config,
                knowledge_uploaded=bool(knowledge),
            )

        # Old parquet shards and knowledge files not in this push are removed: the repo mirrors this push.
        def keep(path: str) -> bool:
            return not path.startswith(("data/", "knowledge/")) and path != CONFIG_FILE

        return session.push(
            config.repo_id, "dataset", private=config.private, uploads=uploads, card=card, keep=keep, what="dataset"
        )


def load_dataset_from_hub(
    repo_id: str, *, split: str | None = None, token: Any = None, revision: str | None = None, cache_dir: str | None = None
) -> Any:
    """``datasets.load_dataset(repo_id)`` with the token passed per call (a ``DatasetDict``, or one
    ``Dataset`` with ``split``). Rows keep the Hub encoding; see :func:`load_records_from_hub`."""
    import datasets

    token = resolve_token(token, required=False)
    endpoint = hub_endpoint()
    if datasets.config.HF_ENDPOINT.rstrip("/") != endpoint:
        raise HubError(
            f"datasets was imported with HF_ENDPOINT={datasets.config.HF_ENDPOINT} but the Hub endpoint is now "
            f"{endpoint}; set HF_ENDPOINT before starting MIMIR"
        )
    with hub_errors("load the dataset", repo_id):
        try:
            return datasets.load_dataset(
                repo_id, split=split, token=token if token else False, revision=revision, cache_dir=cache_dir
            )
        except datasets.exceptions.DatasetNotFoundError as exc:
            raise HubError(f"dataset {repo_id} was not found on {endpoint} or this token cannot read it ({exc})") from None
        except ValueError as exc:  # e.g. an unknown split name
            raise HubError(f"could not load {repo_id}: {exc}") from None


def load_records_from_hub(repo_id: str, *, split: str, token: Any = None, revision: str | None = None) -> list[dict[str, Any]]:
    """The original JSONL records of one split (nested ``*_json`` columns decoded), ready to train on."""
    from mimir.hub.records import decode_row

    data = load_dataset_from_hub(repo_id, split=split, token=token, revision=revision)
    return [decode_row(row) for row in data]
