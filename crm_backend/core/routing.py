"""A route class that answers a hot route's usual request before FastAPI's generic handler."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.routing import APIRoute

# Answers the request, or returns None to hand it to FastAPI's own handler unchanged.
FastPath = Callable[[Request], Awaitable[Response | None]]


def with_fast_path(fast_path: FastPath) -> type[APIRoute]:
    """An APIRoute class that tries `fast_path` first and falls back to FastAPI's handler.

    The route is declared as usual (its parameters, dependencies and response model make its
    OpenAPI entry, and FastAPI's handler serves whatever the fast path declines). On the
    hottest route, FastAPI's per-request work (content-type parsing, solving the dependency
    tree, exit stacks, telemetry) costs more than the route itself: a fast path that takes
    only requests it can answer exactly as FastAPI would, and declines everything else
    (errors included, so their bodies stay FastAPI's), saves that work where it counts.
    """

    class FastPathRoute(APIRoute):
        def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
            standard = super().get_route_handler()

            async def handler(request: Request) -> Response:
                response = await fast_path(request)
                return response if response is not None else await standard(request)

            return handler

    FastPathRoute.__name__ = FastPathRoute.__qualname__ = f"FastPathRoute[{fast_path.__name__}]"
    return FastPathRoute
