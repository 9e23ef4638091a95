"""Every error the server answers is JSON of one shape, `{"error": "what to change"}`, with the
status that says what went wrong: 400 malformed JSON, 413 too large, 415 not JSON at all, 422
the wrong content."""

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException


def error_reply(status: int, message: str, headers: dict[str, str] | None = None, **extra) -> JSONResponse:
    return JSONResponse({"error": message, **extra}, status_code=status, headers=headers)


def add_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, invalid_request)
    app.add_exception_handler(HTTPException, http_error)


async def invalid_request(request: Request, error: RequestValidationError) -> JSONResponse:
    content_type = request.headers.get("content-type", "application/json").split(";")[0].strip()
    if content_type != "application/json" and not content_type.endswith("+json"):
        return error_reply(415, f"the body must be JSON sent as Content-Type: application/json, not {content_type}")
    problems = error.errors()
    malformed = next((p for p in problems if p["type"] == "json_invalid"), None)
    if malformed is not None:
        position = malformed["loc"][-1]
        return error_reply(400, f"the body is not valid JSON ({malformed['ctx']['error']} at character {position})")
    details = [{"loc": list(p["loc"]), "msg": p["msg"]} for p in problems]
    message = "; ".join(f"{'.'.join(str(part) for part in p['loc'])}: {p['msg']}" for p in problems)
    return error_reply(422, message, detail=details)


async def http_error(request: Request, error: HTTPException) -> JSONResponse:
    return error_reply(error.status_code, str(error.detail), headers=getattr(error, "headers", None))
