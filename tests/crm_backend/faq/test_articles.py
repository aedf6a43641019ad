"""FAQ articles: admins write, agents and the bot read, edits bump the version."""

from __future__ import annotations

import pytest

ARTICLE = {
    "question": "How long does delivery take?",
    "answer": "Standard delivery takes **2-4 working days**.",
    "alternatives": ["when will my parcel arrive", "shipping time"],
    "tags": ["Shipping"],
    "links": [{"title": "Delivery options", "url": "https://shop.example.com/delivery"}],
}


async def test_admin_creates_an_article_with_an_id_from_the_question(admin_client, client):
    created = await admin_client.post("/api/faq/articles", json=ARTICLE)
    fetched = await client.get("/api/faq/articles/how-long-does-delivery-take")

    assert created.status_code == 201
    assert created.json()["id"] == "how-long-does-delivery-take"
    assert created.json()["tags"] == ["shipping"]
    assert created.json()["version"] == 1
    assert fetched.json()["answer"] == ARTICLE["answer"]


async def test_only_admins_write_articles(agent_client, client):
    assert (await agent_client.post("/api/faq/articles", json=ARTICLE)).status_code == 403
    assert (await client.post("/api/faq/articles", json=ARTICLE)).status_code == 403


async def test_duplicate_ids_are_refused(admin_client):
    await admin_client.post("/api/faq/articles", json={**ARTICLE, "id": "delivery-time"})
    again = await admin_client.post("/api/faq/articles", json={**ARTICLE, "id": "delivery-time"})
    assert again.status_code == 409
    assert again.json()["error"] == "article_exists"


async def test_edits_bump_the_version_only_when_content_changes(admin_client):
    await admin_client.post("/api/faq/articles", json={**ARTICLE, "id": "delivery-time"})

    same = await admin_client.patch("/api/faq/articles/delivery-time", json={"answer": ARTICLE["answer"]})
    edited = await admin_client.patch("/api/faq/articles/delivery-time", json={"answer": "Now 1-2 days."})

    assert same.json()["version"] == 1
    assert edited.json()["version"] == 2
    assert edited.json()["answer"] == "Now 1-2 days."


async def test_null_fields_in_an_edit_stay_as_they_are(admin_client):
    """Found by the API fuzzer: an explicit null once reached a NOT NULL column (a 500)."""
    await admin_client.post("/api/faq/articles", json={**ARTICLE, "id": "delivery-time"})
    nulls = dict.fromkeys(("question", "answer", "alternatives", "tags", "links", "is_active"))

    edited = await admin_client.patch("/api/faq/articles/delivery-time", json=nulls)

    assert edited.status_code == 200
    assert edited.json()["version"] == 1
    assert edited.json()["question"] == ARTICLE["question"]
    assert edited.json()["alternatives"] == ARTICLE["alternatives"]
    assert edited.json()["is_active"] is True


async def test_retired_articles_leave_the_active_list_and_can_be_restored(admin_client):
    await admin_client.post("/api/faq/articles", json={**ARTICLE, "id": "delivery-time"})

    retired = await admin_client.delete("/api/faq/articles/delivery-time")
    active = await admin_client.get("/api/faq/articles")
    everything = await admin_client.get("/api/faq/articles", params={"active": "false"})
    restored = await admin_client.patch("/api/faq/articles/delivery-time", json={"is_active": True})

    assert retired.json()["retired_at"] is not None
    assert active.json()["total"] == 0
    assert [a["id"] for a in everything.json()["items"]] == ["delivery-time"]
    assert restored.json()["is_active"] is True
    assert restored.json()["retired_at"] is None


async def test_articles_are_filtered_by_tag_and_text(admin_client):
    await admin_client.post("/api/faq/articles", json={**ARTICLE, "id": "delivery-time"})
    await admin_client.post(
        "/api/faq/articles",
        json={"id": "pay-by-card", "question": "Can I pay by card?", "answer": "Yes.", "tags": ["payment"]},
    )

    by_tag = await admin_client.get("/api/faq/articles", params={"tag": "SHIPPING"})
    by_text = await admin_client.get("/api/faq/articles", params={"q": "card"})

    assert [a["id"] for a in by_tag.json()["items"]] == ["delivery-time"]
    assert [a["id"] for a in by_text.json()["items"]] == ["pay-by-card"]


@pytest.mark.parametrize(
    "payload",
    [
        {**ARTICLE, "id": "Not A Slug"},
        {**ARTICLE, "question": ""},
        {**ARTICLE, "links": [{"title": "x", "url": "not a url"}]},
    ],
)
async def test_bad_articles_get_a_422(admin_client, payload):
    response = await admin_client.post("/api/faq/articles", json=payload)
    assert response.status_code == 422
    assert response.json()["error"] == "validation_error"


async def test_unknown_article_is_404(client):
    assert (await client.get("/api/faq/articles/nope")).json()["error"] == "article_not_found"


async def test_questions_and_answers_are_stripped_and_blank_ones_refused(admin_client):
    blank = await admin_client.post("/api/faq/articles", json={**ARTICLE, "question": "      "})
    padded = await admin_client.post(
        "/api/faq/articles", json={**ARTICLE, "question": "  Do you gift wrap?  ", "answer": "Yes.\n\n"}
    )

    assert blank.status_code == 422
    assert padded.json()["question"] == "Do you gift wrap?"
    assert padded.json()["answer"] == "Yes."
