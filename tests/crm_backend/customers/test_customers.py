"""Customer records: search, contact details, channel identities, duplicates and merging."""

from __future__ import annotations

import pytest

from tests.crm_backend.factories import make_customer, make_order


async def test_customer_is_created_with_everything_and_found_by_each_key(client, session):
    created = await client.post(
        "/api/customers",
        json={
            "full_name": "Zoé Dubois", "email": "Zoe.Dubois@Example.com", "phone": "+33 6 11 22 33 44",
            "preferred_channel": "whatsapp", "language": "fr", "marketing_consent": True, "tags": ["VIP", "vip"],
            "addresses": [{"name": "Zoé Dubois", "line1": "1 Rue A", "city": "Paris", "postal_code": "75001",
                           "country": "FR", "is_default": True}],
            "identities": [{"channel": "whatsapp", "external_id": "+33611223344"}],
        },
    )  # fmt: skip
    assert created.status_code == 201
    customer = created.json()
    assert customer["email"] == "zoe.dubois@example.com"
    assert customer["emails"] == ["zoe.dubois@example.com"]
    assert customer["tags"] == ["vip"]
    assert customer["marketing_consent_at"] is not None
    order = await make_order(
        session, customer=await session.get(type(await make_customer(session)), customer["id"])
    )

    for q in ("zoe.dubois@", "0611 22 33 44", "dubois", order.number.removeprefix("ORD-")):
        found = await client.get("/api/customers", params={"q": q})
        assert [c["id"] for c in found.json()["items"]] == [customer["id"]], q


async def test_search_filters_by_tag_and_paginates(agent_client, session):
    tagged = await agent_client.post("/api/customers", json={"full_name": "Tag Me", "tags": ["wholesale"]})
    await make_customer(session)

    page = await agent_client.get("/api/customers", params={"tag": "Wholesale", "limit": 5})

    assert page.json()["total"] == 1
    assert page.json()["items"][0]["id"] == tagged.json()["id"]


async def test_contact_details_update_is_audited_and_a_new_email_becomes_primary(
    client, admin_client, session
):
    customer = await make_customer(session, phone="+49 151 1111111")

    response = await client.patch(
        f"/api/customers/{customer.id}", json={"email": "new.address@example.com", "phone": "+49 151 2222222"}
    )
    audit = await admin_client.get(
        "/api/audit", params={"entity_type": "customer", "entity_id": str(customer.id)}
    )

    assert response.status_code == 200
    body = response.json()
    assert body["email"] == "new.address@example.com"
    assert set(body["emails"]) == {customer.emails[0].email, "new.address@example.com"}
    changes = audit.json()["items"][0]["changes"]
    assert set(changes) == {"email", "phone"}


async def test_an_email_or_identity_belongs_to_one_customer(client, session):
    first = await make_customer(session)
    second = await make_customer(session)
    await client.post(
        f"/api/customers/{first.id}/identities", json={"channel": "telegram", "external_id": "42"}
    )

    email = await client.patch(f"/api/customers/{second.id}", json={"email": first.email})
    identity = await client.post(
        f"/api/customers/{second.id}/identities", json={"channel": "telegram", "external_id": "42"}
    )

    assert email.status_code == 409
    assert email.json()["error"] == "customer_email_taken"
    assert identity.status_code == 409
    assert identity.json()["error"] == "identity_taken"


async def test_same_email_on_two_channels_resolves_to_one_customer(client):
    messenger = await client.post(
        "/api/customers/resolve",
        json={
            "channel": "messenger",
            "external_id": "psid-1",
            "email": "sam@example.com",
            "full_name": "Sam",
        },
    )
    widget = await client.post(
        "/api/customers/resolve",
        json={"channel": "web", "external_id": "session-9", "email": "SAM@example.com", "email_proven": True},
    )
    again = await client.post("/api/customers/resolve", json={"channel": "web", "external_id": "session-9"})

    assert messenger.json()["created"] is True
    assert widget.json()["created"] is False
    assert widget.json()["matched_by"] == "email"
    assert again.json()["matched_by"] == "identity"
    assert again.json()["customer"]["id"] == messenger.json()["customer"]["id"]
    customer = (await client.get(f"/api/customers/{again.json()['customer']['id']}")).json()
    assert {(i["channel"], i["external_id"]) for i in customer["identities"]} == {
        ("messenger", "psid-1"),
        ("web", "session-9"),
    }


async def test_duplicates_are_found_and_merged_with_everything_they_own(agent_client, session):
    target = await make_customer(session, full_name="Ines Haddad", phone="+49 151 5550000")
    duplicate = await make_customer(session, full_name="ines haddad", phone=None)
    order = await make_order(session, customer=duplicate)
    await agent_client.post(
        f"/api/customers/{duplicate.id}/identities", json={"channel": "messenger", "external_id": "p-7"}
    )

    candidates = await agent_client.get(f"/api/customers/{target.id}/duplicates")
    merged = await agent_client.post(f"/api/customers/{target.id}/merge", json={"duplicate_id": duplicate.id})
    leftover = await agent_client.get(f"/api/customers/{duplicate.id}")
    moved_order = await agent_client.get(f"/api/orders/{order.number}")

    assert [(c["customer"]["id"], c["reasons"]) for c in candidates.json()] == [(duplicate.id, ["same name"])]
    assert merged.status_code == 200
    assert set(merged.json()["emails"]) == {target.email, duplicate.email}
    assert ("messenger", "p-7") in {(i["channel"], i["external_id"]) for i in merged.json()["identities"]}
    assert leftover.json()["merged_into_id"] == target.id
    assert moved_order.json()["customer_id"] == target.id


@pytest.mark.parametrize("same", [True, False])
async def test_merging_into_itself_or_twice_is_refused(agent_client, session, same):
    target = await make_customer(session)
    duplicate = await make_customer(session)
    if not same:
        await agent_client.post(f"/api/customers/{target.id}/merge", json={"duplicate_id": duplicate.id})
    response = await agent_client.post(
        f"/api/customers/{target.id}/merge", json={"duplicate_id": target.id if same else duplicate.id}
    )
    assert response.status_code == 409
    assert response.json()["error"] == "cannot_merge"


async def test_the_service_cannot_merge(client, session):
    a, b = await make_customer(session), await make_customer(session)
    assert (await client.post(f"/api/customers/{a.id}/merge", json={"duplicate_id": b.id})).status_code == 403


async def test_unknown_customer_is_404_and_customer_data_needs_auth(client, anonymous_client):
    assert (await client.get("/api/customers/999999")).json()["error"] == "customer_not_found"
    assert (await anonymous_client.get("/api/customers")).status_code == 401
