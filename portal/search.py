"""BM25 ranking of tools (bm25s) over names split into words, descriptions and parameter names.

Text is lower-cased, split on ``snake_case``/``camelCase`` boundaries, stripped
of stop words and stemmed (Snowball), with a few abbreviations engineers type
(MR, PR, CI, repo) expanded, so "why did the CI job fail" meets
``get_job_log``'s "Log of one CI job ... why a job failed".
"""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass

import bm25s
import numpy as np
import snowballstemmer

__all__ = ["SearchDocument", "ToolIndex", "tokenize"]

_CHUNK = re.compile(r"[A-Za-z0-9]+")
_ACRONYM = re.compile(r"[A-Z]+s?|[a-z0-9]+")
_CAMEL_PART = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+")
_STOP_WORDS = frozenset(
    """a an and are as at be by can did do does for from get give has have how i in is it its list me my
    of on or show that the this to was what when where which who why will with you your""".split()  # noqa: SIM905
)
# "get" and "list" are stop words in queries and names alike: every other tool starts with them.
_ABBREVIATIONS = {
    "mr": "merge request",
    "mrs": "merge requests",
    "pr": "merge request",
    "prs": "merge requests",
    "ci": "ci pipeline",
    "repo": "repository project",
    "repository": "repository project",
    "repos": "repositories projects",
    "ticket": "ticket issue",
    "tickets": "tickets issues",
    "bug": "bug issue",
    "comment": "comment note",
    "comments": "comments notes",
}
_NAME_WEIGHT = 3
_stemmer = snowballstemmer.stemmer("english")
logging.getLogger("bm25s").setLevel(logging.WARNING)  # it logs every index build at DEBUG


def tokenize(text: str) -> list[str]:
    """Index terms of ``text``: split, lower-cased, stop words out, abbreviations expanded, stemmed."""
    words: list[str] = []
    for chunk in _CHUNK.findall(text):
        parts = [chunk] if _ACRONYM.fullmatch(chunk) else _CAMEL_PART.findall(chunk)
        for part in parts:
            word = part.lower()
            words.extend(_ABBREVIATIONS.get(word, word).split())
    return [_stem(w) for w in words if w not in _STOP_WORDS]


@functools.lru_cache(maxsize=65_536)
def _stem(word: str) -> str:
    """Snowball is slow per call and vocabularies are small: cache each word's stem."""
    return _stemmer.stemWord(word)


@dataclass(frozen=True)
class SearchDocument:
    """What the index knows of one tool."""

    name: str
    description: str
    parameters: Sequence[str]

    def terms(self) -> list[str]:
        namespace, _, tool = self.name.partition(".")
        name_terms = tokenize(f"{namespace} {tool}")
        return name_terms * _NAME_WEIGHT + tokenize(self.description) + tokenize(" ".join(self.parameters))


class ToolIndex:
    """An immutable BM25 index over a fixed list of documents."""

    def __init__(self, documents: Sequence[SearchDocument]) -> None:
        self.documents = list(documents)
        self._retriever = bm25s.BM25()
        corpus = [doc.terms() or ["_empty_"] for doc in self.documents]
        if corpus:
            self._retriever.index(corpus, show_progress=False)

    def search(self, query: str, limit: int, allowed: np.ndarray | None = None) -> list[tuple[int, float]]:
        """Indices and scores of the best ``limit`` documents with a positive score, best first."""
        terms = tokenize(query)
        if not self.documents or not terms or limit <= 0:
            return []
        scores = np.asarray(self._retriever.get_scores(terms), dtype=np.float64)
        if allowed is not None:
            scores = np.where(allowed, scores, 0.0)
        candidates = np.flatnonzero(scores > 0)
        ranked = candidates[np.lexsort((candidates, -scores[candidates]))][:limit]
        return [(int(i), float(scores[i])) for i in ranked]
