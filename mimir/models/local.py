"""Local transformers backend: many conversations per ``generate`` call (left padding)."""

from __future__ import annotations

import json
import logging
import threading
from typing import Any

from mimir.models.base import ChatModel, Conversation, GenerationSettings, Reply, cut_at_stop
from mimir.models.embedded import resolve_model
from mimir.models.structured import Choice
from mimir.models.toolcalls import parse_tool_calls

log = logging.getLogger(__name__)


def pick_device(preference: str = "auto", dtype: str = "auto") -> tuple[str, Any]:
    """(device, dtype): CUDA with bf16 where present, else CPU fp32; ``dtype`` overrides the
    precision ("bf16" on a CPU with AVX512-BF16 or AMX computes prompts about 2x faster)."""
    import torch

    device = "cpu" if preference == "cpu" or (preference == "auto" and not torch.cuda.is_available()) else "cuda"
    if dtype == "auto":
        return device, torch.float32 if device == "cpu" else torch.bfloat16
    return device, {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}[dtype]


class LocalModel(ChatModel):
    """A causal LM loaded with transformers, optionally with a peft adapter on top."""

    def __init__(
        self,
        model: str | None = None,
        *,
        adapter: str | None = None,
        batch_size: int = 16,
        device: str = "auto",
        prefix_cache_mb: int = 1024,
        dtype: str = "auto",
    ) -> None:
        from transformers import AutoModelForCausalLM, AutoTokenizer

        path = resolve_model(model)
        self.device, torch_dtype = pick_device(device, dtype)
        self.tokenizer = AutoTokenizer.from_pretrained(path)
        self.tokenizer.padding_side = "left"  # generation appends on the right
        if self.tokenizer.pad_token is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token
        self.model = AutoModelForCausalLM.from_pretrained(path, dtype=torch_dtype).to(self.device)
        if adapter:
            from peft import PeftModel

            # Merged into the weights: the same answers at the base model's speed (an unmerged rank-64
            # LoRA on every linear layer doubles a forward pass on CPU).
            self.model = PeftModel.from_pretrained(self.model, adapter).merge_and_unload()
        self.model.eval()
        self.batch_size = max(1, batch_size)
        self.name = f"local:{model or 'embedded'}" + (f"+{adapter}" if adapter else "")
        self._lock = threading.RLock()  # one generate at a time; re-entrant: choose() may run inside serve()'s admit()
        from mimir.models.cached_decoding import PrefixCache, cacheable

        # Prompts that extend earlier ones (the next turn of a dialogue) compute only their new
        # tokens; 0 turns this off (then transformers' generate runs every batch).
        self.prefix_cache = PrefixCache(max_bytes=prefix_cache_mb << 20) if prefix_cache_mb > 0 and cacheable(self.model) else None

    def prompt_text(self, conversation: Conversation, tools: list[dict] | None = None) -> str:
        """The chat template's text; a final ``{"role": "assistant", "content": ..., "prefill": True}``
        message is continued, not answered: the reply must start with it (a constrained opening)."""
        messages = [_plain(m) for m in conversation]
        if conversation and conversation[-1].get("prefill") and conversation[-1]["role"] == "assistant":
            return self.tokenizer.apply_chat_template(messages, tokenize=False, continue_final_message=True, tools=tools)
        return self.tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True, tools=tools)

    def generate(self, conversations: list[Conversation], settings: GenerationSettings | None = None) -> list[Reply]:
        settings = settings or GenerationSettings()
        replies: list[Reply] = []
        with self._lock:
            for start in range(0, len(conversations), self.batch_size):
                replies.extend(self._generate_batch(conversations[start : start + self.batch_size], settings))
        return replies

    def _generate_batch(self, batch: list[Conversation], settings: GenerationSettings) -> list[Reply]:
        import torch

        prompts = [self.prompt_text(c, settings.tools) for c in batch]
        sample = settings.temperature > 0
        if settings.seed is not None:
            torch.manual_seed(settings.seed)
        if self.prefix_cache is not None:
            return self._generate_cached(prompts, settings)
        enc = self.tokenizer(prompts, return_tensors="pt", padding=True, add_special_tokens=False).to(self.device)
        kwargs: dict[str, Any] = dict(
            max_new_tokens=settings.max_new_tokens,
            do_sample=sample,
            pad_token_id=self.tokenizer.pad_token_id,
        )
        if sample:
            kwargs.update(temperature=settings.temperature, top_p=settings.top_p)
        else:  # greedy: silence the model's default sampling knobs
            kwargs.update(temperature=None, top_p=None, top_k=None)
        if settings.stop:
            kwargs.update(stop_strings=list(settings.stop), tokenizer=self.tokenizer)
        with torch.inference_mode():
            out = self.model.generate(**enc, **kwargs)
        prompt_len = enc["input_ids"].shape[1]
        replies = []
        for i, row in enumerate(out[:, prompt_len:]):
            n_prompt = int(enc["attention_mask"][i].sum())
            tokens = row[row != self.tokenizer.pad_token_id] if self.tokenizer.pad_token_id is not None else row
            replies.append(self._reply(tokens.tolist(), n_prompt, settings))
        return replies

    def serve(self, admit, finish, settings: GenerationSettings | None = None) -> None:  # type: ignore[no-untyped-def]
        """Continuous batching (see :func:`mimir.models.cached_decoding.serve_cached`): a request
        joins the rows in flight, a finished one leaves at once and its follow-up can join."""
        settings = settings or GenerationSettings()
        if self.prefix_cache is None:
            return super().serve(admit, finish, settings)
        import torch

        from mimir.models.cached_decoding import serve_cached

        if settings.seed is not None:
            torch.manual_seed(settings.seed)
        lengths: dict[Any, int] = {}

        def admit_ids() -> list[tuple[Any, list[int]]]:
            batch = [(key, self._prompt_ids(self.prompt_text(c, settings.tools))) for key, c in admit()]
            lengths.update((key, len(ids)) for key, ids in batch)
            return batch

        decode = self._decode_settings(settings)

        def finish_ids(key: Any, tokens: list[int]) -> None:
            finish(key, self._reply([t for t in tokens if t not in decode.eos_ids], lengths.pop(key), settings))

        with self._lock, torch.inference_mode():
            serve_cached(self.model, decode, self.prefix_cache, admit_ids, finish_ids)

    def choose(self, conversations: list[Conversation], options, *, retries: int = 1) -> list[Choice]:  # type: ignore[no-untyped-def]
        """Each option scored by its log-probability after the prompt, all (prompt, option) rows of
        the batch in batched forwards (no sampling): the pick is always one of the options."""
        from mimir.models.structured import per_conversation
        from mimir.models.scoring import score_options, score_options_cached

        lists = per_conversation(options, len(conversations))
        prompts = [self._prompt_ids(self.prompt_text(c)) for c in conversations]
        rows = [(i, p, self._prompt_ids(o)) for i, (p, opts) in enumerate(zip(prompts, lists)) for o in opts]
        with self._lock:
            if self.prefix_cache is not None:
                scores = score_options_cached(self.model, self.prefix_cache, [(p, o) for _, p, o in rows],
                                              self.tokenizer.pad_token_id, self.batch_size)
            else:
                scores = score_options(self.model, [(p, o) for _, p, o in rows], self.tokenizer.pad_token_id,
                                       self.device, self.batch_size)
        out, k = [], 0
        for prompt, opts in zip(prompts, lists):
            got = dict(zip(opts, scores[k : k + len(opts)]))
            k += len(opts)
            best = max(opts, key=lambda o: got[o])
            out.append(Choice(option=best, options=list(opts), scores=got, method="logprob",
                              prompt_tokens=len(prompt), completion_tokens=0))
        return out

    def _prompt_ids(self, prompt: str) -> list[int]:
        return self.tokenizer(prompt, add_special_tokens=False)["input_ids"]

    def _generate_cached(self, prompts: list[str], settings: GenerationSettings) -> list[Reply]:
        import torch

        from mimir.models.cached_decoding import generate_cached

        ids = [self._prompt_ids(p) for p in prompts]
        decode = self._decode_settings(settings)
        with torch.inference_mode():
            new = generate_cached(self.model, ids, decode, self.prefix_cache)
        return [self._reply([t for t in row if t not in decode.eos_ids], len(p), settings) for row, p in zip(new, ids)]

    def _decode_settings(self, settings: GenerationSettings):  # type: ignore[no-untyped-def]
        from mimir.models.cached_decoding import DecodeSettings

        eos = self.model.generation_config.eos_token_id
        eos_ids = set(eos if isinstance(eos, list) else [eos] if eos is not None else []) | {self.tokenizer.eos_token_id}
        stop = list(settings.stop or [])
        return DecodeSettings(
            max_new_tokens=settings.max_new_tokens,
            eos_ids={i for i in eos_ids if i is not None},
            pad_id=self.tokenizer.pad_token_id,
            sample=settings.temperature > 0,
            temperature=settings.temperature,
            top_p=settings.top_p,
            # a stop string ends within the last few tokens: decode only those
            stop_hit=(lambda out: any(s in self.tokenizer.decode(out[-8:]) for s in stop)) if stop else None,
        )

    def _reply(self, tokens: list[int], n_prompt: int, settings: GenerationSettings) -> Reply:
        text = self.tokenizer.decode(tokens, skip_special_tokens=True)
        text, stopped = cut_at_stop(text, settings.stop)
        length_hit = not stopped and len(tokens) >= settings.max_new_tokens
        calls = parse_tool_calls(text) if settings.tools else []
        return Reply(
            text=text,
            tool_calls=calls,
            finish_reason="tool_calls" if calls else ("length" if length_hit else "stop"),
            prompt_tokens=n_prompt,
            completion_tokens=int(len(tokens)),
        )

    def close(self) -> None:
        self.model = None  # type: ignore[assignment]


def _plain(message: dict) -> dict:
    """Chat templates of small models know role/content only: fold names, tool calls and tool
    results into text — exactly as the training template (mimir/train/chatml_train.jinja) does,
    so a tuned model sees at inference what it was trained on."""
    role, content = message["role"], message.get("content") or ""
    if message.get("name") and role == "user":
        content = f"{message['name']}: {content}"
    if role == "tool":
        return {"role": "user", "content": f"Observation: {content}"}
    if role == "assistant" and message.get("tool_calls"):
        content = content + "".join(
            ("\n" if content or i else "") + _tool_call_text(call) for i, call in enumerate(message["tool_calls"])
        )
    return {"role": role, "content": content}


def _tool_call_text(call: dict) -> str:
    function = call.get("function", call)
    arguments = function.get("arguments", {})
    if not isinstance(arguments, str):
        arguments = json.dumps(arguments, ensure_ascii=False)
    return '<tool_call>{"name": ' + json.dumps(function["name"], ensure_ascii=False) + ', "arguments": ' + arguments + "}</tool_call>"
