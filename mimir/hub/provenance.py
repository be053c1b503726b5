"""What a card says about how data or an adapter was made — names only, nothing private.

Collected from the records themselves (scenario roles, frameworks, models, source names) plus
what the caller passes. Local paths are cut to file names; config keys that look like secrets
are dropped; every string goes through :func:`mimir.secrets.redact`.
"""

from __future__ import annotations

import collections
import re
from pathlib import Path, PurePath
from typing import Any, Iterable

from mimir.errors import InputFileError
from mimir.secrets import redact

# Key names that hold credentials ("hf_token", "tavily_api_key"), not e.g. "max_new_tokens".
SECRET_KEY = re.compile(r"(^key|token|secret|password|passwd|api[_-]?key|_key|credentials?)$", re.I)
SECRET_PLACEHOLDER = "<set at run time>"
_SOURCE_KEYS = ("knowledge_sources", "source_names", "sources", "source_files")


def source_name(value: str) -> str:
    """A source's display name: a file name for paths, the id for datasets (``owner/name``)."""
    value = str(value).strip()
    if "://" in value:
        return value.split("://", 1)[1].rstrip("/").split("/")[-1] or value
    if value.startswith(("/", "~", ".")) or "\\" in value or Path(value).suffix:
        return PurePath(value.replace("\\", "/")).name
    return value  # a dataset id such as "bigbio/med_qa" or a bare name


def model_name(spec: str) -> str:
    """A model spec as published: no server URLs (``endpoint:m@http://10.0.0.5``) or local folders."""
    spec = spec.strip()
    if "@" in spec and "://" in spec.split("@", 1)[1]:
        spec = spec.split("@", 1)[0]
    backend, sep, rest = spec.partition(":")
    if sep and rest.startswith(("/", "~", ".")):
        return f"{backend}:{source_name(rest)}"
    return source_name(spec) if spec.startswith(("/", "~")) else spec


def collect(records: Iterable[dict[str, Any]]) -> dict[str, list[str]]:
    """Roles, frameworks, models, kinds (mimir/self_instruct/...) and source names seen in records."""
    found: dict[str, collections.Counter] = {k: collections.Counter() for k in ("roles", "frameworks", "models", "kinds", "sources")}
    for record in records:
        # Dialogue records keep extras in "meta"; training-export rows in "metadata".
        meta = {**(record.get("metadata") if isinstance(record.get("metadata"), dict) else {}),
                **(record.get("meta") if isinstance(record.get("meta"), dict) else {})}
        scenario = record.get("scenario") if isinstance(record.get("scenario"), dict) else {}
        for role in scenario.get("roles") or meta.get("roles") or []:
            found["roles"][str(role)] += 1
        for key in ("target_role",):
            for holder in (record, scenario, meta):
                if isinstance(holder.get(key), str):
                    found["roles"][holder[key]] += 1
        for message in record.get("messages") or []:
            if isinstance(message, dict) and isinstance(message.get("name"), str) and message.get("role") == "user":
                found["roles"][message["name"]] += 1
        for holder in (scenario, record, meta):
            if isinstance(holder.get("framework"), str):
                found["frameworks"][holder["framework"]] += 1
                break
        for holder in (record, meta):
            if isinstance(holder.get("model"), str) and holder["model"]:
                found["models"][model_name(holder["model"])] += 1
        kind = record.get("source") if isinstance(record.get("source"), str) else meta.get("source")
        if isinstance(kind, str) and kind:
            found["kinds"][kind] += 1
        for holder in (record, meta):
            for key in _SOURCE_KEYS:
                values = holder.get(key)
                if isinstance(values, str):
                    values = [values]
                for value in values if isinstance(values, list) else []:
                    if isinstance(value, str) and value:
                        found["sources"][source_name(value)] += 1
    return {key: [redact(name) for name, _ in counter.most_common()] for key, counter in found.items()}


def verification_totals(verdicts: str | Path | None = None, totals: dict[str, Any] | None = None) -> dict[str, int]:
    """Decision counts (keep / fix / reject / judge_failed) from a verdicts JSONL or a given dict."""
    if totals:
        return {str(k): int(v) for k, v in totals.items() if isinstance(v, (int, float)) and not isinstance(v, bool)}
    if verdicts is None:
        return {}
    from mimir.jsonl import read_records

    path = Path(verdicts)
    if not path.is_file():
        raise InputFileError(f"{path}: verdicts file not found")
    counter: collections.Counter = collections.Counter()
    for record in read_records(path):
        if "decision" not in record:
            raise InputFileError(f"{path}: a record has no 'decision'; expected MIMIR Verdict records")
        counter[str(record["decision"])] += 1
    return dict(counter)


def sanitize_config(value: Any) -> Any:
    """A copy of a run config that is safe to publish: no secrets, no local directories."""
    if isinstance(value, dict):
        return {
            str(k): (SECRET_PLACEHOLDER if SECRET_KEY.search(str(k)) and v not in (None, "", False) else sanitize_config(v))
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [sanitize_config(v) for v in value]
    if isinstance(value, str):
        text = redact(value)
        if text.startswith(("/", "~")) or re.match(r"^[A-Za-z]:\\", text):
            return source_name(text)  # an absolute local path: keep only the name
        return text
    return value


def load_run_config(run_config: str | Path | dict[str, Any] | None) -> dict[str, Any] | None:
    """The MIMIR config that reproduces a run (YAML file or dict), sanitized for publishing."""
    if run_config is None:
        return None
    if isinstance(run_config, dict):
        return sanitize_config(run_config)
    from mimir.config import read_data_file

    return sanitize_config(read_data_file(run_config, what="run config", error=InputFileError, mapping=True))


def detect_languages(records: Iterable[dict[str, Any]], *, sample: int = 200) -> list[str]:
    """ISO 639-1 codes of the dialogue text (py3langid on a sample), most frequent first."""
    import py3langid

    counter: collections.Counter = collections.Counter()
    for index, record in enumerate(records):
        if index >= sample:
            break
        text = " ".join(m.get("content") or "" for m in record.get("messages") or [] if isinstance(m.get("content"), str))
        if len(text.strip()) >= 20:
            counter[py3langid.classify(text)[0]] += 1
    total = sum(counter.values())
    return [lang for lang, n in counter.most_common() if n >= max(1, total * 0.1)]


def size_category(n: int) -> str:
    for limit, label in ((1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K"), (1_000_000, "100K<n<1M")):
        if n < limit:
            return label
    return "1M<n<10M" if n < 10_000_000 else "n>10M"
