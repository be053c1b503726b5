"""Stage 1: private documents and public datasets in, chunks with provenance and search out.

    from mimir.knowledge import KnowledgeBase
    kb = KnowledgeBase.create("kb/clinic")
    kb.add_files(["handbook.pdf", "rota.csv"])
    kb.search("critical potassium", k=5)

Heavy libraries (pypdf, python-docx, trafilatura, bm25s, datasets, sentence-transformers) load
only when a loader or index needs them.
"""

from mimir.knowledge.config import KnowledgeConfig
from mimir.knowledge.examples import EXAMPLES_DIR, example_files, example_questions, load_example_kb
from mimir.knowledge.store import AddReport, KnowledgeBase, KnowledgeBaseError, sanitize_name

__all__ = [
    "AddReport",
    "EXAMPLES_DIR",
    "KnowledgeBase",
    "KnowledgeBaseError",
    "KnowledgeConfig",
    "example_files",
    "example_questions",
    "load_example_kb",
    "sanitize_name",
]
