"""Drive many dialogues at once: every step of every active dialogue goes into ONE model call.

Dialogues are coroutines (:mod:`mimir.generate.dialogue`). The driver keeps up to
``max_active`` of them in flight, collects the request each one is waiting on, sends them all to
``model.generate`` together (the local backend batches them on the accelerator; the endpoint
backend runs them concurrently), and hands every reply back to its dialogue. A step that is a
closed choice (a :class:`~mimir.models.structured.ChoiceRequest`) goes to ``model.choose`` with
the other waiting choices, answered with a :class:`~mimir.models.structured.Choice`. A finished
dialogue is written at once (append + fsync) and its slot goes to the next scenario.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable

from mimir.generate.dialogue import DialogueRun
from mimir.models.base import ChatModel, GenerationSettings, Reply
from mimir.models.structured import ChoiceRequest
from mimir.secrets import redact
from mimir.types import Dialogue, Scenario

log = logging.getLogger(__name__)


@dataclass
class Job:
    id: str
    scenario: Scenario
    run: DialogueRun
    model_seconds: float = 0.0


@dataclass
class DriveStats:
    """What the driver measured (the benchmark reports these)."""

    model_calls: int = 0
    requests: int = 0
    completion_tokens: int = 0
    prompt_tokens: int = 0
    model_seconds: float = 0.0
    wall_seconds: float = 0.0
    batch_sizes: list[int] = field(default_factory=list)
    choice_calls: int = 0  # batched ``choose`` calls (closed-choice steps)
    choices: int = 0

    @property
    def tokens_per_second(self) -> float:
        return self.completion_tokens / self.wall_seconds if self.wall_seconds else 0.0


def failed_record(job: Job, error: BaseException | str) -> Dialogue:
    message = error if isinstance(error, str) else f"{type(error).__name__}: {error}"
    return Dialogue(id=job.id, scenario=job.scenario, turns=[], status="failed", error=redact(message)[:1000],
                    timings={"model_seconds": job.model_seconds})


def drive(
    jobs: Iterable[Job],
    model: ChatModel,
    settings: GenerationSettings,
    *,
    max_active: int = 16,
    on_finished: Callable[[Dialogue], None] | None = None,
) -> DriveStats:
    """Run ``jobs`` to completion with batched model calls; ``on_finished`` gets each record.

    Requests reach the model through :meth:`ChatModel.serve`: in rounds (every active dialogue's
    next request in one ``generate`` call) by default, or continuously where the backend lets a
    dialogue's next turn join the batch in flight (the local one).
    """
    stats = DriveStats()
    started = time.perf_counter()
    pending = iter(jobs)
    active: dict[str, Job] = {}
    waiting: list[tuple[Job, list[dict[str, Any]]]] = []  # requests not yet handed to the model
    sent_at: dict[str, float] = {}

    def finish(job: Job, record: Dialogue) -> None:
        active.pop(job.id, None)
        record.timings["model_seconds"] = round(job.model_seconds, 3)
        if on_finished is not None:
            on_finished(record)

    def step(job: Job, send: Callable[[], list[dict[str, Any]]]) -> None:
        try:
            request = send()
        except StopIteration as done:
            finish(job, done.value)
        except Exception as exc:  # noqa: BLE001 - recorded as a failed dialogue, never dropped
            log.warning("dialogue %s failed: %s", job.id, redact(exc))
            finish(job, failed_record(job, exc))
        else:
            waiting.append((job, request))

    def answer_choices() -> None:
        """Closed-choice steps (moderator, ReAct action, verdicts) of every waiting dialogue in one
        ``choose`` call; the dialogues' next requests join the queue (maybe more choices)."""
        while choices := [(job, request) for job, request in waiting if isinstance(request, ChoiceRequest)]:
            waiting[:] = [(job, request) for job, request in waiting if not isinstance(request, ChoiceRequest)]
            t0 = time.perf_counter()
            try:
                picked = model.choose([r.conversation for _, r in choices], [r.options for _, r in choices])
            except Exception as exc:  # noqa: BLE001 - recorded on the dialogues that asked
                for job, _ in choices:
                    job.run.close()
                    finish(job, failed_record(job, exc))
                continue
            spent = time.perf_counter() - t0
            stats.choice_calls += 1
            stats.choices += len(choices)
            for (job, _), choice in zip(choices, picked):
                job.model_seconds += spent / len(choices)
                stats.prompt_tokens += choice.prompt_tokens
                step(job, lambda j=job, c=choice: j.run.send(c))

    exhausted = False

    def admit() -> list[tuple[str, list[dict[str, Any]]]]:
        nonlocal exhausted
        while True:
            while len(active) < max(1, max_active) and not exhausted:
                job = next(pending, None)
                if job is None:
                    exhausted = True
                    break
                active[job.id] = job
                step(job, lambda j=job: next(j.run))
            answer_choices()  # may finish dialogues: their slots are refilled before returning
            if waiting or exhausted or len(active) >= max(1, max_active):
                break
        batch = [(job.id, request) for job, request in waiting]
        waiting.clear()
        if batch:
            now = time.perf_counter()
            sent_at.update((key, now) for key, _ in batch)
            stats.model_calls += 1
            stats.requests += len(batch)
            stats.batch_sizes.append(len(batch))
        return batch

    def reply_to(key: str, reply: Reply) -> None:
        job = active[key]
        job.model_seconds += time.perf_counter() - sent_at.pop(key)
        stats.completion_tokens += reply.completion_tokens
        stats.prompt_tokens += reply.prompt_tokens
        step(job, lambda: job.run.send(reply))

    def fail_in_flight(exc: BaseException) -> None:
        for key in list(sent_at):
            sent_at.pop(key)
            job = active[key]
            job.run.close()
            finish(job, failed_record(job, exc))

    while True:
        t0 = time.perf_counter()
        try:
            model.serve(admit, reply_to, settings)
        except Exception as exc:  # noqa: BLE001 - a failed call fails the dialogues in flight, with the error recorded
            if not sent_at:
                raise  # nothing was in flight: the backend cannot serve at all
            log.warning("model call failed for %d dialogues: %s", len(sent_at), redact(exc))
            fail_in_flight(exc)
            stats.model_seconds += time.perf_counter() - t0
            continue  # follow-ups already queued by the other dialogues go out in the next call
        stats.model_seconds += time.perf_counter() - t0
        if sent_at:  # a backend that returns with requests unanswered must not hang the run
            fail_in_flight(RuntimeError(f"{model.name} returned without answering {len(sent_at)} requests"))
        if not active and not waiting:
            break
    stats.wall_seconds = time.perf_counter() - started
    return stats
