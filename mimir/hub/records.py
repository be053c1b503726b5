"""JSONL records <-> parquet rows for the Hub, losslessly.

Every split shares one Arrow schema (so ``datasets.load_dataset(repo)`` gives all splits):
- ``messages``: OpenAI chat messages as structs (role, content, name, tool_calls with
  ``function.arguments`` as a JSON string, tool_call_id); any other message key, or a value of
  an unexpected type, is kept in the message's ``extra_json``. Records that carry MIMIR
  ``Dialogue`` turns instead get ``messages`` derived from them with MIMIR's training export
  (the target role speaks as "assistant", other roles as "user" with ``name``), and keep their
  turns too.
- every other top-level key: a native column when all its values are str, bool, int or float
  (ints mixed with floats become floats);
  otherwise (lists, dicts, mixed types) a JSON string column named ``<key>_json``. The suffix is
  reserved: a source key already ending in ``_json`` is always encoded again, so decoding is exact.
"""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path
from typing import Any, Iterable

from mimir.errors import InputFileError

log = logging.getLogger(__name__)
JSON_SUFFIX = "_json"
SPLIT_NAME = re.compile(r"^\w+$")
_MESSAGE_KEYS = ("role", "content", "name", "tool_calls", "tool_call_id")


def read_split(path: str | Path) -> list[dict[str, Any]]:
    """All records of one JSONL file, each with ``messages`` (derived from ``turns`` if needed)."""
    from mimir.jsonl import read_records

    path = Path(path)
    if not path.is_file():
        raise InputFileError(f"{path}: file not found (expected a JSONL file of dialogues)")
    try:
        records = list(read_records(path))
    except ValueError as exc:
        raise InputFileError(str(exc)) from None
    out = []
    for number, record in enumerate(records, 1):
        if not isinstance(record, dict):
            raise InputFileError(f"{path}: record {number} is not a JSON object")
        if isinstance(record.get("messages"), list):
            out.append(record)
        elif isinstance(record.get("turns"), list):
            out.append({"messages": dialogue_messages(record), **record})
        else:
            raise InputFileError(
                f"{path}: record {number} has neither a 'messages' list (chat format) nor 'turns' (a MIMIR Dialogue)"
            )
        for index, message in enumerate(out[-1]["messages"]):
            if not isinstance(message, dict) or not isinstance(message.get("role"), str):
                raise InputFileError(f"{path}: record {number}, message {index} has no string 'role'")
    if not out:
        raise InputFileError(f"{path}: no records; nothing to upload")
    return out


def dialogue_messages(record: dict[str, Any]) -> list[dict[str, Any]]:
    """The training ``messages`` of a MIMIR ``Dialogue`` record, exactly as MIMIR trains on them
    (``mimir.generate.export.export_for_training``: closed-book system prompt, target -> assistant).
    Dialogues that export skips (failed, too short) or whose roles are not in the role library
    get the plain conversion of :func:`messages_from_turns`, so the raw split still shows them."""
    try:
        from mimir.errors import MimirError
        from mimir.generate.export import export_for_training
        from mimir.types import Dialogue

        rows = export_for_training([Dialogue.from_dict(record)])
    except (ImportError, MimirError, KeyError, TypeError, ValueError) as exc:
        log.info("dialogue %s: plain message conversion (%s)", record.get("id"), exc)
        rows = []
    return rows[0]["messages"] if rows else messages_from_turns(record)


def messages_from_turns(record: dict[str, Any]) -> list[dict[str, Any]]:
    """OpenAI chat messages from a MIMIR ``Dialogue`` record (target role -> assistant), no system prompt."""
    scenario = record.get("scenario") or {}
    target = scenario.get("target_role") if isinstance(scenario, dict) else None
    messages: list[dict[str, Any]] = []
    for turn in record["turns"]:
        role, speaker = turn.get("role", "user"), turn.get("speaker", "")
        if role in ("user", "assistant") and target:
            role = "assistant" if speaker == target else "user"
        message: dict[str, Any] = {"role": role, "content": turn.get("content", "")}
        if role == "user" and speaker:
            message["name"] = speaker
        if role == "tool":
            message["tool_call_id"] = turn.get("tool_call_id", "")
        calls = turn.get("tool_calls") or []
        if role == "assistant" and calls:
            message["tool_calls"] = [
                {"id": c.get("id", ""), "type": "function",
                 "function": {"name": c.get("name", ""), "arguments": json.dumps(c.get("arguments") or {}, ensure_ascii=False)}}
                for c in calls
            ]
        messages.append(message)
    return messages


# -- schema -------------------------------------------------------------------------------
def _message_type() -> Any:
    import pyarrow as pa

    function = pa.struct([("name", pa.string()), ("arguments", pa.string())])
    call = pa.struct([("id", pa.string()), ("type", pa.string()), ("function", function)])
    return pa.struct([
        ("role", pa.string()), ("content", pa.string()), ("name", pa.string()),
        ("tool_calls", pa.list_(call)), ("tool_call_id", pa.string()), ("extra_json", pa.string()),
    ])


def _kind(values: Iterable[Any]) -> str:
    """'string' | 'bool' | 'int' | 'float' | 'json' for one top-level key across all records."""
    kinds = set()
    for value in values:
        if value is None:
            continue
        if isinstance(value, bool):
            kinds.add("bool")
        elif isinstance(value, int):
            kinds.add("int")
        elif isinstance(value, float):
            kinds.add("float")
        elif isinstance(value, str):
            kinds.add("string")
        else:
            kinds.add("json")
    if kinds == {"int", "float"}:
        return "float"  # 3 comes back as 3.0 (equal in Python)
    return kinds.pop() if len(kinds) == 1 else ("string" if not kinds else "json")


def build_schema(splits: dict[str, list[dict[str, Any]]]) -> tuple[Any, dict[str, str]]:
    """One schema for every split, and the mapping column -> source key for JSON columns."""
    import pyarrow as pa

    keys: list[str] = []
    for records in splits.values():
        for record in records:
            keys.extend(k for k in record if k != "messages" and k not in keys)
    arrow = {"string": pa.string(), "bool": pa.bool_(), "int": pa.int64(), "float": pa.float64()}
    fields = [pa.field("messages", pa.list_(_message_type()))]
    json_columns: dict[str, str] = {}
    for key in keys:
        kind = _kind(r.get(key) for records in splits.values() for r in records)
        if kind == "json" or key.endswith(JSON_SUFFIX):
            json_columns[key + JSON_SUFFIX] = key
            fields.append(pa.field(key + JSON_SUFFIX, pa.string()))
        else:
            fields.append(pa.field(key, arrow[kind]))
    if len({f.name for f in fields}) != len(fields):
        raise InputFileError(f"records have keys that collide after JSON encoding: {[f.name for f in fields]}")
    return pa.schema(fields), json_columns


def _encode_message(message: dict[str, Any]) -> dict[str, Any]:
    row: dict[str, Any] = {"role": message["role"]}
    extra = {k: v for k, v in message.items() if k not in _MESSAGE_KEYS}
    for key in ("content", "name", "tool_call_id"):
        value = message.get(key)
        if value is None or isinstance(value, str):
            row[key] = value
        else:  # e.g. content as a list of parts
            row[key] = None
            extra[key] = value
    calls = message.get("tool_calls")
    row["tool_calls"] = None
    if calls is not None:
        encoded = [_encode_call(c) for c in calls] if isinstance(calls, list) else None
        if encoded is None or any(c is None for c in encoded):
            extra["tool_calls"] = calls
        else:
            row["tool_calls"] = encoded
    row["extra_json"] = json.dumps(extra, ensure_ascii=False, sort_keys=True) if extra else None
    return row


def _encode_call(call: Any) -> dict[str, Any] | None:
    """An OpenAI tool call with string fields; ``None`` when it has another shape (kept as extra)."""
    if not isinstance(call, dict) or set(call) - {"id", "type", "function"}:
        return None
    function = call.get("function")
    if not isinstance(function, dict) or set(function) - {"name", "arguments"}:
        return None
    arguments = function.get("arguments")
    if isinstance(arguments, dict):
        arguments = json.dumps(arguments, ensure_ascii=False)
    if not all(isinstance(v, (str, type(None))) for v in (call.get("id"), call.get("type"), function.get("name"), arguments)):
        return None
    return {"id": call.get("id"), "type": call.get("type"), "function": {"name": function.get("name"), "arguments": arguments}}


def to_table(records: list[dict[str, Any]], schema: Any, json_columns: dict[str, str]) -> Any:
    import pyarrow as pa

    columns: dict[str, list[Any]] = {name: [] for name in schema.names}
    for record in records:
        columns["messages"].append([_encode_message(m) for m in record["messages"]])
        for name in schema.names[1:]:
            if name in json_columns:
                key = json_columns[name]
                value = record.get(key)
                columns[name].append(json.dumps(value, ensure_ascii=False) if value is not None else None)
            else:
                columns[name].append(record.get(name))
    return pa.table({name: pa.array(values, type=schema.field(name).type) for name, values in columns.items()}, schema=schema)


def write_parquet(
    splits: dict[str, list[dict[str, Any]]], folder: Path, *, max_rows: int
) -> tuple[dict[str, list[Path]], dict[str, str]]:
    """Write ``data/<split>-<i>-of-<n>.parquet`` shards under ``folder``; returns files per split."""
    import pyarrow.parquet as pq

    for name in splits:
        if not SPLIT_NAME.match(name):
            raise InputFileError(f"split name {name!r} is not valid: use letters, digits and underscores")
    schema, json_columns = build_schema(splits)
    out: dict[str, list[Path]] = {}
    (folder / "data").mkdir(parents=True, exist_ok=True)
    for name, records in splits.items():
        shards = [records[i:i + max_rows] for i in range(0, len(records), max_rows)]
        out[name] = []
        for index, shard in enumerate(shards):
            path = folder / "data" / f"{name}-{index:05d}-of-{len(shards):05d}.parquet"
            pq.write_table(to_table(shard, schema, json_columns), path)
            out[name].append(path)
    return out, json_columns


# -- decoding -------------------------------------------------------------------------------
def decode_row(row: dict[str, Any]) -> dict[str, Any]:
    """A row loaded from the Hub (``datasets``) back into the original record shape."""
    record: dict[str, Any] = {}
    for key, value in row.items():
        if key == "messages":
            record["messages"] = [_decode_message(m) for m in value] if value is not None else None
        elif key.endswith(JSON_SUFFIX):
            if value is not None:
                record[key[: -len(JSON_SUFFIX)]] = json.loads(value)
        elif value is not None:
            record[key] = value
    return record


def _decode_message(row: dict[str, Any]) -> dict[str, Any]:
    message = {k: row.get(k) for k in _MESSAGE_KEYS if row.get(k) is not None}
    if row.get("extra_json"):
        message.update(json.loads(row["extra_json"]))
    return message


def normalize_record(record: dict[str, Any]) -> dict[str, Any]:
    """What :func:`decode_row` returns for ``record``: None-valued keys dropped, tool-call
    arguments as JSON strings (the OpenAI wire format). Used to compare round trips."""
    if isinstance(record.get("turns"), list) and "messages" not in record:
        record = {"messages": dialogue_messages(record), **record}
    out = {k: v for k, v in record.items() if v is not None and k != "messages"}
    out["messages"] = [_decode_message(_encode_message(m)) for m in record["messages"]]
    return out
