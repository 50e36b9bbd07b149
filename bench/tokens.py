"""Tokens (o200k_base) of a ``tools/list`` result as a client receives it."""

from __future__ import annotations

import json
from collections.abc import Sequence
from functools import cache
from typing import Any

import mcp_types as types

__all__ = ["count_tokens", "tools_list_json"]

# bpe-openai refuses inputs of 1M characters or 200k tokens; split below both, after a ", ":
# the o200k pre-tokenizer always breaks there, so the sum over chunks is the exact count.
_CHUNK_CHARS = 200_000


@cache
def _encoding() -> Any:
    import bpe_openai

    return bpe_openai.get_encoding("o200k_base")


def tools_list_json(tools: Sequence[types.Tool]) -> str:
    """The JSON text of ``ListToolsResult(tools)`` as the SDK serialises it."""
    result = types.ListToolsResult(tools=list(tools))
    return json.dumps(result.model_dump(by_alias=True, exclude_none=True, mode="json"))


def count_tokens(text: str) -> int:
    encoding = _encoding()
    total, start = 0, 0
    while start < len(text):
        end = len(text)
        if end - start > _CHUNK_CHARS:
            end = text.rfind(", ", start + 1, start + _CHUNK_CHARS) + 1
            if end <= start:
                raise ValueError("no safe split point in the text")
        total += len(encoding.encode(text[start:end]))
        start = end
    return total
