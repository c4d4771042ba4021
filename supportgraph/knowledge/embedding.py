"""WordLlama, whose weights ship inside its pip wheel: the KB index's embedding before e5.

The index embeds with multilingual e5 now (knowledge/multilingual.py): WordLlama, trained on
English, found the right section for 55-80% of Arabic, Japanese and Spanish questions
(bench/kb_languages.py). It stays for the benches (bench/kb_languages.py, nlu_compare.py),
and registered with Chroma so a data dir's older "supportgraph-kb" collection still opens.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from chromadb.api.types import Documents, EmbeddingFunction, Embeddings
from chromadb.utils.embedding_functions import register_embedding_function


@lru_cache(maxsize=2)
def _wordllama(dim: int) -> Any:
    import wordllama
    from wordllama import WordLlama

    # disable_download: never reach a hub; the package folder holds the weights and tokenizer.
    return WordLlama.load(cache_dir=Path(wordllama.__file__).parent, disable_download=True, dim=dim)


@register_embedding_function
class WordLlamaEmbedding(EmbeddingFunction[Documents]):
    def __init__(self, dim: int = 256) -> None:
        self.dim = dim

    def __call__(self, input: Documents) -> Embeddings:
        vectors = _wordllama(self.dim).embed(list(input), norm=True)
        return [v for v in vectors]

    @staticmethod
    def name() -> str:
        return "supportgraph-wordllama"

    def get_config(self) -> dict[str, Any]:
        return {"dim": self.dim}

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> WordLlamaEmbedding:
        return WordLlamaEmbedding(dim=int(config.get("dim", 256)))

    def default_space(self) -> str:  # type: ignore[override]
        return "cosine"
