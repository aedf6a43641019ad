"""Canned responses: agents read them, admins manage them, every change is audited."""

from __future__ import annotations

import pytest

from crm_backend.canned.models import CannedResponse
from crm_backend.demo.canned_seed import DEMO_CANNED
from crm_backend.demo.seed import seed_demo_data

GREETING = {"shortcut": "Greeting", "title": "Greeting", "text": "Hi, how can I help?", "category": "general"}


async def _add(session, **fields) -> CannedResponse:
    canned = CannedResponse(**{"title": "Title", "text": "Some text", "category": "general", **fields})
    session.add(canned)
    await session.flush()
    return canned


async def test_admin_creates_and_agents_list_it(admin_client, agent_client):
    created = await admin_client.post("/api/canned-responses", json=GREETING)
    listed = await agent_client.get("/api/canned-responses")

    assert created.status_code == 201
    assert created.json()["shortcut"] == "greeting"  # shortcuts are case-insensitive
    assert [c["shortcut"] for c in listed.json()["items"]] == ["greeting"]
    assert listed.json()["total"] == 1


async def test_only_admins_write_and_only_agents_read(agent_client, client, anonymous_client, session):
    canned = await _add(session, shortcut="thanks")

    by_agent = await agent_client.post("/api/canned-responses", json=GREETING)
    patch_by_agent = await agent_client.patch(f"/api/canned-responses/{canned.id}", json={"title": "x"})
    delete_by_agent = await agent_client.delete(f"/api/canned-responses/{canned.id}")
    by_service = await client.get("/api/canned-responses")
    anonymous = await anonymous_client.get("/api/canned-responses")

    assert by_agent.status_code == patch_by_agent.status_code == delete_by_agent.status_code == 403
    assert by_service.status_code == 403
    assert anonymous.status_code == 401
    assert by_agent.json()["error"] == "forbidden"


async def test_duplicate_shortcut_is_a_conflict(admin_client, session):
    other = await _add(session, shortcut="closing")
    await _add(session, shortcut="greeting")

    again = await admin_client.post("/api/canned-responses", json=GREETING)
    renamed = await admin_client.patch(f"/api/canned-responses/{other.id}", json={"shortcut": "GREETING"})

    assert again.status_code == renamed.status_code == 409
    assert again.json()["error"] == "canned_shortcut_taken"


@pytest.mark.parametrize(
    "payload",
    [
        {**GREETING, "text": "   "},
        {**GREETING, "shortcut": "has space"},
        {**GREETING, "title": "x" * 201},
        {**GREETING, "text": "nul \x00 inside"},
        {"shortcut": "only-shortcut"},
    ],
)
async def test_bad_payloads_get_a_validation_error(admin_client, payload):
    response = await admin_client.post("/api/canned-responses", json=payload)

    assert response.status_code == 422
    assert response.json()["error"] == "validation_error"


async def test_update_and_delete_are_audited(admin_client, admin, session):
    canned = await _add(session, shortcut="refund")

    updated = await admin_client.patch(
        f"/api/canned-responses/{canned.id}", json={"text": "Refunds take 3-5 days.", "category": None}
    )
    deleted = await admin_client.delete(f"/api/canned-responses/{canned.id}")
    gone = await admin_client.get(f"/api/canned-responses/{canned.id}")
    audit = await admin_client.get(
        "/api/audit", params={"entity_type": "canned_response", "entity_id": str(canned.id)}
    )

    assert updated.status_code == 200
    assert updated.json()["text"] == "Refunds take 3-5 days."
    assert updated.json()["category"] is None
    assert deleted.status_code == 204
    assert gone.status_code == 404
    assert gone.json()["error"] == "canned_response_not_found"
    entries = {e["action"]: e for e in audit.json()["items"]}
    assert entries["canned.update"]["actor_id"] == str(admin.id)
    assert entries["canned.update"]["changes"]["text"] == {
        "from": "Some text",
        "to": "Refunds take 3-5 days.",
    }
    assert entries["canned.delete"]["changes"]["shortcut"] == "refund"


async def test_list_filters_by_category_text_and_retired(agent_client, admin_client, session):
    await _add(session, shortcut="greeting", category="general", text="Hello there")
    await _add(session, shortcut="label", category="returns", text="New return label sent")
    retired = await _add(session, shortcut="old", category="returns", text="Old wording")
    await admin_client.patch(f"/api/canned-responses/{retired.id}", json={"is_active": False})

    returns = await agent_client.get("/api/canned-responses", params={"category": "returns"})
    text = await agent_client.get("/api/canned-responses", params={"q": "LABEL"})
    everything = await agent_client.get("/api/canned-responses", params={"is_active": "false"})
    like_chars = await agent_client.get("/api/canned-responses", params={"q": "%"})
    paged = await agent_client.get("/api/canned-responses", params={"limit": 1, "offset": 1})

    assert [c["shortcut"] for c in returns.json()["items"]] == ["label"]
    assert [c["shortcut"] for c in text.json()["items"]] == ["label"]
    assert [c["shortcut"] for c in everything.json()["items"]] == ["old"]
    assert like_chars.json()["total"] == 0
    assert paged.json()["total"] == 2
    assert len(paged.json()["items"]) == 1


async def test_unknown_ids_are_404_not_500(admin_client):
    for response in (
        await admin_client.get("/api/canned-responses/999999"),
        await admin_client.patch("/api/canned-responses/999999", json={"title": "x"}),
        await admin_client.delete("/api/canned-responses/999999"),
    ):
        assert response.status_code == 404
    assert (await admin_client.get("/api/canned-responses/99999999999")).status_code == 422


async def test_demo_seed_gives_agents_canned_responses(agent_client, session):
    assert await seed_demo_data(session, customers=5, orders=10)
    listed = await agent_client.get("/api/canned-responses", params={"limit": 200})

    assert {c["shortcut"] for c in listed.json()["items"]} == {shortcut for shortcut, *_ in DEMO_CANNED}
