"""A loopback proxy that adds a bearer token: how a client that sends no auth can reach the portal.

The official conformance suite connects without credentials. Rather than give
the portal a no-auth mode (a switch that would exist in production code), the
tests put this proxy in front: it forwards every request to the portal as it
came (method, path, body, and the Host and Origin headers, so the portal's
DNS-rebinding check still sees what the client sent) with one header added,
``Authorization: Bearer $TOKEN_PROXY_TOKEN``, and streams the answer back
(SSE included). It listens on 127.0.0.1 only.

``python token_proxy.py --target http://127.0.0.1:8000 --port 9000`` (token from the environment).
"""

from __future__ import annotations

import argparse
import os
from typing import Any

import anyio
import httpx
import uvicorn

_HOP_BY_HOP = {b"connection", b"keep-alive", b"transfer-encoding", b"content-length", b"authorization"}


def build_app(target: str, token: str) -> Any:
    client = httpx.AsyncClient(timeout=httpx.Timeout(60.0, read=None))

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await client.aclose()
            await send({"type": "lifespan.shutdown.complete"})
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        headers = [(k, v) for k, v in scope["headers"] if k.lower() not in _HOP_BY_HOP]
        headers.append((b"authorization", f"Bearer {token}".encode()))
        query = scope.get("query_string", b"").decode()
        url = f"{target}{scope['path']}" + (f"?{query}" if query else "")
        request = client.build_request(scope["method"], url, headers=headers, content=body)
        response = await client.send(request, stream=True)
        try:
            await send(
                {
                    "type": "http.response.start",
                    "status": response.status_code,
                    "headers": [(k, v) for k, v in response.headers.raw if k.lower() not in _HOP_BY_HOP],
                }
            )
            async with anyio.create_task_group() as group:

                async def until_disconnect() -> None:
                    while (await receive())["type"] != "http.disconnect":
                        pass
                    group.cancel_scope.cancel()

                group.start_soon(until_disconnect)
                async for chunk in response.aiter_raw():
                    await send({"type": "http.response.body", "body": chunk, "more_body": True})
                await send({"type": "http.response.body", "body": b"", "more_body": False})
                group.cancel_scope.cancel()
        finally:
            await response.aclose()

    return app


def main() -> None:
    parser = argparse.ArgumentParser(prog="token_proxy")
    parser.add_argument("--target", required=True)
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    app = build_app(args.target.rstrip("/"), os.environ["TOKEN_PROXY_TOKEN"])
    uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning", lifespan="on")


if __name__ == "__main__":
    main()
