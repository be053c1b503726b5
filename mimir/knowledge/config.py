"""Settings of a knowledge base: loader limits, chunking budget, retrieval mode.

They are stored in the knowledge base's ``manifest.json`` so a reopened base chunks and
searches exactly as it did when it was built.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from mimir.config import option


@dataclass
class KnowledgeConfig:
    chunk_tokens: int = option(120, min=16, help="Token budget of one chunk (word-and-punctuation tokens).")
    overlap_tokens: int = option(24, min=0, help="Tokens of trailing context repeated at the start of the next chunk in a section.")
    retriever: Literal["bm25", "dense", "hybrid"] = option(
        "bm25", help="Default search mode: bm25 (lexical), dense (sentence embeddings) or hybrid (rank fusion of both)."
    )
    max_file_mb: float = option(25.0, min=0.001, help="Largest file accepted, in MiB.")
    max_pdf_pages: int = option(500, min=1, help="Most pages read from one PDF.")
    max_unzipped_mb: float = option(100.0, min=0.001, help="Largest total decompressed size of a docx (a zip archive), in MiB.")
    max_zip_ratio: float = option(100.0, min=1.0, help="Largest decompressed/compressed ratio of a docx; above it the file is treated as a zip bomb.")
    max_json_depth: int = option(32, min=1, help="Deepest nesting accepted in json / jsonl files.")
    max_csv_rows: int = option(100_000, min=1, help="Most data rows read from one csv file (or lines from one jsonl file).")
    csv_formulas: Literal["neutralise", "reject"] = option(
        "neutralise",
        help="Spreadsheet formula cells (=, +, -, @ ...): 'neutralise' prefixes them with a quote and flags them; 'reject' refuses the file.",
    )
    dense_model: str = option(
        "", help="Folder or id of the sentence-transformers model for dense mode; empty = the packaged all-MiniLM-L6-v2."
    )

    def validate(self) -> None:
        from mimir.errors import ConfigError

        if self.chunk_tokens < 16:
            raise ConfigError(f"knowledge.chunk_tokens: {self.chunk_tokens} is too small; use at least 16")
        if not 0 <= self.overlap_tokens < self.chunk_tokens:
            raise ConfigError("knowledge.overlap_tokens must be >= 0 and smaller than chunk_tokens")
        for name in ("max_file_mb", "max_pdf_pages", "max_unzipped_mb", "max_zip_ratio", "max_json_depth", "max_csv_rows"):
            if getattr(self, name) <= 0:
                raise ConfigError(f"knowledge.{name} must be positive")
