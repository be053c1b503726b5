"""Public datasets as knowledge: catalog entries (``mimir/assets/datasets.yaml``) or any Hub id with a
field mapping, loaded through ``datasets.load_dataset`` and mapped into question/answer chunks.

The same path reads local files: give ``data_files`` and the catalog's mapping is applied to
rows read by the ``json`` / ``csv`` / ``parquet`` builder (that is how the offline tests run).
"""

from __future__ import annotations

import dataclasses
import functools
import itertools
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from mimir.config import read_data_file
from mimir.errors import ConfigError, InputFileError
from mimir.resources import package_path
from mimir.types import Chunk, stable_id

log = logging.getLogger(__name__)

CATALOG_PATH = package_path("assets", "datasets.yaml")
_BUILDERS = {".json": "json", ".jsonl": "json", ".csv": "csv", ".parquet": "parquet"}
_LABELS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


@dataclass
class DatasetSpec:
    """Where a dataset lives and how its rows map to question / answer / context."""

    name: str
    hub_id: str
    config: str | None = None
    split: str = "train"
    fields: dict[str, str] = field(default_factory=dict)  # question, answer, context, explanation -> path
    choices: Any = None  # path | [paths] | {"labels": path, "texts": path}
    answer_format: Literal["text", "index", "label"] = "text"
    domain: str = ""
    description: str = ""
    license: str = ""
    data_files: list[str] | None = None  # local files instead of the Hub

    def to_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        if self.data_files:  # provenance keeps file names only, never local paths
            data["data_files"] = [Path(p).name for p in self.data_files]
        return data

    def source_key(self) -> str:
        parts = [self.hub_id, self.config or "default", self.split]
        if self.data_files:
            parts = [self.name, "local", *sorted(Path(p).name for p in self.data_files)]
        return "dataset:" + "/".join(parts)

    def validate(self) -> None:
        where = f"dataset {self.name!r}"
        if not self.hub_id and not self.data_files:
            raise ConfigError(f"{where}: needs hub_id (a Hub dataset id) or data_files")
        unknown = set(self.fields) - {"question", "answer", "context", "explanation"}
        if unknown:
            raise ConfigError(f"{where}: unknown field role(s) {sorted(unknown)}; use question, answer, context, explanation")
        for role in ("question", "answer"):
            if not self.fields.get(role):
                raise ConfigError(f"{where}: fields.{role} is required (the column holding the {role})")
        if self.answer_format not in ("text", "index", "label"):
            raise ConfigError(f"{where}: answer_format must be text, index or label")
        if self.answer_format != "text" and not self.choices:
            raise ConfigError(f"{where}: answer_format {self.answer_format!r} needs a choices field")


@functools.lru_cache(maxsize=4)
def _read_catalog(path: str) -> dict[str, dict[str, Any]]:
    data = read_data_file(path, what="dataset catalog", mapping=True)
    if not isinstance(data.get("datasets"), dict):
        raise ConfigError(f"{path}: expected a top-level 'datasets:' mapping")
    return data["datasets"]


def catalog(path: str | Path | None = None) -> dict[str, DatasetSpec]:
    """Every catalog entry as a spec, by name."""
    entries = _read_catalog(str(path or CATALOG_PATH))
    return {name: _spec_from_mapping(name, dict(entry)) for name, entry in entries.items()}


def _spec_from_mapping(name: str, entry: dict[str, Any]) -> DatasetSpec:
    known = {f.name for f in dataclasses.fields(DatasetSpec)}
    unknown = set(entry) - known
    if unknown:
        raise ConfigError(f"dataset {name!r}: unknown key(s) {sorted(unknown)}; valid: {sorted(known - {'name'})}")
    entry.setdefault("name", name)
    if isinstance(entry.get("data_files"), str):
        entry["data_files"] = [entry["data_files"]]
    if entry.get("config") is not None:
        entry["config"] = str(entry["config"])
    spec = DatasetSpec(**entry)
    spec.validate()
    return spec


def resolve_spec(spec: Any, **overrides: Any) -> DatasetSpec:
    """A catalog name, a Hub id (with ``fields=...``), a mapping or a spec, plus overrides."""
    if isinstance(spec, DatasetSpec):
        base = dataclasses.asdict(spec)
    elif isinstance(spec, dict):
        base = dict(spec)
    elif isinstance(spec, str):
        entries = catalog()
        if spec in entries:
            base = dataclasses.asdict(entries[spec])
        elif "/" in spec or overrides.get("data_files"):
            base = {"name": spec, "hub_id": spec}
        else:
            raise ConfigError(
                f"dataset {spec!r} is not in the catalog ({', '.join(sorted(entries))}); "
                "give a Hub id like owner/name with a field mapping instead"
            )
    else:
        raise ConfigError(f"dataset spec must be a name, a mapping or a DatasetSpec, not {type(spec).__name__}")
    for key, value in overrides.items():
        if value is None:
            continue
        if key == "fields":
            base["fields"] = {**base.get("fields", {}), **value}
        else:
            base[key] = value
    name = str(base.pop("name", base.get("hub_id", "dataset")))
    return _spec_from_mapping(name, base)


def _open_rows(spec: DatasetSpec, limit: int | None):  # type: ignore[no-untyped-def]
    """Rows from the Hub (streamed when limited) or from local files, via datasets.load_dataset."""
    import datasets

    try:
        if spec.data_files:
            files = [str(Path(p)) for p in spec.data_files]
            suffix = Path(files[0]).suffix.lower()
            if suffix not in _BUILDERS:
                raise InputFileError(f"{Path(files[0]).name}: dataset files must be {', '.join(_BUILDERS)}")
            missing = [Path(p).name for p in files if not Path(p).is_file()]
            if missing:
                raise InputFileError(f"dataset {spec.name!r}: file(s) not found: {', '.join(missing)}")
            rows = datasets.load_dataset(_BUILDERS[suffix], data_files=files, split="train")
        else:
            rows = datasets.load_dataset(spec.hub_id, spec.config, split=spec.split, streaming=limit is not None)
    except (InputFileError, ConfigError):
        raise
    except Exception as exc:  # network, missing config/split, bad files: say which and why
        raise InputFileError(
            f"dataset {spec.name!r} ({spec.hub_id}{', ' + spec.config if spec.config else ''}, split {spec.split}): "
            f"cannot be loaded ({type(exc).__name__}: {str(exc)[:300]})"
        ) from None
    return itertools.islice(rows, limit) if limit is not None else iter(rows)


def load_dataset_chunks(spec: DatasetSpec, limit: int | None = None) -> list[Chunk]:
    """Map up to ``limit`` rows to ``Chunk(kind="qa")``; rows without question or answer are skipped."""
    if limit is not None and limit < 1:
        raise ConfigError("limit must be at least 1")
    chunks: list[Chunk] = []
    skipped = 0
    for index, row in enumerate(_open_rows(spec, limit)):
        if index == 0:
            _check_columns(spec, row)
        try:
            question, answer, context = map_row(spec, row)
        except (KeyError, IndexError, ValueError, TypeError) as exc:
            skipped += 1
            log.debug("row %d of %s skipped: %s", index, spec.name, exc)
            continue
        if not question or not answer:
            skipped += 1
            continue
        text = f"Question: {question}\nAnswer: {answer}"
        if context:
            text = f"Context: {context}\n{text}"
        chunks.append(
            Chunk(
                id=stable_id(spec.source_key(), index, question, answer, prefix="qa_"),
                text=text,
                source=spec.hub_id or spec.name,
                kind="qa",
                heading=spec.name,
                row=index,
                question=question,
                answer=answer,
                meta={"dataset": spec.name, "config": spec.config, "split": spec.split, "domain": spec.domain,
                      "context": context},
            )
        )
    if not chunks:
        raise InputFileError(f"dataset {spec.name!r}: no usable rows ({skipped} skipped); check the field mapping")
    if skipped:
        log.info("dataset %s: %d rows without question or answer skipped", spec.name, skipped)
    return chunks


def _check_columns(spec: DatasetSpec, row: dict[str, Any]) -> None:
    paths = dict(spec.fields)
    if isinstance(spec.choices, str):
        paths["choices"] = spec.choices
    elif isinstance(spec.choices, list):
        paths.update({f"choices[{i}]": p for i, p in enumerate(spec.choices)})
    elif isinstance(spec.choices, dict):
        paths.update({f"choices.{k}": p for k, p in spec.choices.items()})
    for role, path in paths.items():
        if path and path.split(".")[0] not in row:
            raise ConfigError(
                f"dataset {spec.name!r}: {role} field {path!r} is not a column; columns are: {', '.join(map(str, row))}"
            )


def _value(row: Any, path: str) -> Any:
    value = row
    for part in path.split("."):
        value = value[part]
    return value


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, (list, tuple)):
        return "\n".join(_text(v) for v in value if _text(v))
    return str(value).strip()


def _choices(spec: DatasetSpec, row: dict[str, Any]) -> list[tuple[str, str]]:
    if not spec.choices:
        return []
    if isinstance(spec.choices, list):
        return [(_LABELS[i], _text(_value(row, p))) for i, p in enumerate(spec.choices)]
    if isinstance(spec.choices, dict):
        labels, texts = _value(row, spec.choices["labels"]), _value(row, spec.choices["texts"])
        return [(str(label), _text(text)) for label, text in zip(labels, texts)]
    value = _value(row, spec.choices)
    if isinstance(value, dict):
        return [(str(k), _text(v)) for k, v in value.items() if v is not None]
    return [(_LABELS[i], _text(v)) for i, v in enumerate(value)]


def map_row(spec: DatasetSpec, row: dict[str, Any]) -> tuple[str, str, str]:
    """(question, answer, context) for one row under the spec's mapping."""
    question = _text(_value(row, spec.fields["question"]))
    raw_answer = _value(row, spec.fields["answer"])
    if not question:
        return "", "", ""
    choices = _choices(spec, row)
    if choices:
        question += "\n" + "\n".join(f"{label}. {text}" for label, text in choices)
    if spec.answer_format == "index":
        label, text = choices[int(raw_answer)]
        answer = f"{label}. {text}"
    elif spec.answer_format == "label":
        lookup = dict(choices)
        key = str(raw_answer).strip()
        if key not in lookup:
            raise KeyError(f"answer label {key!r} not among the choices")
        answer = f"{key}. {lookup[key]}"
    else:
        answer = _text(raw_answer)
    explanation = _text(_value(row, spec.fields["explanation"])) if spec.fields.get("explanation") else ""
    if explanation:
        answer = f"{answer}\n{explanation}" if answer else explanation
    context = _text(_value(row, spec.fields["context"])) if spec.fields.get("context") else ""
    return question, answer, context
