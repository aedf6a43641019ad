"""Privacy requests: export everything, erase what is personal, keep the accounts."""

from __future__ import annotations

from sqlalchemy import func, select

from crm_backend.conversations.models import Conversation, Message, MessageAuthor
from crm_backend.core.enums import Channel
from crm_backend.idempotency.models import IdempotencyRecord
from crm_backend.orders.models import OrderStatus
from tests.crm_backend.factories import make_customer, make_order


async def _customer_with_history(session):
    customer = await make_customer(session, phone="+33 6 00 00 00 01")
    order = await make_order(session, customer=customer)
    conversation = Conversation(sender_id=f"web-{customer.id}", channel=Channel.WEB, customer_id=customer.id)
    conversation.messages.append(
        Message(author=MessageAuthor.CUSTOMER, channel=Channel.WEB, text="my address is 1 Secret Street")
    )
    session.add(conversation)
    await session.flush()
    return customer, order


async def test_export_contains_the_record_orders_and_conversations(admin_client, session):
    customer, order = await _customer_with_history(session)

    response = await admin_client.get(f"/api/customers/{customer.id}/export")
    audit = await admin_client.get("/api/audit", params={"action": "customer.export"})

    assert response.status_code == 200
    export = response.json()
    assert export["customer"]["email"] == customer.email
    assert [o["number"] for o in export["orders"]] == [order.number]
    assert export["conversations"][0]["messages"][0]["text"] == "my address is 1 Secret Street"
    assert audit.json()["items"][0]["entity_id"] == str(customer.id)


async def test_ordinary_agents_cannot_export(agent_client, session):
    customer = await make_customer(session)
    assert (await agent_client.get(f"/api/customers/{customer.id}/export")).status_code == 403


async def test_erase_keeps_anonymised_orders_and_deletes_messages(admin_client, session):
    customer, order = await _customer_with_history(session)

    response = await admin_client.post(f"/api/customers/{customer.id}/erase")
    after = (await admin_client.get(f"/api/customers/{customer.id}")).json()
    kept_order = (await admin_client.get(f"/api/orders/{order.number}")).json()
    messages = await session.scalar(select(func.count()).select_from(Message))
    found = await admin_client.get("/api/customers", params={"q": customer.email})

    assert response.json() == {
        "orders_anonymised": 1,
        "tickets_scrubbed": 0,
        "messages_deleted": 1,
        "stored_responses_deleted": 0,
    }
    assert after["full_name"] == "Erased customer"
    assert after["email"] is None
    assert after["phone"] is None
    assert after["emails"] == []
    assert after["identities"] == []
    assert after["erased_at"] is not None
    assert kept_order["total_cents"] == order.total_cents
    assert customer.email not in kept_order["email"]
    assert kept_order["shipping_address"]["line1"] == "Erased"
    assert messages == 0
    assert found.json()["total"] == 0


async def test_erased_customer_cannot_be_edited_and_erase_needs_an_admin(agent_client, admin_client, session):
    customer = await make_customer(session)
    refused = await agent_client.post(f"/api/customers/{customer.id}/erase")
    await admin_client.post(f"/api/customers/{customer.id}/erase")
    edit = await admin_client.patch(f"/api/customers/{customer.id}", json={"full_name": "Back"})

    assert refused.status_code == 403
    assert edit.status_code == 409
    assert edit.json()["error"] == "customer_erased"


async def _stored_responses(session) -> dict[str, int | None]:
    rows = await session.execute(select(IdempotencyRecord.key, IdempotencyRecord.customer_id))
    return {key: customer_id for key, customer_id in rows}


async def test_erase_deletes_the_stored_responses_of_the_customers_retried_writes(
    client, admin_client, session
):
    """Stored responses (replayed to retries) copy orders and tickets: erasure deletes them too."""
    customer = await make_customer(session)
    paid = await make_order(session, customer=customer, status=OrderStatus.PAID)
    delivered = await make_order(session, customer=customer, delivered_days_ago=3)
    other = await make_order(session, status=OrderStatus.PAID)
    proof = {"email": customer.email}
    writes = {
        "cancel": ("POST", f"/api/orders/{paid.number}/cancel", {**proof, "reason": "changed my mind"}),
        "return": ("POST", f"/api/orders/{delivered.number}/returns", {**proof, "reason": "too small"}),
        "ticket": ("POST", "/api/tickets", {"subject": "Where is my parcel?", "customer_id": customer.id}),
        "other": ("POST", f"/api/orders/{other.number}/cancel", {"email": other.email}),
    }
    answers = {}
    for key, (method, path, body) in writes.items():
        answers[key] = await client.request(method, path, json=body, headers={"Idempotency-Key": key})
        assert answers[key].status_code in (200, 201), answers[key].text
    ticket_number = answers["ticket"].json()["number"]
    commented = await client.post(
        f"/api/tickets/{ticket_number}/comments",
        json={"body": "It arrived, thanks", "from_customer": True},
        headers={"Idempotency-Key": "comment"},
    )
    assert commented.status_code == 201, commented.text
    assert await _stored_responses(session) == {
        "cancel": customer.id, "return": customer.id, "ticket": customer.id, "comment": customer.id,
        "other": other.customer_id,
    }  # fmt: skip

    erased = await admin_client.post(f"/api/customers/{customer.id}/erase")

    assert erased.json()["stored_responses_deleted"] == 4
    assert await _stored_responses(session) == {"other": other.customer_id}


async def test_merging_moves_the_stored_responses_to_the_kept_customer(client, admin_client, session):
    kept = await make_customer(session)
    duplicate = await make_customer(session)
    order = await make_order(session, customer=duplicate, status=OrderStatus.PAID)
    cancelled = await client.post(
        f"/api/orders/{order.number}/cancel",
        json={"email": order.email},
        headers={"Idempotency-Key": "dup-cancel"},
    )
    assert cancelled.status_code == 200

    merged = await admin_client.post(f"/api/customers/{kept.id}/merge", json={"duplicate_id": duplicate.id})
    erased = await admin_client.post(f"/api/customers/{kept.id}/erase")

    assert merged.status_code == 200, merged.text
    assert erased.json()["stored_responses_deleted"] == 1
    assert await _stored_responses(session) == {}
