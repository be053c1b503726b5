"""Find datasets on the Hugging Face Hub (``HfApi.list_datasets``) to add by id with a field mapping."""

from __future__ import annotations

from dataclasses import dataclass, field

from mimir.errors import HubError


@dataclass
class HubDataset:
    id: str
    downloads: int = 0
    likes: int = 0
    tags: list[str] = field(default_factory=list)
    description: str = ""


def search_hub_datasets(
    query: str, *, limit: int = 20, task: str | None = None, endpoint: str | None = None, token: str | bool | None = None
) -> list[HubDataset]:
    """The most downloaded Hub datasets matching ``query`` (optionally one task category)."""
    from huggingface_hub import HfApi

    query = query.strip()
    if not query:
        raise ValueError("give a few words to search for, e.g. 'medical question answering'")
    if not 1 <= limit <= 100:
        raise ValueError("limit must be between 1 and 100")
    api = HfApi(endpoint=endpoint, token=token)
    try:
        found = api.list_datasets(
            search=query, limit=limit, sort="downloads", task_categories=task, full=False
        )
        results = []
        for info in found:
            results.append(
                HubDataset(
                    id=info.id,
                    downloads=int(getattr(info, "downloads", 0) or 0),
                    likes=int(getattr(info, "likes", 0) or 0),
                    tags=list(getattr(info, "tags", None) or []),
                    description=(getattr(info, "description", None) or "")[:300],
                )
            )
    except Exception as exc:  # connection refused, 5xx, rate limit
        raise HubError(f"Hub dataset search for {query!r} failed ({type(exc).__name__}); check your connection") from None
    return results
