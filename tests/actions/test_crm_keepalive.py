"""CrmClient against a real HTTP server that closes idle keep-alive connections, as uvicorn does.

Regression (found by bench-bot): uvicorn hangs up a keep-alive connection after 5 s idle and
httpx kept idle connections 5 s too, so a request sent as the CRM hung up failed with ReadError
and the customer heard "can't reach our order system". The client now drops idle connections
itself after CRM_KEEPALIVE_SECONDS. The server below is a few lines of asyncio speaking
HTTP/1.1 over a real socket (the bot environment has no uvicorn); it counts the connections it
accepts, so the tests see whether the client reused one or opened a fresh one.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress

from actions import crm_client
from actions.crm_client import CrmClient
from actions.settings import ActionSettings
from tests.actions.conftest import order_json

PROOF = {"email": "alice.martin@example.com"}
# uvicorn's default `timeout_keep_alive`, which the CRM runs with (it sets no other).
UVICORN_KEEP_ALIVE_SECONDS = 5.0


class IdleClosingServer:
    """Answers every request with an order; closes a connection after `keep_alive` s idle."""

    def __init__(self, keep_alive: float) -> None:
        self.keep_alive = keep_alive
        self.connections = 0
        self.requests = 0
        self._server: asyncio.Server | None = None

    @property
    def url(self) -> str:
        assert self._server is not None
        host, port = self._server.sockets[0].getsockname()[:2]
        return f"http://{host}:{port}"

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)

    async def stop(self) -> None:
        assert self._server is not None
        self._server.close()
        await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        body = json.dumps(order_json()).encode()
        try:
            while True:
                try:
                    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), self.keep_alive)
                except (asyncio.TimeoutError, asyncio.IncompleteReadError):
                    return  # idle too long (or the client left): hang up, as uvicorn does
                length = next(
                    (
                        int(line.split(b":", 1)[1])
                        for line in head.split(b"\r\n")
                        if line.lower().startswith(b"content-length:")
                    ),
                    0,
                )
                await reader.readexactly(length)
                self.requests += 1
                writer.write(
                    b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n"
                    + f"content-length: {len(body)}\r\n\r\n".encode()
                    + body
                )
                await writer.drain()
        finally:
            writer.close()
            with suppress(ConnectionError):
                await writer.wait_closed()


@asynccontextmanager
async def serving(keep_alive: float) -> AsyncIterator[tuple[IdleClosingServer, CrmClient]]:
    """A started server and a CrmClient pointed at it, both closed afterwards."""
    server = IdleClosingServer(keep_alive)
    await server.start()
    client = CrmClient(ActionSettings(crm_url=server.url, crm_service_token="t", crm_timeout_seconds=3))
    try:
        yield server, client
    finally:
        await client.aclose()
        await server.stop()


def test_idle_connections_are_dropped_before_the_crm_server_would_drop_them():
    assert crm_client.CRM_KEEPALIVE_SECONDS < UVICORN_KEEP_ALIVE_SECONDS


async def test_a_connection_idle_past_the_clients_expiry_is_not_reused():
    async with serving(UVICORN_KEEP_ALIVE_SECONDS) as (server, client):
        await client.lookup_order(order_number="ORD-100001", proof=PROOF)
        await client.lookup_order(order_number="ORD-100001", proof=PROOF)
        assert server.connections == 1  # back to back: one kept-alive connection

        # Idle longer than the client keeps connections, shorter than the server does: with
        # httpx's default (5 s, like uvicorn's) this request would reuse the old connection
        # and race the server's hang-up.
        await asyncio.sleep(crm_client.CRM_KEEPALIVE_SECONDS + 0.5)
        order = await client.lookup_order(order_number="ORD-100001", proof=PROOF)

    assert order.number == "ORD-100001"
    assert (server.connections, server.requests) == (2, 3)


async def test_a_request_after_the_server_closed_an_idle_connection_succeeds():
    async with serving(keep_alive=1.0) as (server, client):
        await client.lookup_order(order_number="ORD-100001", proof=PROOF)
        await asyncio.sleep(1.5)  # the server has hung up; the client still holds the connection
        order = await client.lookup_order(order_number="ORD-100001", proof=PROOF)

    assert order.number == "ORD-100001"
    assert (server.connections, server.requests) == (2, 2)
