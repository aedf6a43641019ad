"""Domain errors and the handlers that render every error as {"error", "detail"}."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException


class DomainError(Exception):
    """A business rule refused the request; subclasses carry their HTTP status."""

    status_code = 400
    error = "bad_request"

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class NotFound(DomainError):
    status_code = 404
    error = "not_found"


class Conflict(DomainError):
    status_code = 409
    error = "conflict"


class Unauthorized(DomainError):
    status_code = 401
    error = "unauthorized"


def error_body(error: str, detail: Any) -> dict[str, Any]:
    """The one error shape the API speaks."""
    return {"error": error, "detail": detail}


def _clean_validation_errors(errors: list[dict[str, Any]]) -> list[dict[str, Any]]:
    # Pydantic puts the offending input (and exception objects) into each error;
    # echoing raw input back can leak secrets and may not even be JSON-encodable.
    return [
        {"loc": list(err.get("loc", ())), "msg": str(err.get("msg", "")), "type": err.get("type")}
        for err in errors
    ]


def install_error_handlers(app: FastAPI) -> None:
    """Register the handlers that keep every failure a JSON 4xx/5xx without a trace."""

    @app.exception_handler(DomainError)
    async def _domain_error(_request: Request, exc: DomainError) -> JSONResponse:
        return JSONResponse(error_body(exc.error, exc.detail), status_code=exc.status_code)

    @app.exception_handler(RequestValidationError)
    async def _validation_error(_request: Request, exc: RequestValidationError) -> JSONResponse:
        detail = _clean_validation_errors(list(exc.errors()))
        return JSONResponse(jsonable_encoder(error_body("validation_error", detail)), status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        error = {
            401: "unauthorized",
            403: "forbidden",
            404: "not_found",
            405: "method_not_allowed",
            413: "payload_too_large",
        }.get(exc.status_code, "http_error")
        return JSONResponse(
            error_body(error, exc.detail),
            status_code=exc.status_code,
            headers=getattr(exc, "headers", None),
        )

    @app.exception_handler(Exception)
    async def _unexpected(_request: Request, _exc: Exception) -> JSONResponse:
        # The trace goes to the server log (uvicorn logs it); the client gets no internals.
        return JSONResponse(
            error_body("internal_error", "The server hit an unexpected error."), status_code=500
        )
