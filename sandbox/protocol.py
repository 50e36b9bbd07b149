"""Framing on the worker's pipes: 4-byte big-endian length, then UTF-8 JSON.

Messages (all JSON objects with a "type"):

    host -> worker  {"type": "start", "code": str, "tools": {ns: [tool, ...]},
                     "output_bytes": int, "result_bytes": int}
    worker -> host  {"type": "call", "id": int, "name": "ns.tool", "arguments": {...},
                     "alone": true (optional: no other message until its reply)}
    host -> worker  {"type": "reply", "ok": true, "value": ...}
                    {"type": "reply", "ok": false, "error": str, "limit": bool}
    worker -> host  {"type": "done", "ok": bool, "value": ..., "stdout": str,
                     "error": {"type": str, "message": str} | null}

Frames larger than MAX_FRAME_BYTES are rejected on both sides, so neither
process can make the other buffer without bound. This module is blocking and
dependency-free because the worker imports it; the host's async side of the
framing lives in `sandbox.host`.
"""

from __future__ import annotations

import json
import struct
from typing import Any, BinaryIO, Final

MAX_FRAME_BYTES: Final = 16 * 1024 * 1024
_HEADER = struct.Struct(">I")


class ProtocolError(Exception):
    """The peer sent a malformed or oversized frame, or closed the pipe."""


def encode(message: dict[str, Any]) -> bytes:
    """Frame one message; raises ProtocolError if it is too large to send."""
    try:
        body = json.dumps(message, ensure_ascii=False, allow_nan=False).encode()
    except UnicodeEncodeError:  # lone surrogates in a str: send them \u-escaped
        body = json.dumps(message, allow_nan=False).encode()
    if len(body) > MAX_FRAME_BYTES:
        raise ProtocolError(f"message of {len(body)} bytes exceeds the {MAX_FRAME_BYTES} byte frame limit")
    return _HEADER.pack(len(body)) + body


def decode_body(body: bytes) -> dict[str, Any]:
    """Parse a frame body into a message object."""
    try:
        message = json.loads(body)
    except (UnicodeDecodeError, ValueError) as exc:
        raise ProtocolError("frame is not UTF-8 JSON") from exc
    if not isinstance(message, dict) or not isinstance(message.get("type"), str):
        raise ProtocolError("frame is not a message object")
    return message


HEADER_SIZE: Final = _HEADER.size


def frame_length(header: bytes) -> int:
    """Read a header; raises ProtocolError for a frame over the limit."""
    (length,) = _HEADER.unpack(header)
    if length > MAX_FRAME_BYTES:
        raise ProtocolError(f"frame of {length} bytes exceeds the {MAX_FRAME_BYTES} byte limit")
    return int(length)


def _read_exactly(stream: BinaryIO, size: int) -> bytes:
    data = stream.read(size)
    if data is None or len(data) != size:
        raise ProtocolError("pipe closed mid-frame")
    return data


def read_message(stream: BinaryIO) -> dict[str, Any]:
    """Block until one whole message arrives."""
    length = frame_length(_read_exactly(stream, _HEADER.size))
    return decode_body(_read_exactly(stream, length))


def write_message(stream: BinaryIO, message: dict[str, Any]) -> None:
    """Send one message and flush it."""
    stream.write(encode(message))
    stream.flush()
