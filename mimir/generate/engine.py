"""Drive many dialogues at once: every step of every active dialogue goes into ONE model call.

Dialogues are coroutines (:mod:`mimir.generate.dialogue`). The driver keeps up to
``max_active`` of them in flight, collects the request each one is waiting on, sends them all to
``model.generate`` together (the local backend batches them on the accelerator; the endpoint
backend runs them concurrently), and hands every reply back to its dialogue. A finished
dialogue is written at once (append + fsync) and its slot goes to the next scenario.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable

from mimir.generate.dialogue import DialogueRun
from mimir.models.base import ChatModel, GenerationSettings
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
    """Run ``jobs`` to completion with batched model calls; ``on_finished`` gets each record."""
    stats = DriveStats()
    started = time.perf_counter()
    pending = iter(jobs)
    active: dict[str, tuple[Job, list[dict[str, Any]]]] = {}

    def finish(job: Job, record: Dialogue) -> None:
        active.pop(job.id, None)
        record.timings["model_seconds"] = round(job.model_seconds, 3)
        if on_finished is not None:
            on_finished(record)

    def step(job: Job, send: Callable[[], list[dict[str, Any]]]) -> None:
        try:
            active[job.id] = (job, send())
        except StopIteration as done:
            finish(job, done.value)
        except Exception as exc:  # noqa: BLE001 - recorded as a failed dialogue, never dropped
            log.warning("dialogue %s failed: %s", job.id, redact(exc))
            finish(job, failed_record(job, exc))

    while True:
        while len(active) < max(1, max_active):
            job = next(pending, None)
            if job is None:
                break
            step(job, lambda j=job: next(j.run))
        if not active:
            break
        batch = list(active.values())
        t0 = time.perf_counter()
        try:
            replies = model.generate([request for _, request in batch], settings)
            if len(replies) != len(batch):
                raise RuntimeError(f"model returned {len(replies)} replies for {len(batch)} requests")
        except Exception as exc:  # noqa: BLE001 - a failed batch fails its dialogues, with the error recorded
            log.warning("model call failed for %d dialogues: %s", len(batch), redact(exc))
            for job, _ in batch:
                job.run.close()
                finish(job, failed_record(job, exc))
            continue
        elapsed = time.perf_counter() - t0
        stats.model_calls += 1
        stats.requests += len(batch)
        stats.batch_sizes.append(len(batch))
        stats.model_seconds += elapsed
        log.info("model call %d: %d requests in %.1f s", stats.model_calls, len(batch), elapsed)
        for (job, _), reply in zip(batch, replies):
            job.model_seconds += elapsed / len(batch)
            stats.completion_tokens += reply.completion_tokens
            stats.prompt_tokens += reply.prompt_tokens
            step(job, lambda j=job, r=reply: j.run.send(r))
    stats.wall_seconds = time.perf_counter() - started
    return stats
