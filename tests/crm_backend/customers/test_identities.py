"""One customer across channels: channel identities and the conversations they link."""

from __future__ import annotations

from typing import Any

import pytest

from tests.crm_backend.conversations.factories import message_body
from tests.crm_backend.factories import make_customer


async def _conversation(client, sender_id: str) -> dict[str, Any]:
    response = await client.get(f"/api/conversations/{sender_id}")
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


async def _record(client, customer_id: int) -> dict[str, Any]:
    """The whole customer record: resolve answers with a summary."""
    response = await client.get(f"/api/customers/{customer_id}")
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


async def test_resolve_answers_with_the_customers_summary_not_their_whole_record(client, session):
    customer = await make_customer(session)
    for n in range(3):
        await client.post(
            "/api/customers/resolve",
            json={"channel": "web", "external_id": f"widget-summary-{n}", "customer_id": customer.id},
        )

    again = await client.post(
        "/api/customers/resolve", json={"channel": "web", "external_id": "widget-summary-1"}
    )

    assert again.json()["matched_by"] == "identity"
    assert set(again.json()["customer"]) == {
        "id", "full_name", "email", "phone", "preferred_channel", "language", "created_at"
    }  # fmt: skip
    assert len((await _record(client, customer.id))["identities"]) == 3


async def test_messenger_then_widget_with_one_email_is_one_customer_with_both_conversations(client):
    await client.post("/api/conversations/psid-700/messages", json=message_body(channel="messenger"))
    await client.post("/api/conversations/widget-700/messages", json=message_body(channel="web"))

    messenger = await client.post(
        "/api/customers/resolve",
        json={
            "channel": "messenger",
            "external_id": "psid-700",
            "email": "lea@example.com",
            "email_proven": True,
        },
    )
    widget = await client.post(
        "/api/customers/resolve",
        json={
            "channel": "web",
            "external_id": "widget-700",
            "email": "LEA@example.com",
            "email_proven": True,
        },
    )
    listed = await client.get(
        "/api/conversations", params={"customer_id": messenger.json()["customer"]["id"]}
    )

    assert widget.json()["customer"]["id"] == messenger.json()["customer"]["id"]
    customer = await _record(client, widget.json()["customer"]["id"])
    assert {(i["channel"], i["external_id"]) for i in customer["identities"]} == {
        ("messenger", "psid-700"),
        ("web", "widget-700"),
    }
    assert {c["sender_id"] for c in listed.json()["items"]} == {"psid-700", "widget-700"}


async def test_a_conversation_of_a_known_identity_is_linked_when_it_starts(client):
    resolved = await client.post(
        "/api/customers/resolve",
        json={"channel": "telegram", "external_id": "8123", "email": "tg@example.com"},
    )

    await client.post("/api/conversations/8123/messages", json=message_body(channel="telegram"))

    assert (await _conversation(client, "8123"))["customer_id"] == resolved.json()["customer"]["id"]


async def test_the_same_sender_id_on_another_channel_is_not_linked(client):
    await client.post("/api/customers/resolve", json={"channel": "slack", "external_id": "U42"})

    await client.post("/api/conversations/U42/messages", json=message_body(channel="web"))

    assert (await _conversation(client, "U42"))["customer_id"] is None


async def test_an_agents_link_is_not_overwritten(client, session):
    chosen = await make_customer(session)
    await client.post("/api/conversations/psid-701/messages", json=message_body(channel="messenger"))
    await client.put("/api/conversations/psid-701/customer", json={"customer_id": chosen.id})

    resolved = await client.post(
        "/api/customers/resolve", json={"channel": "messenger", "external_id": "psid-701"}
    )

    assert resolved.json()["customer"]["id"] != chosen.id
    assert (await _conversation(client, "psid-701"))["customer_id"] == chosen.id


async def test_a_proven_customer_gets_the_identity_and_checkout_email(client, session):
    customer = await make_customer(session)
    await client.post(
        "/api/conversations/whatsapp:+4915112345/messages", json=message_body(channel="whatsapp")
    )

    resolved = await client.post(
        "/api/customers/resolve",
        json={
            "channel": "whatsapp",
            "external_id": "whatsapp:+4915112345",
            "email": "checkout.other@example.com",
            "customer_id": customer.id,
        },
    )
    again = await client.post(
        "/api/customers/resolve",
        json={"channel": "whatsapp", "external_id": "whatsapp:+4915112345", "customer_id": customer.id},
    )
    by_email = await client.post(
        "/api/customers/resolve",
        json={
            "channel": "web",
            "external_id": "widget-702",
            "email": "checkout.other@example.com",
            "email_proven": True,
        },
    )

    assert resolved.status_code == 200
    body = resolved.json()
    assert body["matched_by"] == "customer_id"
    assert body["created"] is False
    assert body["customer"]["id"] == customer.id
    stored = await _record(client, customer.id)
    # WhatsApp once, though resolved twice; the widget by the proven checkout email.
    assert sorted((i["channel"], i["external_id"]) for i in stored["identities"]) == [
        ("web", "widget-702"),
        ("whatsapp", "whatsapp:+4915112345"),
    ]
    assert "checkout.other@example.com" in stored["emails"]
    assert again.json()["customer"]["id"] == customer.id
    assert by_email.json()["customer"]["id"] == customer.id
    assert (await _conversation(client, "whatsapp:+4915112345"))["customer_id"] == customer.id


async def test_a_proven_customer_cannot_take_another_customers_identity(client, session):
    owner = await make_customer(session)
    other = await make_customer(session)
    await client.post(f"/api/customers/{owner.id}/identities", json={"channel": "slack", "external_id": "U7"})

    taken = await client.post(
        "/api/customers/resolve", json={"channel": "slack", "external_id": "U7", "customer_id": other.id}
    )
    unknown = await client.post(
        "/api/customers/resolve", json={"channel": "slack", "external_id": "U8", "customer_id": 999999}
    )

    assert taken.status_code == 409
    assert taken.json()["error"] == "identity_taken"
    assert unknown.status_code == 404
    assert unknown.json()["error"] == "customer_not_found"


async def test_an_identity_added_by_an_agent_links_its_conversation(client, session):
    customer = await make_customer(session)
    await client.post("/api/conversations/psid-703/messages", json=message_body(channel="messenger"))

    await client.post(
        f"/api/customers/{customer.id}/identities", json={"channel": "messenger", "external_id": "psid-703"}
    )

    assert (await _conversation(client, "psid-703"))["customer_id"] == customer.id


@pytest.mark.parametrize("customer_id", [0, 2**31, "seven"])
async def test_a_malformed_customer_id_is_a_validation_error(client, customer_id):
    response = await client.post(
        "/api/customers/resolve", json={"channel": "web", "external_id": "w-1", "customer_id": customer_id}
    )

    assert response.status_code == 422
    assert response.json()["error"] == "validation_error"


async def test_an_unproven_email_finds_the_customer_but_attaches_nothing(client, session):
    owner = await make_customer(session, email="owner.702@example.com")
    await client.post("/api/conversations/widget-703/messages", json=message_body(channel="web"))

    typed = await client.post(
        "/api/customers/resolve",
        json={"channel": "web", "external_id": "widget-703", "email": "Owner.702@example.com"},
    )
    later = await client.post("/api/customers/resolve", json={"channel": "web", "external_id": "widget-703"})
    record = await client.get(f"/api/customers/{owner.id}")

    # Whom to answer: the email's owner. But the chat stays unlinked, and the same chat
    # coming back is a new, separate customer rather than the owner's record.
    assert typed.status_code == 200
    assert typed.json()["matched_by"] == "email_unproven"
    assert typed.json()["created"] is False
    assert typed.json()["customer"]["id"] == owner.id
    assert record.json()["identities"] == []
    assert (await _conversation(client, "widget-703"))["customer_id"] != owner.id
    assert later.json()["customer"]["id"] != owner.id
    assert later.json()["created"] is True


async def test_an_unknown_unproven_email_starts_a_customer_with_the_identity(client):
    resolved = await client.post(
        "/api/customers/resolve",
        json={"channel": "telegram", "external_id": "8124", "email": "new.704@example.com"},
    )

    body = resolved.json()
    assert body["created"] is True
    stored = await _record(client, body["customer"]["id"])
    assert stored["emails"] == ["new.704@example.com"]
    assert [(i["channel"], i["external_id"]) for i in stored["identities"]] == [("telegram", "8124")]
