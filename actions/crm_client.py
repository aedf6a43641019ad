"""The typed CRM client: the only place in actions/ that speaks HTTP."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from urllib.parse import quote

import httpx

from actions.settings import ActionSettings, get_settings

# httpx logs every request at INFO: a line per CRM call in the action server's log, and
# ~3% of its CPU (py-spy, `make bench-bot`). Failures are reported by this client itself.
logging.getLogger("httpx").setLevel(logging.WARNING)

# How the customer proves an order or ticket is theirs: {"email": ...} or {"customer_id": ...}.
OwnershipProof = dict[str, Any]


class CrmError(Exception):
    """Base of every CRM failure an action has to handle."""


class CrmUnavailable(CrmError):
    """The CRM did not answer in time, or answered with a server error."""


class OrderNotFound(CrmError):
    """No order matches the given number and email."""


class TicketNotFound(CrmError):
    """No ticket matches the given number and customer."""


class Refused(CrmError):
    """The CRM refused a change for a business reason (409): `code` names it, `detail` explains it."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(f"{code}: {detail}")
        self.code = code
        self.detail = detail


class Rejected(CrmError):
    """The CRM rejected a value we sent (422): the customer typed something it can't store."""


@dataclass(frozen=True, slots=True)
class OrderItem:
    sku: str
    name: str
    quantity: int
    unit_price_cents: int


@dataclass(frozen=True, slots=True)
class Shipment:
    carrier: str
    tracking_number: str
    tracking_url: str | None
    estimated_delivery: date | None
    delivered_at: datetime | None


@dataclass(frozen=True, slots=True)
class Refund:
    amount_cents: int
    currency: str
    status: str
    created_at: datetime
    completed_at: datetime | None


@dataclass(frozen=True, slots=True)
class OrderReturn:
    number: str
    status: str
    requested_at: datetime


def _datetime(value: str) -> datetime:
    # The CRM writes UTC as "...Z", which datetime.fromisoformat only reads from Python 3.11 on.
    return datetime.fromisoformat(value[:-1] + "+00:00" if value.endswith("Z") else value)


def _optional_datetime(value: str | None) -> datetime | None:
    return _datetime(value) if value else None


@dataclass(frozen=True, slots=True)
class Order:
    """What the bot may tell a verified customer about their order."""

    number: str
    customer_id: int | None
    status: str
    currency: str
    total_cents: int
    items: tuple[OrderItem, ...]
    shipments: tuple[Shipment, ...]
    shipping_address: dict[str, Any] = field(default_factory=dict)
    can_cancel: bool = False
    return_window_ends: datetime | None = None
    returns: tuple[OrderReturn, ...] = ()
    refunds: tuple[Refund, ...] = ()

    @classmethod
    def from_api(cls, body: dict[str, Any]) -> Order:
        """Build from the CRM's OrderRead JSON."""
        return cls(
            number=body["number"],
            customer_id=body.get("customer_id"),
            status=body["status"],
            currency=body["currency"],
            total_cents=body["total_cents"],
            shipping_address=body.get("shipping_address") or {},
            can_cancel=bool(body.get("can_cancel", False)),
            return_window_ends=_optional_datetime(body.get("return_window_ends")),
            returns=tuple(
                OrderReturn(r["number"], r["status"], _datetime(r["requested_at"]))
                for r in body.get("returns", ())
            ),
            refunds=tuple(
                Refund(
                    amount_cents=r["amount_cents"],
                    currency=r["currency"],
                    status=r["status"],
                    created_at=_datetime(r["created_at"]),
                    completed_at=_optional_datetime(r.get("completed_at")),
                )
                for r in body.get("refunds", ())
            ),
            items=tuple(
                OrderItem(i["sku"], i["name"], i["quantity"], i["unit_price_cents"]) for i in body["items"]
            ),
            shipments=tuple(
                Shipment(
                    carrier=s["carrier"],
                    tracking_number=s["tracking_number"],
                    tracking_url=s.get("tracking_url"),
                    estimated_delivery=date.fromisoformat(s["estimated_delivery"])
                    if s.get("estimated_delivery")
                    else None,
                    delivered_at=_optional_datetime(s.get("delivered_at")),
                )
                for s in body["shipments"]
            ),
        )


@dataclass(frozen=True, slots=True)
class FaqHit:
    """One knowledge-base article that may answer the customer's question."""

    id: str
    question: str
    answer: str
    score: float


@dataclass(frozen=True, slots=True)
class FaqSearch:
    """The best articles, best first, and whether the best one is confident enough to answer."""

    hits: tuple[FaqHit, ...]
    answered: bool


@dataclass(frozen=True, slots=True)
class Ticket:
    """A ticket as its customer may see it."""

    number: str
    subject: str
    status: str
    last_public_reply: str | None = None


@dataclass(frozen=True, slots=True)
class HandoffTicket:
    """The queue entry a handoff became: where the customer stands and whether anyone can help now."""

    id: int
    queue_position: int | None
    agents_online: int
    created: bool


@dataclass(frozen=True, slots=True)
class RatableHandoff:
    """A closed handoff the customer may rate: its id and whether they already did."""

    id: int
    rated: bool


def _detail(response: httpx.Response) -> tuple[str, str]:
    """The CRM's {"error", "detail"} body, tolerating anything else."""
    try:
        body = response.json()
    except ValueError:
        return "unknown", response.text[:200]
    if not isinstance(body, dict):
        return "unknown", str(body)[:200]
    return str(body.get("error", "unknown")), str(body.get("detail", ""))


# Below the CRM server's keep-alive timeout (uvicorn's default, 5 s).
CRM_KEEPALIVE_SECONDS = 2.0


class CrmClient:
    """Async client for the CRM API, authenticated with the service token.

    Every method either returns what the bot needs or raises a CrmError subclass the
    actions handle: CrmUnavailable for outages, Refused for business rules (409),
    Rejected for values the CRM can't store (422), *NotFound for failed verification.
    """

    def __init__(
        self, settings: ActionSettings, *, transport: httpx.AsyncBaseTransport | None = None
    ) -> None:
        self._http = httpx.AsyncClient(
            base_url=settings.crm_url,
            headers={"Authorization": f"Bearer {settings.crm_service_token}"},
            timeout=settings.crm_timeout_seconds,
            # uvicorn closes a keep-alive connection after 5 s idle, and httpx would keep it 5 s
            # too: a request sent as the server hangs up fails with ReadError ("can't reach our
            # order system" after a quiet spell). Dropping idle connections sooner avoids the race.
            limits=httpx.Limits(keepalive_expiry=CRM_KEEPALIVE_SECONDS),
            transport=transport,
        )

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._http.aclose()

    async def _request(
        self,
        method: str,
        path: str,
        *,
        json: dict[str, Any] | None = None,
        params: dict[str, Any] | None = None,
        idempotency_key: str | None = None,
    ) -> httpx.Response:
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else None
        try:
            response = await self._http.request(method, path, json=json, params=params, headers=headers)
        except httpx.HTTPError as exc:  # timeouts, refused connections, broken streams
            raise CrmUnavailable(f"{type(exc).__name__} calling {path}") from exc
        if response.status_code >= 500 or response.status_code in (401, 403):
            # A 401 means our token is wrong: for the customer that is an outage too.
            raise CrmUnavailable(f"CRM answered {response.status_code} to {method} {path}")
        if response.status_code == 409:
            raise Refused(*_detail(response))
        return response

    @staticmethod
    def _expect(response: httpx.Response, *statuses: int) -> dict[str, Any]:
        if response.status_code == 422:
            raise Rejected(_detail(response)[1])
        if response.status_code not in statuses:
            raise CrmUnavailable(f"unexpected status {response.status_code} from {response.request.url.path}")
        body: dict[str, Any] = response.json()
        return body

    # --- knowledge base -------------------------------------------------------------

    async def search_faq(self, question: str, *, k: int = 3) -> FaqSearch:
        """The knowledge-base articles that best answer `question`."""
        # The CRM caps queries at 500 characters; a longer message is still a question.
        response = await self._request("GET", "/api/faq/search", params={"q": question[:500], "k": k})
        body = self._expect(response, 200)
        hits = tuple(FaqHit(h["id"], h["question"], h["answer"], float(h["score"])) for h in body["results"])
        return FaqSearch(hits=hits, answered=bool(body["answered"]))

    async def faq_article(self, article_id: str) -> FaqHit | None:
        """One article by id (a suggestion the customer picked), or None if it is gone."""
        response = await self._request("GET", f"/api/faq/articles/{quote(article_id, safe='')}")
        if response.status_code in (404, 422):
            return None
        body = self._expect(response, 200)
        if not body.get("is_active", True):
            return None
        return FaqHit(body["id"], body["question"], body["answer"], 1.0)

    # --- orders ---------------------------------------------------------------------

    async def lookup_order(self, *, order_number: str, proof: OwnershipProof) -> Order:
        """The order, if the proof (its email, or the verified customer) matches; else OrderNotFound."""
        response = await self._request(
            "POST", "/api/orders/lookup", json={"order_number": order_number, **proof}
        )
        if response.status_code in (400, 404, 422):
            raise OrderNotFound(order_number)
        return Order.from_api(self._expect(response, 200))

    async def cancel_order(self, *, order_number: str, proof: OwnershipProof, idempotency_key: str) -> Order:
        """Cancel an order that has not shipped; Refused (with the CRM's reason) otherwise."""
        response = await self._request(
            "POST",
            f"/api/orders/{quote(order_number, safe='')}/cancel",
            json={**proof, "reason": "cancelled by the customer in chat"},
            idempotency_key=idempotency_key,
        )
        if response.status_code == 404:
            raise OrderNotFound(order_number)
        return Order.from_api(self._expect(response, 200))

    async def change_shipping_address(
        self, *, order_number: str, proof: OwnershipProof, address: dict[str, Any]
    ) -> Order:
        """Send the order somewhere else while it is still in the warehouse."""
        response = await self._request(
            "PUT",
            f"/api/orders/{quote(order_number, safe='')}/shipping-address",
            json={**proof, "address": address},
        )
        if response.status_code == 404:
            raise OrderNotFound(order_number)
        return Order.from_api(self._expect(response, 200))

    async def start_return(
        self, *, order_number: str, proof: OwnershipProof, reason: str, idempotency_key: str
    ) -> OrderReturn:
        """Open a return for the whole order; Refused when not delivered, out of window or already open."""
        response = await self._request(
            "POST",
            f"/api/orders/{quote(order_number, safe='')}/returns",
            json={**proof, "reason": reason[:500]},
            idempotency_key=idempotency_key,
        )
        if response.status_code == 404:
            raise OrderNotFound(order_number)
        body = self._expect(response, 201, 200)
        return OrderReturn(body["number"], body["status"], _datetime(body["requested_at"]))

    # --- tickets --------------------------------------------------------------------

    async def create_ticket(self, ticket: dict[str, Any], *, idempotency_key: str) -> str:
        """Open a ticket (TicketCreate fields) and return its number."""
        response = await self._request("POST", "/api/tickets", json=ticket, idempotency_key=idempotency_key)
        if response.status_code == 404 and _detail(response)[0] == "conversation_not_found":
            # The conversation reaches the CRM through the event stream, which may lag
            # behind: the ticket matters more than its link, so open it without.
            unlinked = {k: v for k, v in ticket.items() if k != "conversation_sender_id"}
            response = await self._request(
                "POST", "/api/tickets", json=unlinked, idempotency_key=f"{idempotency_key}-unlinked"
            )
        return str(self._expect(response, 201, 200)["number"])

    async def lookup_ticket(self, *, number: str, proof: OwnershipProof) -> Ticket:
        """A ticket's status, if it belongs to the customer the proof names; else TicketNotFound."""
        response = await self._request("POST", "/api/tickets/lookup", json={"number": number, **proof})
        if response.status_code in (400, 404, 422):
            raise TicketNotFound(number)
        body = self._expect(response, 200)
        replies = [c["body"] for c in body.get("comments", []) if c.get("author_kind") != "customer"]
        return Ticket(body["number"], body["subject"], body["status"], replies[-1] if replies else None)

    async def add_ticket_comment(self, *, number: str, text: str) -> None:
        """Add the customer's words to their ticket (ownership is checked before, by lookup_ticket)."""
        response = await self._request(
            "POST",
            f"/api/tickets/{quote(number, safe='')}/comments",
            json={"body": text, "is_public": True, "from_customer": True},
        )
        if response.status_code == 404:
            raise TicketNotFound(number)
        self._expect(response, 201)

    # --- customers ------------------------------------------------------------------

    async def resolve_customer(
        self, *, channel: str, external_id: str, email: str | None, customer_id: int | None = None
    ) -> int:
        """The customer behind this chat (found by channel identity or email, or created): their id.

        With `customer_id` (proven, e.g. by a verified order) the chat's identity is attached to
        that customer; Refused("identity_taken") if it already belongs to another.
        """
        payload: dict[str, Any] = {"channel": channel, "external_id": external_id}
        if email:
            payload["email"] = email
        if customer_id is not None:
            payload["customer_id"] = customer_id
        response = await self._request("POST", "/api/customers/resolve", json=payload)
        return int(self._expect(response, 200)["customer"]["id"])

    async def update_customer(self, customer_id: int, changes: dict[str, Any]) -> None:
        """Change contact details or preferences (CustomerUpdate fields)."""
        response = await self._request("PATCH", f"/api/customers/{customer_id}", json=changes)
        self._expect(response, 200)

    # --- handoffs -------------------------------------------------------------------

    async def request_handoff(
        self,
        *,
        sender_id: str,
        reason: str,
        channel: str,
        customer_id: int | None,
        summary: dict[str, Any],
    ) -> HandoffTicket:
        """Queue the conversation for a human; an already open handoff comes back as it is."""
        response = await self._request(
            "POST",
            "/api/handoffs",
            json={
                "sender_id": sender_id,
                "reason": reason,
                "channel": channel,
                "customer_id": customer_id,
                "summary": summary,
            },
        )
        body = self._expect(response, 201, 200)
        return HandoffTicket(
            id=int(body["id"]),
            queue_position=body.get("queue_position"),
            agents_online=int(body.get("agents_online", 0)),
            created=response.status_code == 201,
        )

    async def latest_resolved_handoff(self, *, sender_id: str) -> RatableHandoff | None:
        """The conversation's most recently closed handoff, or None if it never had one."""
        response = await self._request(
            "GET", "/api/handoffs", params={"sender_id": sender_id, "status": "resolved", "limit": 1}
        )
        items = self._expect(response, 200)["items"]
        if not items:
            return None
        return RatableHandoff(id=int(items[0]["id"]), rated=items[0].get("csat_score") is not None)

    async def rate_handoff(self, *, handoff_id: int, score: int, comment: str | None) -> None:
        """Store the customer's satisfaction (1-5) and comment; Refused if it was rated already."""
        response = await self._request(
            "POST", f"/api/handoffs/{handoff_id}/csat", json={"score": score, "comment": comment}
        )
        self._expect(response, 200)

    async def complete_rating(self, *, handoff_id: int, score: int, comment: str | None) -> None:
        """Add the comment to a stored score (and the score, if changed); Refused if not scored or done."""
        response = await self._request(
            "PATCH", f"/api/handoffs/{handoff_id}/csat", json={"score": score, "comment": comment}
        )
        self._expect(response, 200)


_shared_client: CrmClient | None = None


def shared_crm_client() -> CrmClient:
    """The action server's one CRM client, created on first use (not at import time)."""
    global _shared_client
    if _shared_client is None:
        _shared_client = CrmClient(get_settings())
    return _shared_client
