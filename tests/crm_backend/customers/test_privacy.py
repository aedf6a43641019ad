"""Privacy requests: export everything, erase what is personal, keep the accounts."""

from __future__ import annotations

from sqlalchemy import func, select

from crm_backend.conversations.models import Conversation, Message, MessageAuthor
from crm_backend.core.enums import Channel
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

    assert response.json() == {"orders_anonymised": 1, "tickets_scrubbed": 0, "messages_deleted": 1}
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
