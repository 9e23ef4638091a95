"""A request body over `max_bytes` gets 413 before the app reads all of it: at once when its
Content-Length says so, else as soon as the streamed body passes the limit."""

from fastapi import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from neka.serve.http_errors import error_reply


class BodyLimit:
    def __init__(self, app: ASGIApp, max_bytes: int):
        self.app = app
        self.max_bytes = max_bytes

    def message(self, size: str) -> str:
        return f"the body has {size} bytes; this server takes at most {self.max_bytes} (serve.max_bytes)"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > self.max_bytes:
            await error_reply(413, self.message(declared.decode()))(scope, receive, send)
            return
        received = 0

        async def counted_receive() -> Message:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > self.max_bytes:
                # fastapi's own HTTPException: the body reader passes it through to the error handlers
                raise HTTPException(413, self.message(f"more than {self.max_bytes}"))
            return message

        await self.app(scope, counted_receive, send)
