"""The typed CRM client: the only place in actions/ that speaks HTTP."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from urllib.parse import quote

import httpx

from actions.settings import ActionSettings, get_settings


class CrmError(Exception):
    """Base of every CRM failure an action has to handle."""


class CrmUnavailable(CrmError):
    """The CRM did not answer in time, or answered with a server error."""


class OrderNotFound(CrmError):
    """No order matches the given number and email."""


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
class Order:
    """What the bot may tell a verified customer about their order."""

    number: str
    status: str
    currency: str
    total_cents: int
    items: tuple[OrderItem, ...]
    shipments: tuple[Shipment, ...]

    @classmethod
    def from_api(cls, body: dict[str, Any]) -> Order:
        """Build from the CRM's OrderRead JSON."""
        return cls(
            number=body["number"],
            status=body["status"],
            currency=body["currency"],
            total_cents=body["total_cents"],
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
                    delivered_at=datetime.fromisoformat(s["delivered_at"]) if s.get("delivered_at") else None,
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


class CrmClient:
    """Async client for the CRM API, authenticated with the service token."""

    def __init__(
        self, settings: ActionSettings, *, transport: httpx.AsyncBaseTransport | None = None
    ) -> None:
        self._http = httpx.AsyncClient(
            base_url=settings.crm_url,
            headers={"Authorization": f"Bearer {settings.crm_service_token}"},
            timeout=settings.crm_timeout_seconds,
            transport=transport,
        )

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._http.aclose()

    async def _post(self, path: str, payload: dict[str, Any]) -> httpx.Response:
        try:
            response = await self._http.post(path, json=payload)
        except httpx.HTTPError as exc:  # timeouts, refused connections, broken streams
            raise CrmUnavailable(f"{type(exc).__name__} calling {path}") from exc
        if response.status_code >= 500 or response.status_code in (401, 403):
            # A 401 means our token is wrong: for the customer that is an outage too.
            raise CrmUnavailable(f"CRM answered {response.status_code} to {path}")
        return response

    async def _get(self, path: str, params: dict[str, Any] | None = None) -> httpx.Response:
        try:
            response = await self._http.get(path, params=params)
        except httpx.HTTPError as exc:
            raise CrmUnavailable(f"{type(exc).__name__} calling {path}") from exc
        if response.status_code >= 500 or response.status_code in (401, 403):
            raise CrmUnavailable(f"CRM answered {response.status_code} to {path}")
        return response

    async def search_faq(self, question: str, *, k: int = 3) -> FaqSearch:
        """The knowledge-base articles that best answer `question`."""
        # The CRM caps queries at 500 characters; a longer message is still a question.
        response = await self._get("/api/faq/search", {"q": question[:500], "k": k})
        if response.status_code != 200:
            raise CrmUnavailable(f"unexpected status {response.status_code} from FAQ search")
        body = response.json()
        hits = tuple(FaqHit(h["id"], h["question"], h["answer"], float(h["score"])) for h in body["results"])
        return FaqSearch(hits=hits, answered=bool(body["answered"]))

    async def faq_article(self, article_id: str) -> FaqHit | None:
        """One article by id (a suggestion the customer picked), or None if it is gone."""
        response = await self._get(f"/api/faq/articles/{quote(article_id, safe='')}")
        if response.status_code in (404, 422):
            return None
        if response.status_code != 200:
            raise CrmUnavailable(f"unexpected status {response.status_code} from FAQ article")
        body = response.json()
        if not body.get("is_active", True):
            return None
        return FaqHit(body["id"], body["question"], body["answer"], 1.0)

    async def lookup_order(self, *, order_number: str, email: str) -> Order:
        """The order, if `email` is the one on it; raises OrderNotFound otherwise."""
        response = await self._post("/api/orders/lookup", {"order_number": order_number, "email": email})
        if response.status_code in (404, 422):
            raise OrderNotFound(order_number)
        if response.status_code != 200:
            raise CrmUnavailable(f"unexpected status {response.status_code} from order lookup")
        return Order.from_api(response.json())


_shared_client: CrmClient | None = None


def shared_crm_client() -> CrmClient:
    """The action server's one CRM client, created on first use (not at import time)."""
    global _shared_client
    if _shared_client is None:
        _shared_client = CrmClient(get_settings())
    return _shared_client
