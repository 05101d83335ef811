"""The HTTP guard in front of the routes: bearer token first, then JSON body checks.

Also the JSON answers of the service (`json_response`, `error_response`): compact, and ASCII
for errors, which may quote invalid input.
"""

from __future__ import annotations

import hmac
import json

from fastapi.responses import Response

__all__ = ["RequestGuard", "error_response", "json_response", "token_matches"]

_WRITE_METHODS = {"POST", "PUT", "PATCH"}


def json_response(
    content, status: int = 200, headers: dict[str, str] | None = None, ascii: bool = False
) -> Response:
    body = json.dumps(content, ensure_ascii=ascii, allow_nan=False, separators=(",", ":"))
    return Response(body.encode(), status, headers, media_type="application/json")


def error_response(status: int, detail, headers: dict[str, str] | None = None) -> Response:
    # ASCII: an error may quote invalid input (e.g. a lone surrogate), which UTF-8 cannot encode
    return json_response({"detail": detail}, status, headers, ascii=True)


def token_matches(given: str, token: str) -> bool:
    return hmac.compare_digest(given.encode(), token.encode())


def _bearer(authorization: bytes | None) -> str:
    """The token of an `Authorization: Bearer <token>` header ("" if there is none)."""
    scheme, _, given = (authorization or b"").decode("latin-1").partition(" ")
    return given if scheme.lower() == "bearer" else ""  # as FastAPI's HTTPBearer reads it


class RequestGuard:
    """ASGI middleware: bearer token, then JSON content type and body size limit.

    On a `protected` path without the right token the answer is 401, before anything about
    the body is looked at. On the write methods the body is then read up to `max_bytes` (a
    larger `Content-Length` is refused unread) and handed on to the app; over the limit the
    answer is 413 and the app never sees the request.
    """

    def __init__(
        self, app, max_bytes: int, token: str | None = None, protected: frozenset = frozenset()
    ):
        self.app = app
        self.max_bytes = max_bytes
        self.token = token
        self.protected = protected if token else frozenset()

    async def _refuse(self, send, status: int, detail: str, **headers: str) -> None:
        response = error_response(status, detail, {"Connection": "close", **headers})
        await send(
            {"type": "http.response.start", "status": status, "headers": response.raw_headers}
        )
        await send({"type": "http.response.body", "body": response.body})

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        if scope["path"] in self.protected:
            if not token_matches(_bearer(headers.get(b"authorization")), self.token):
                detail = "missing or wrong bearer token"
                await self._refuse(send, 401, detail, **{"WWW-Authenticate": "Bearer"})
                return
        if scope["method"] not in _WRITE_METHODS:
            await self.app(scope, receive, send)
            return
        ctype = headers.get(b"content-type", b"").decode("latin-1").split(";")[0].strip().lower()
        if ctype and ctype != "application/json" and not ctype.endswith("+json"):
            await self._refuse(send, 415, "send the body as JSON (Content-Type: application/json)")
            return
        too_large = f"request body too large: the limit is {self.max_bytes} bytes"
        length = headers.get(b"content-length")
        if length is not None:
            try:
                declared = int(length)
            except ValueError:
                await self._refuse(send, 400, "invalid Content-Length header")
                return
            if declared > self.max_bytes:
                await self._refuse(send, 413, too_large)
                return
        body = bytearray()
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body += message.get("body", b"")
            more = message.get("more_body", False)
            if len(body) > self.max_bytes:
                await self._refuse(send, 413, too_large)
                return
        replay = [{"type": "http.request", "body": bytes(body), "more_body": False}]

        async def receive_again():
            return replay.pop() if replay else await receive()

        await self.app(scope, receive_again, send)
