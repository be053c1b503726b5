"""JSON and JSON Lines: nesting depth is checked before parsing, lists of objects become one
record block per object, other values are flattened into ``key.path: value`` lines grouped by
the object that holds them."""

from __future__ import annotations

import json
from typing import Any

from mimir.errors import InputFileError
from mimir.knowledge.config import KnowledgeConfig
from mimir.knowledge.documents import Document, TextBuilder
from mimir.knowledge.loaders._common import decode_text


def json_depth(text: str) -> int:
    """Deepest bracket nesting, scanning strings correctly; linear and recursion-free."""
    depth = deepest = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth -= 1
    return deepest


def _parse(text: str, name: str, config: KnowledgeConfig, where: str = "") -> Any:
    depth = json_depth(text)
    if depth > config.max_json_depth:
        raise InputFileError(
            f"{name}: {where}JSON nested {depth} levels deep, over the limit of {config.max_json_depth} "
            "(knowledge.max_json_depth)"
        )
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputFileError(f"{name}: {where}invalid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno})") from None


def load_json(data: bytes, name: str, config: KnowledgeConfig) -> Document:
    value = _parse(decode_text(data, name), name, config)
    builder = TextBuilder()
    _walk(value, "", builder)
    return Document(name=name, format="json", text=builder.text, blocks=builder.blocks)


def load_jsonl(data: bytes, name: str, config: KnowledgeConfig) -> Document:
    text = decode_text(data, name)
    builder = TextBuilder()
    count = 0
    for number, line in enumerate(text.split("\n"), 1):
        if not line.strip():
            continue
        count += 1
        if count > config.max_csv_rows:
            raise InputFileError(f"{name}: more than {config.max_csv_rows} records (knowledge.max_csv_rows)")
        value = _parse(line, name, config, where=f"line {number}: ")
        builder.add(_flatten_text(value), kind="record", row=number)
    return Document(name=name, format="jsonl", text=builder.text, blocks=builder.blocks)


def _scalar(value: Any) -> str:
    if value is None:  # a null field carries no knowledge
        return ""
    if isinstance(value, str):
        return value.strip()
    return json.dumps(value, ensure_ascii=False)


def _flatten(value: Any, prefix: str, out: list[str]) -> None:
    if isinstance(value, dict):
        for key, child in value.items():
            _flatten(child, f"{prefix}.{key}" if prefix else str(key), out)
    elif isinstance(value, list):
        if all(not isinstance(v, (dict, list)) for v in value):
            items = ", ".join(_scalar(v) for v in value if _scalar(v))
            if items:
                out.append(f"{prefix}: {items}" if prefix else items)
        else:
            for index, child in enumerate(value):
                _flatten(child, f"{prefix}[{index}]", out)
    else:
        text = _scalar(value)
        if text:
            out.append(f"{prefix}: {text}" if prefix else text)


def _flatten_text(value: Any) -> str:
    lines: list[str] = []
    _flatten(value, "", lines)
    return "\n".join(lines)


def _walk(value: Any, path: str, builder: TextBuilder) -> None:
    """Blocks: one per object in a list of objects, one per object's own scalar fields."""
    if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
        for index, item in enumerate(value, 1):
            builder.add(_flatten_text(item), kind="record", heading=path, row=index)
        return
    if isinstance(value, dict):
        own = {k: v for k, v in value.items() if not isinstance(v, (dict, list)) or _is_flat_list(v)}
        if own:
            builder.add(_flatten_text(own), kind="paragraph", heading=path)
        for key, child in value.items():
            if key not in own:
                _walk(child, f"{path} > {key}" if path else str(key), builder)
        return
    builder.add(_flatten_text(value), kind="paragraph", heading=path)


def _is_flat_list(value: Any) -> bool:
    return isinstance(value, list) and all(not isinstance(v, (dict, list)) for v in value)
