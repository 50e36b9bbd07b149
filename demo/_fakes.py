"""A tiny threaded HTTP server on which every server's `fake.py` is built.

Why stdlib `ThreadingHTTPServer` and not uvicorn: the socket is bound and
listening when the constructor returns, so `start()` can hand back a fake that
already accepts connections without polling or sleeping; and it runs in a
daemon thread, so sync tests, async tests and the portal can all use it.

Routes see the RAW request path (still percent-encoded), as a real API
gateway does: GitLab's `/projects/infra%2Fapi` must stay one path segment.
Path parameters are unquoted after matching.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

__all__ = ["Request", "Response", "Router", "RunningFake", "json_response", "run_standalone", "serve"]


@dataclass(frozen=True)
class Request:
    method: str
    path: str  # raw, percent-encoded
    query: dict[str, list[str]]
    headers: dict[str, str]  # keys lower-cased
    body: bytes
    params: dict[str, str] = field(default_factory=dict)  # path parameters, unquoted

    def arg(self, name: str, default: str | None = None) -> str | None:
        """First value of a query parameter (also accepts the `name[]` array spelling)."""
        values = self.query.get(name) or self.query.get(f"{name}[]")
        return values[0] if values else default

    def args(self, name: str) -> list[str]:
        return self.query.get(name, []) + self.query.get(f"{name}[]", [])

    def form(self) -> dict[str, Any]:
        """The body as a dict, whether it was sent as JSON or form-encoded."""
        if not self.body:
            return {}
        if "json" in self.headers.get("content-type", ""):
            data = json.loads(self.body)
            return data if isinstance(data, dict) else {}
        return {k: v[0] for k, v in parse_qs(self.body.decode()).items()}


@dataclass
class Response:
    status: int = 200
    body: bytes = b""
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)


def json_response(obj: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(status, json.dumps(obj).encode(), "application/json", dict(headers or {}))


Handler = Callable[[Request], Response]


class Router:
    """Maps (method, path pattern) to a handler. `{name}` matches one raw path segment."""

    def __init__(self) -> None:
        self._routes: list[tuple[str, re.Pattern[str], Handler]] = []

    def route(self, method: str, pattern: str) -> Callable[[Handler], Handler]:
        regex = re.compile("^" + re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", pattern) + "$")

        def register(handler: Handler) -> Handler:
            self._routes.append((method, regex, handler))
            return handler

        return register

    def dispatch(self, request: Request) -> Response:
        for method, regex, handler in self._routes:
            match = regex.match(request.path)
            if match and method == request.method:
                params = {k: unquote(v) for k, v in match.groupdict().items()}
                return handler(Request(**{**request.__dict__, "params": params}))
        return json_response({"error": "404 Not Found"}, 404)


def _handler_class(dispatch: Handler) -> type[BaseHTTPRequestHandler]:
    class _Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # Headers and body go out in separate writes; without TCP_NODELAY each keep-alive
        # request waits ~40 ms on Nagle's algorithm and delayed ACKs.
        disable_nagle_algorithm = True

        def _serve(self) -> None:
            parts = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            request = Request(
                method=self.command,
                path=parts.path,
                query=parse_qs(parts.query, keep_blank_values=True),
                headers={k.lower(): v for k, v in self.headers.items()},
                body=self.rfile.read(length) if length else b"",
            )
            response = dispatch(request)
            self.send_response(response.status)
            self.send_header("Content-Type", response.content_type)
            self.send_header("Content-Length", str(len(response.body)))
            for name, value in response.headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(response.body)

        do_GET = do_POST = do_PUT = do_DELETE = _serve

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
            pass  # tests and stdio servers must keep stdout/stderr quiet

    return _Handler


@dataclass
class RunningFake:
    """A fake API accepting connections on `url`; `settings` point a server's Settings at it."""

    url: str
    settings: dict[str, str]
    _server: ThreadingHTTPServer = field(repr=False)
    _thread: threading.Thread = field(repr=False)

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    def __enter__(self) -> RunningFake:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def serve(
    dispatch: Handler, *, host: str, port: int, settings: Callable[[str], dict[str, str]]
) -> RunningFake:
    """Bind (so connections are accepted from here on), then serve in a daemon thread."""
    server = ThreadingHTTPServer((host, port), _handler_class(dispatch))
    server.daemon_threads = True
    url = f"http://{host}:{server.server_address[1]}"
    # A short poll interval: stop() returns within 50 ms instead of the default 0.5 s.
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), name=f"fake {url}", daemon=True)
    thread.start()
    return RunningFake(url=url, settings=settings(url), _server=server, _thread=thread)


def run_standalone(
    start: Callable[..., RunningFake], description: str, argv: list[str] | None = None
) -> None:
    """`python -m demo.<name>.fake --port N`: serve until interrupted."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args(argv)
    with start(host=args.host, port=args.port) as fake:
        env = " ".join(f"{k}={v}" for k, v in fake.settings.items())
        print(f"{description} on {fake.url}  (settings: {env})", flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            threading.Event().wait()
