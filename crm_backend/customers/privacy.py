"""Privacy requests: export everything held about a customer, or erase it.

Orders are kept for accounting but anonymised; messages, identities, addresses and
the text of tickets are deleted. Both requests are audited without personal data.
"""

from __future__ import annotations

from typing import Any

from fastapi.encoders import jsonable_encoder
from sqlalchemy.ext.asyncio import AsyncSession

from crm_backend.audit.schemas import AuditEntryRead
from crm_backend.audit.service import record
from crm_backend.auth.principal import Principal
from crm_backend.core.types import utcnow
from crm_backend.customers import repository
from crm_backend.customers.service import get_customer, to_read
from crm_backend.orders.service import to_read as order_to_read

ERASED_NAME = "Erased customer"


def _row(obj: Any, *fields: str) -> dict[str, Any]:
    return {field: getattr(obj, field) for field in fields}


async def export_customer(session: AsyncSession, *, customer_id: int, actor: Principal) -> dict[str, Any]:
    """Everything the CRM holds about one customer, as JSON-ready data."""
    customer = await get_customer(session, customer_id)
    conversations = await repository.conversations_of(session, customer_id)
    handoffs = await repository.handoffs_of(session, [c.id for c in conversations])
    message_fields = ("author", "channel", "text", "payload", "intent", "is_internal", "sent_at")
    export = {
        "exported_at": utcnow(),
        "customer": to_read(customer),
        "orders": [order_to_read(o) for o in await repository.orders_of(session, customer_id)],
        "tickets": [
            {
                **_row(t, "number", "subject", "description", "category", "priority", "status", "created_at"),
                "comments": [_row(c, "author_kind", "body", "is_public", "created_at") for c in t.comments],
            }
            for t in await repository.tickets_of(session, customer_id)
        ],
        "conversations": [
            {
                **_row(c, "sender_id", "channel", "status", "started_at", "last_message_at"),
                "messages": [_row(m, *message_fields) for m in c.messages],
            }
            for c in conversations
        ],
        "handoffs": [
            _row(h, "reason", "status", "requested_at", "resolved_at", "csat_score", "csat_comment")
            for h in handoffs
        ],
        "audit": [
            AuditEntryRead.model_validate(e) for e in await repository.audit_entries_of(session, customer_id)
        ],
    }
    await record(
        session, actor=actor, action="customer.export", entity_type="customer", entity_id=customer_id
    )
    result: dict[str, Any] = jsonable_encoder(export)
    return result


async def erase_customer(session: AsyncSession, *, customer_id: int, actor: Principal) -> dict[str, int]:
    """Erase a customer's personal data; keep anonymised orders for the accounts."""
    customer = await get_customer(session, customer_id)
    orders = await repository.orders_of(session, customer_id)
    for order in orders:
        order.email = f"erased-{order.id}@invalid.example"
        country = order.shipping_address.get("country", "XX")
        order.shipping_address = {
            "name": "Erased", "line1": "Erased", "line2": None,
            "city": "Erased", "postal_code": "-", "country": country,
        }  # fmt: skip
    tickets = await repository.tickets_of(session, customer_id)
    for ticket in tickets:
        ticket.subject = "[erased]"
        ticket.description = ""
        ticket.comments = []
    conversations = await repository.conversations_of(session, customer_id)
    messages = sum(len(c.messages) for c in conversations)
    for conversation in conversations:
        await session.delete(conversation)
    # Audit entries about the record may quote old contact details.
    for entry in await repository.audit_entries_of(session, customer_id):
        entry.changes = {}
    # Stored responses of retried writes copy the customer's orders and tickets.
    stored_responses = await repository.delete_stored_responses_of(session, customer_id)
    customer.full_name = ERASED_NAME
    customer.email = None
    customer.phone = None
    customer.phone_digits = None
    customer.preferred_channel = None
    customer.marketing_consent = False
    customer.marketing_consent_at = None
    customer.emails = []
    customer.identities = []
    customer.addresses = []
    customer.tags = []
    customer.erased_at = utcnow()
    await session.flush()
    summary = {
        "orders_anonymised": len(orders),
        "tickets_scrubbed": len(tickets),
        "messages_deleted": messages,
        "stored_responses_deleted": stored_responses,
    }
    await record(
        session,
        actor=actor,
        action="customer.erase",
        entity_type="customer",
        entity_id=customer_id,
        changes=dict(summary),
    )
    return summary
