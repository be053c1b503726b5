"""Public datasets: the catalog, mapping rows through datasets.load_dataset (local fixtures, same path
as Hub ids), field-mapping errors, and Hub search against a loopback fake of the Hub API."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest

from mimir.errors import ConfigError, HubError, InputFileError
from mimir.knowledge import KnowledgeBase
from mimir.knowledge.datasets import catalog, load_dataset_chunks, map_row, resolve_spec
from mimir.knowledge.hub_search import search_hub_datasets

FIXTURES = Path(__file__).parent / "fixtures" / "knowledge"


def test_catalog_covers_the_paper_sets_and_other_domains():
    specs = catalog()
    ids = {s.hub_id for s in specs.values()}
    assert {"GBaker/MedQA-USMLE-4-options", "openlifescienceai/medmcqa", "qiaojin/PubMedQA", "cais/mmlu",
            "truehealth/medicationqa", "truehealth/liveqa"} <= ids
    assert {"medical", "legal", "finance", "science", "education", "code"} <= {s.domain for s in specs.values()}
    for name, spec in specs.items():
        assert "/" in spec.hub_id and spec.split and spec.description and spec.fields["question"], name
    assert specs["mmlu_clinical_knowledge"].config == "clinical_knowledge"


@pytest.mark.parametrize(
    "name, fixture, question_part, answer",
    [
        ("medmcqa", "medmcqa.jsonl", "C. Vitamin C", "C. Vitamin C\nAscorbic acid is needed for collagen synthesis."),
        ("medqa", "medqa.jsonl", "B. Croup", "Croup"),
        ("pubmedqa", "pubmedqa.jsonl", "walking", "yes\nDaily walking modestly lowered systolic blood pressure."),
        ("arc_challenge", "arc.jsonl", "B. Carbon dioxide", "B. Carbon dioxide"),
        ("mmlu_clinical_knowledge", "mmlu.jsonl", "B. 60-100 bpm", "B. 60-100 bpm"),
        ("medicationqa", "medicationqa.jsonl", "metformin", "Metformin lowers blood sugar within the first week; full effect can take 4-5 weeks."),
    ],
)
def test_catalog_mappings_on_local_fixtures(name, fixture, question_part, answer):
    spec = resolve_spec(name, data_files=[str(FIXTURES / fixture)])
    chunks = load_dataset_chunks(spec)
    first = chunks[0]
    assert first.kind == "qa" and question_part in first.question and first.answer == answer
    assert first.source == catalog()[name].hub_id
    assert first.text.startswith(("Question:", "Context:")) and first.answer in first.text
    assert first.meta["dataset"] == name


def test_pubmedqa_context_passages_are_kept():
    chunk = load_dataset_chunks(resolve_spec("pubmedqa", data_files=[str(FIXTURES / "pubmedqa.jsonl")]))[0]
    assert chunk.meta["context"].startswith("Adults over 65 walked")
    assert chunk.text.startswith("Context: Adults over 65")


def test_rows_without_question_are_skipped_and_limit_applies():
    spec = resolve_spec("medmcqa", data_files=[str(FIXTURES / "medmcqa.jsonl")])
    assert len(load_dataset_chunks(spec)) == 2  # the third row has an empty question
    assert len(load_dataset_chunks(spec, limit=1)) == 1


def test_custom_dataset_by_id_with_field_mapping(tmp_path):
    path = tmp_path / "faq.csv"
    path.write_text("q,a,src\nWhen is the clinic closed?,Sundays and public holidays,handbook\n")
    spec = resolve_spec("ourclinic/faq", data_files=[str(path)], fields={"question": "q", "answer": "a", "context": "src"})
    chunk = load_dataset_chunks(spec)[0]
    assert (chunk.question, chunk.answer, chunk.meta["context"]) == ("When is the clinic closed?", "Sundays and public holidays", "handbook")


def test_mapping_errors_name_the_field():
    with pytest.raises(ConfigError, match="'Question' is not a column; columns are: .*question"):
        load_dataset_chunks(resolve_spec("medqa", data_files=[str(FIXTURES / "medqa.jsonl")], fields={"question": "Question"}))
    with pytest.raises(ConfigError, match="not in the catalog"):
        resolve_spec("no_such_set")
    with pytest.raises(ConfigError, match="fields.answer is required"):
        resolve_spec({"name": "x", "hub_id": "a/b", "fields": {"question": "q"}})
    with pytest.raises(ConfigError, match="needs a choices field"):
        resolve_spec({"name": "x", "hub_id": "a/b", "fields": {"question": "q", "answer": "a"}, "answer_format": "index"})
    with pytest.raises(InputFileError, match="not found"):
        load_dataset_chunks(resolve_spec("medqa", data_files=["/nonexistent/medqa.jsonl"]))


def test_map_row_label_answers_must_be_among_choices():
    spec = resolve_spec("arc_challenge")
    row = {"question": "Q?", "choices": {"label": ["A", "B"], "text": ["x", "y"]}, "answerKey": "E"}
    with pytest.raises(KeyError):
        map_row(spec, row)


def test_hub_dataset_without_network_is_a_clear_error(monkeypatch):
    # offline mode fails at once (a blocked socket would too, after the client's retries)
    import datasets
    import huggingface_hub.constants

    monkeypatch.setattr(datasets.config, "HF_HUB_OFFLINE", True)
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
    with pytest.raises(InputFileError, match="dataset 'liveqa'.*cannot be loaded"):
        load_dataset_chunks(resolve_spec("liveqa"), limit=2)


def test_add_dataset_to_kb_is_idempotent_and_searchable(tmp_path):
    kb = KnowledgeBase.create(tmp_path / "kb")
    files = [str(FIXTURES / "medqa.jsonl")]
    report = kb.add_dataset("medqa", data_files=files)
    assert report.chunks_added == 2 and report.added == ["dataset:medqa/local/medqa.jsonl"]
    assert kb.add_dataset("medqa", data_files=files).skipped == report.added
    replaced = kb.add_dataset("medqa", limit=1, data_files=files)
    assert replaced.chunks_added == 1 and len(kb) == 1
    hit, _ = kb.search("barking cough stridor", k=1)[0]
    assert hit.answer == "Croup"
    manifest = json.loads((tmp_path / "kb" / "manifest.json").read_text())
    entry = manifest["sources"]["dataset:medqa/local/medqa.jsonl"]
    assert entry["spec"]["data_files"] == ["medqa.jsonl"] and entry["limit"] == 1  # no local paths leak


# ---------------------------------------------------------------- Hub search against a loopback fake
class _FakeHub(BaseHTTPRequestHandler):
    requests: list[str] = []

    def do_GET(self):  # noqa: N802 - http.server API
        _FakeHub.requests.append(self.path)
        url = urlparse(self.path)
        if url.path != "/api/datasets":
            self.send_error(404)
            return
        query = parse_qs(url.query)
        if query.get("search") == ["explode"]:
            self.send_error(400)  # not 5xx: the client retries those with backoff
            return
        body = [
            {"id": "lavita/MedQuAD", "_id": "1", "downloads": 1200, "likes": 30, "tags": ["task_categories:question-answering"]},
            {"id": "someone/medical-faq", "_id": "2", "downloads": 15, "likes": 1, "tags": []},
        ][: int(query.get("limit", ["100"])[0])]
        payload = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args):
        pass


@pytest.fixture
def fake_hub():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _FakeHub)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    _FakeHub.requests = []
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_hub_search_sends_the_query_and_parses_results(fake_hub):
    found = search_hub_datasets("medical qa", limit=5, task="question-answering", endpoint=fake_hub, token=False)
    assert [d.id for d in found] == ["lavita/MedQuAD", "someone/medical-faq"]
    assert found[0].downloads == 1200 and "task_categories:question-answering" in found[0].tags
    query = parse_qs(urlparse(_FakeHub.requests[0]).query)
    assert query["search"] == ["medical qa"] and query["limit"] == ["5"] and query["sort"] == ["downloads"]
    assert "task_categories:question-answering" in query.get("filter", []) + query.get("task_categories", [])


def test_hub_search_errors(fake_hub):
    with pytest.raises(HubError, match="failed"):
        search_hub_datasets("explode", endpoint=fake_hub, token=False)
    with pytest.raises(ValueError):
        search_hub_datasets("  ", endpoint=fake_hub)
    with pytest.raises(ValueError):
        search_hub_datasets("x", limit=0, endpoint=fake_hub)
