"""BM25 ranking of tools (bm25s) over names split into words, descriptions, parameter names
and each server's domain text (its MCP ``instructions``).

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
from typing import Final

import bm25s
import numpy as np
import snowballstemmer

from portal.search_embeddings import Embedder, static_embedder

__all__ = ["DEFAULT", "SearchDocument", "ToolIndex", "split_summary", "tokenize"]

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
    "grep": "grep search",
}
_NAME_WEIGHT = 4
_SUMMARY_WEIGHT = 2
_SENTENCE_END = re.compile(r"[.!?](\s+|$)|\n\s*\n")
# Weights tuned on the dev half of tests/search_eval/queries.jsonl only, with and without distractors.
_SERVER_WEIGHT = 2.5
_EMBEDDING_WEIGHT = 1.0  # BM25 is scaled to 1.0 for its best hit before this is added
_MIN_SIMILARITY = 0.2
_SERVER_MEANING_CHARS = 200
_QUERY_MAX_CHARS = 1_000
# A file named in a query ("show the README", "read .gitlab-ci.yml") is an argument: what the
# query asks for is a file, a word tool docs do use.
_FILE_NAME = re.compile(
    r"(?<![\w/])(?:[\w.-]*\.(?:ya?ml|json|md|rst|txt|toml|ini|cfg|conf|xml|lock|py|js|ts|go|rs|java|rb|sh|tf)"
    r"|readme|dockerfile|makefile|license|changelog|codeowners)\b",
    re.IGNORECASE,
)
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
    """What the index knows of one tool; ``server`` is its server's domain text, shared by its siblings."""

    name: str
    description: str
    parameters: Sequence[str]
    server: str = ""

    def meaning(self) -> str:
        """What the embedding model reads: the name in words, the first sentence, the server's domain."""
        words = " ".join(_CHUNK.findall(self.name.replace("_", " ")))
        return f"{words}: {split_summary(self.description)[0]} {self.server[:_SERVER_MEANING_CHARS]}"

    def terms(self) -> list[str]:
        namespace, _, tool = self.name.partition(".")
        name_terms = tokenize(f"{namespace} {tool}")
        summary, rest = split_summary(self.description)
        return (
            name_terms * _NAME_WEIGHT
            + tokenize(summary) * _SUMMARY_WEIGHT
            + tokenize(rest)
            + tokenize(" ".join(self.parameters))
        )


def split_summary(description: str) -> tuple[str, str]:
    """The first sentence (what the tool is for) and the rest (fields, examples, caveats)."""
    match = _SENTENCE_END.search(description)
    if match is None:
        return description, ""
    return description[: match.start() + 1], description[match.end() :]


class _Default:
    """Marks "use the shared embedding model if installed" apart from an explicit None."""


DEFAULT: Final = _Default()


class ToolIndex:
    """An immutable BM25 index over a fixed list of documents.

    Two fields, scored apart and added: each tool's own text, and (at ``_SERVER_WEIGHT``) its
    server's domain text, indexed once per server, so a query in the words of a whole system
    ("crash reporting", "who owns") lifts every tool of that system without drowning the words
    that tell its tools apart.
    """

    def __init__(
        self, documents: Sequence[SearchDocument], embedder: Embedder | None | _Default = DEFAULT
    ) -> None:
        self.documents = list(documents)
        if isinstance(embedder, _Default):
            embedder = static_embedder() if self.documents else None
        self._embedder = embedder
        self._vectors = None if embedder is None else embedder.embed([d.meaning() for d in self.documents])
        self._retriever = bm25s.BM25()
        corpus = [doc.terms() or ["_empty_"] for doc in self.documents]
        if corpus:
            self._retriever.index(corpus, show_progress=False)
        texts = sorted({doc.server for doc in self.documents if doc.server.strip()})
        slot = {text: number for number, text in enumerate(texts)}
        # Tools without server text point at one extra slot that always scores 0.
        self._server_of = np.array(
            [slot.get(doc.server, len(texts)) for doc in self.documents], dtype=np.intp
        )
        self._servers: bm25s.BM25 | None = None
        if texts:
            self._servers = bm25s.BM25()
            self._servers.index([tokenize(text) or ["_empty_"] for text in texts], show_progress=False)

    def scores(self, terms: list[str]) -> np.ndarray:
        """The combined BM25 score of every document for already tokenized ``terms``."""
        scores = np.asarray(self._retriever.get_scores(terms), dtype=np.float64)
        if self._servers is not None:
            per_server = np.append(np.asarray(self._servers.get_scores(terms), dtype=np.float64), 0.0)
            scores = scores + _SERVER_WEIGHT * per_server[self._server_of]
        return scores

    def search(self, query: str, limit: int, allowed: np.ndarray | None = None) -> list[tuple[int, float]]:
        """Indices and scores of the best ``limit`` documents with a positive score, best first."""
        query = _FILE_NAME.sub(" file ", query[:_QUERY_MAX_CHARS])
        terms = tokenize(query)
        if not self.documents or limit <= 0 or not (terms or self._vectors is not None and query.strip()):
            return []
        scores = self.scores(terms) if terms else np.zeros(len(self.documents))
        if self._embedder is not None and self._vectors is not None:
            # einsum, not BLAS: a threaded matrix-vector product stalls for milliseconds on busy cores.
            similarity = np.einsum("ij,j->i", self._vectors, self._embedder.embed([query])[0])
            scores = self._fuse(scores, similarity)
        if allowed is not None:
            scores = np.where(allowed, scores, 0.0)
        candidates = np.flatnonzero(scores > 0)
        ranked = candidates[np.lexsort((candidates, -scores[candidates]))][:limit]
        return [(int(i), float(scores[i])) for i in ranked]

    @staticmethod
    def _fuse(lexical: np.ndarray, similarity: np.ndarray) -> np.ndarray:
        """BM25 scaled to the best hit (1.0) plus the weighted cosine; weak meaning alone never counts."""
        best = lexical.max()
        scaled = lexical / best if best > 0 else lexical
        meaning = np.where(similarity >= _MIN_SIMILARITY, similarity, 0.0)
        return np.asarray(scaled + _EMBEDDING_WEIGHT * meaning, dtype=np.float64)
