"""The JSONL <-> parquet codec: odd shapes survive, one schema serves every split."""

from __future__ import annotations

import pyarrow.parquet as pq
import pytest

from mimir.errors import InputFileError
from mimir.hub.provenance import collect, sanitize_config, size_category, source_name
from mimir.hub.records import decode_row, normalize_record, write_parquet


def test_odd_records_round_trip(tmp_path):
    records = {
        "raw": [
            {"id": "a", "messages": [
                {"role": "user", "content": [{"type": "text", "text": "parts, not a string"}]},
                {"role": "assistant", "content": None, "tool_calls": [{"id": "c", "type": "function",
                                                                       "function": {"name": "f", "arguments": "{\"x\": 1}"}}]},
                {"role": "assistant", "content": "odd call", "tool_calls": [{"name": "f", "args": {}}]},
                {"role": "assistant", "content": "ok", "reasoning": "because", "weight": 0.5},
            ], "flag": True, "n": 3, "mixed": 1, "legacy_json": "{\"already\": \"json\"}", "tags": ["x", "y"]},
            {"id": "b", "messages": [], "flag": False, "n": None, "mixed": 2.5, "tags": "just a string"},
        ],
        "other": [{"messages": [{"role": "user", "content": "hi"}], "only_here": {"deep": [1, {"k": None}]}}],
    }
    files, json_columns = write_parquet(records, tmp_path, max_rows=1)
    assert [p.name for p in files["raw"]] == ["raw-00000-of-00002.parquet", "raw-00001-of-00002.parquet"]
    schemas = {str(pq.read_schema(p)) for paths in files.values() for p in paths}
    assert len(schemas) == 1  # every split, every shard: the same columns
    assert json_columns == {"legacy_json_json": "legacy_json", "tags_json": "tags", "only_here_json": "only_here"}
    for split, rows in records.items():
        back = [decode_row(row) for path in files[split] for row in pq.read_table(path).to_pylist()]
        assert back == [normalize_record(r) for r in rows]
    first = decode_row(pq.read_table(files["raw"][0]).to_pylist()[0])
    assert first["messages"][0]["content"] == [{"type": "text", "text": "parts, not a string"}]
    assert first["messages"][2]["tool_calls"] == [{"name": "f", "args": {}}]
    assert first["messages"][3] == {"role": "assistant", "content": "ok", "reasoning": "because", "weight": 0.5}
    assert first["legacy_json"] == "{\"already\": \"json\"}" and first["flag"] is True and first["mixed"] == 1.0


def test_bad_split_name_and_provenance_helpers(tmp_path):
    with pytest.raises(InputFileError, match="split name"):
        write_parquet({"raw split": [{"messages": []}]}, tmp_path, max_rows=10)
    assert source_name("/home/alice/private/handbook.pdf") == "handbook.pdf"
    assert source_name("bigbio/med_qa") == "bigbio/med_qa" and source_name("https://x.org/a/page.html") == "page.html"
    assert size_category(999) == "n<1K" and size_category(1000) == "1K<n<10K"
    clean = sanitize_config({"hf_token": "hf_abcdefghijklmnopqrstuvwx", "max_new_tokens": 64, "kb": "/home/alice/kb",
                             "nested": [{"api_key": "k"}, "tvly-abcdefghijklmnop"], "empty_token": ""})
    assert clean == {"hf_token": "<set at run time>", "max_new_tokens": 64, "kb": "kb",
                     "nested": [{"api_key": "<set at run time>"}, "***"], "empty_token": ""}
    found = collect([{"scenario": {"roles": ["patient", "doctor"], "target_role": "doctor", "framework": "cot"},
                      "model": "endpoint:llama@http://x", "source": "mimir", "meta": {"sources": ["/a/b/handbook.md"]}}])
    assert found["roles"][0] == "doctor" and found["frameworks"] == ["cot"] and found["sources"] == ["handbook.md"]
    assert found["kinds"] == ["mimir"] and found["models"] == ["endpoint:llama"]
    assert collect([{"model": "local:/home/alice/models/my-7b"}])["models"] == ["local:my-7b"]


def test_provenance_from_training_export_rows():
    row = {"id": "d1", "messages": [{"role": "user", "name": "patient", "content": "?"}],
           "metadata": {"roles": ["patient", "doctor"], "target_role": "doctor", "source": "baize", "framework": "cot",
                        "model": "local"}}
    found = collect([row])
    assert set(found["roles"]) == {"patient", "doctor"} and found["kinds"] == ["baize"]
    assert found["frameworks"] == ["cot"] and found["models"] == ["local"]
