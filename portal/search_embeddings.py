"""Static word embeddings for search: meaning where BM25 needs the exact word.

The model is wordllama's 256-dimension "l2_supercat", whose weights ship inside the
``wordllama`` wheel (the ``embeddings`` extra), so it loads offline in about a second and embeds
a query in about 0.1 ms with no network, GPU or torch. Without the extra, search is BM25 alone.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

import numpy as np

__all__ = ["Embedder", "WordLlamaEmbedder", "static_embedder"]

logger = logging.getLogger(__name__)


class Embedder(Protocol):
    """Turns texts into rows of unit length, so a dot product is a cosine similarity."""

    def embed(self, texts: Sequence[str]) -> np.ndarray: ...


class WordLlamaEmbedder:
    """wordllama's bundled model, loaded from the installed package's own folder only."""

    def __init__(self) -> None:
        import wordllama  # optional: the `embeddings` extra

        folder = Path(wordllama.__file__).parent
        self._model = wordllama.WordLlama.load(cache_dir=folder, disable_download=True)

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, 0), dtype=np.float32)
        vectors = np.asarray(self._model.embed(list(texts), norm=True), dtype=np.float32)
        return np.atleast_2d(vectors)


@functools.cache
def static_embedder() -> Embedder | None:
    """The shared model, loaded once per process; None when the extra is not installed."""
    try:
        return WordLlamaEmbedder()
    except ImportError:
        return None
    except Exception as exc:  # boundary: a broken model must not stop search; BM25 still works
        logger.warning("search embeddings unavailable, using BM25 alone: %s", exc)
        return None
