"""POST /api/faq/import and GET /api/faq/export: JSON or CSV, all or nothing, searchable at once."""

from __future__ import annotations

import csv
import io
import json

import pytest
from sqlalchemy import func, select

from crm_backend.faq.imports import COLUMNS
from crm_backend.faq.models import FaqArticle
from tests.crm_backend.faq.conftest import PARAPHRASES, result_ids

CSV_FILE = (
    "id,question,answer,alternatives,tags\n"
    'gift-wrapping,Do you offer gift wrapping?,"Yes, for 3 EUR per order.",'
    "can you wrap my present|gift packaging,extras|Gifts\n"
    ',Can I pick up my order in a store?,"No, we only ship.",click and collect,\n'
)


async def post_csv(http, body: str):
    return await http.post(
        "/api/faq/import", content=body.encode(), headers={"Content-Type": "text/csv; charset=utf-8"}
    )


async def count_articles(session):
    return await session.scalar(select(func.count()).select_from(FaqArticle))


async def test_a_json_import_creates_searchable_articles(admin_client, articles, search):
    response = await admin_client.post("/api/faq/import", json=articles)

    assert response.status_code == 200
    assert response.json() == {"created": [a["id"] for a in articles], "updated": [], "unchanged": []}
    for article_id, paraphrase in PARAPHRASES.items():
        assert result_ids(await search(paraphrase, k=1)) == [article_id]


async def test_a_csv_import_splits_alternatives_and_tags_on_bars(admin_client, search):
    response = await post_csv(admin_client, CSV_FILE)
    gift = await admin_client.get("/api/faq/articles/gift-wrapping")
    derived = await admin_client.get("/api/faq/articles/can-i-pick-up-my-order-in-a-store")

    assert response.status_code == 200
    assert response.json()["created"] == ["gift-wrapping", "can-i-pick-up-my-order-in-a-store"]
    assert gift.json()["alternatives"] == ["can you wrap my present", "gift packaging"]
    assert gift.json()["tags"] == ["extras", "gifts"]
    assert gift.json()["answer"] == "Yes, for 3 EUR per order."
    assert derived.json()["alternatives"] == ["click and collect"]
    assert derived.json()["tags"] == []
    assert result_ids(await search("could you wrap the order as a present", k=1)) == ["gift-wrapping"]
    assert result_ids(await search("collect my parcel at a shop", k=1)) == [
        "can-i-pick-up-my-order-in-a-store"
    ]


async def test_importing_an_existing_id_updates_that_article(imported, admin_client, search):
    old_wording = PARAPHRASES["password-reset"]
    assert (await search(old_wording))["answered"] is True
    rewritten = {
        **imported[2],
        "question": "How do I change my email address?",
        "alternatives": ["update my email", "new email address"],
    }

    response = await admin_client.post("/api/faq/import", json=[imported[0], rewritten, imported[1]])
    article = await admin_client.get("/api/faq/articles/password-reset")
    new = await search("I want to use a different email for my account")
    old = await search(old_wording, k=20)

    assert response.json() == {
        "created": [],
        "updated": ["password-reset"],
        "unchanged": ["delivery-time", "card-payment"],
    }
    assert article.json()["version"] == 2
    assert article.json()["question"] == "How do I change my email address?"
    assert result_ids(new)[0] == "password-reset"
    assert new["answered"] is True
    assert old["answered"] is False
    assert (await admin_client.get("/api/faq/articles/delivery-time")).json()["version"] == 1


async def test_fields_an_import_row_leaves_out_keep_their_value(imported, admin_client):
    card = imported[1]
    response = await admin_client.post(
        "/api/faq/import",
        json=[{"id": "card-payment", "question": card["question"], "answer": "Visa and Mastercard only."}],
    )
    article = (await admin_client.get("/api/faq/articles/card-payment")).json()

    assert response.json()["updated"] == ["card-payment"]
    assert article["answer"] == "Visa and Mastercard only."
    assert article["alternatives"] == card["alternatives"]
    assert article["tags"] == card["tags"]


async def test_only_admins_may_import(agent_client, client, anonymous_client, articles, session):
    assert (await agent_client.post("/api/faq/import", json=articles)).status_code == 403
    assert (await client.post("/api/faq/import", json=articles)).status_code == 403
    assert (await anonymous_client.post("/api/faq/import", json=articles)).status_code == 401
    assert await count_articles(session) == 0


# Every bad file starts with good rows: an update of an existing article and a new one.
UPDATE_ROW = {"id": "card-payment", "question": "Can I pay by credit card?", "answer": "Visa only."}
NEW_ROW = {"id": "gift-wrapping", "question": "Do you offer gift wrapping?", "answer": "Yes, for 3 EUR."}
CSV_HEAD = (
    "id,question,answer,alternatives,tags\n"
    "card-payment,Can I pay by credit card?,Visa only.,,\n"
    'gift-wrapping,Do you offer gift wrapping?,"Yes, for 3 EUR.",gift packaging,extras\n'
)


def json_file(*rows) -> tuple[str, bytes]:
    return "application/json", json.dumps([UPDATE_ROW, NEW_ROW, *rows]).encode()


def csv_file(rows: str | bytes) -> tuple[str, bytes]:
    return "text/csv", CSV_HEAD.encode() + (rows.encode() if isinstance(rows, str) else rows)


BAD_FILES = [
    pytest.param("application/json", json_file()[1][:-2], "Not valid JSON", id="invalid-json"),
    pytest.param("application/json", json.dumps({"articles": [NEW_ROW]}).encode(), "Expected a JSON list", id="not-a-list"),
    pytest.param(*json_file("gift wrapping"), "row 3: expected an object", id="row-not-an-object"),
    pytest.param(*json_file({"id": "returns", "answer": "Within 30 days."}), "row 3: question is required", id="missing-question"),
    pytest.param(*json_file({**NEW_ROW, "id": "Not An Id!"}), "row 3: id", id="bad-id"),
    pytest.param(*json_file({**NEW_ROW, "id": "returns", "links": []}), "row 3: unknown field 'links'", id="unknown-field"),
    pytest.param(*json_file({**NEW_ROW, "question": "Can I have it gift wrapped?"}), "row 3: id 'gift-wrapping' repeats row 2", id="duplicate-ids"),
    pytest.param(
        *json_file({"question": "Do you offer gift wrapping", "answer": "Yes."}, {"question": "Do you offer gift wrapping?", "answer": "No."}),
        "row 4: id 'do-you-offer-gift-wrapping' repeats row 3", id="duplicate-derived-ids",
    ),
    pytest.param("application/json", b"", "Not valid JSON", id="empty-json-file"),
    pytest.param("application/json", b"[]", "no articles", id="empty-json-list"),
    pytest.param("text/csv", CSV_HEAD.replace("tags", "tags,colour", 1).encode(), "Unknown column 'colour'", id="unknown-csv-column"),
    pytest.param(*csv_file("returns,How do returns work?,Within 30 days.,,,extra\n"), "row 3: more values than columns", id="csv-row-too-long"),
    pytest.param(*csv_file("returns,,Within 30 days.,,\n"), "row 3: question is required", id="csv-row-missing-question"),
    pytest.param(*csv_file("returns,Wie geht die Rückgabe?,30 Tage.,,\n".encode("latin-1")), "UTF-8", id="not-utf8"),
    pytest.param("text/csv", b"", "question and answer", id="empty-csv-file"),
    pytest.param("text/csv", b"id,question,answer\n", "no articles", id="csv-header-only"),
]  # fmt: skip


@pytest.fixture
async def existing(session) -> FaqArticle:
    """An article stored directly (not yet indexed) that row 1 of each bad file would update."""
    article = FaqArticle(
        id="card-payment", question="Can I pay by credit card?", answer="Yes: Visa and Mastercard."
    )
    session.add(article)
    await session.flush()
    return article


async def assert_nothing_imported(admin_client, session, search) -> None:
    stored = (await admin_client.get("/api/faq/articles/card-payment")).json()
    assert (stored["version"], stored["answer"]) == (1, "Yes: Visa and Mastercard.")
    assert await count_articles(session) == 1
    assert result_ids(await search("Do you offer gift wrapping?", k=20)) == ["card-payment"]


@pytest.mark.parametrize(("content_type", "body", "detail"), BAD_FILES)
async def test_a_bad_file_is_refused_naming_the_row_and_nothing_is_imported(
    existing, admin_client, session, search, content_type, body, detail
):
    response = await admin_client.post(
        "/api/faq/import", content=body, headers={"Content-Type": content_type}
    )

    assert response.status_code == 422
    assert response.json()["error"] == "invalid_import"
    assert detail in response.json()["detail"]
    await assert_nothing_imported(admin_client, session, search)


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        pytest.param("text/plain", CSV_HEAD.encode(), id="text-plain"),
        pytest.param("application/x-yaml", b"- id: gift-wrapping\n", id="yaml"),
        # Not UTF-8 either: still the wrong type first, not bad text.
        pytest.param("application/pdf", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", id="binary-pdf"),
        pytest.param("", json_file()[1], id="no-content-type"),
    ],
)
async def test_an_unsupported_content_type_is_a_415(
    existing, admin_client, session, search, content_type, body
):
    response = await admin_client.post(
        "/api/faq/import", content=body, headers={"Content-Type": content_type}
    )

    assert response.status_code == 415
    assert response.json()["error"] == "unsupported_media_type"
    assert "application/json or text/csv" in response.json()["detail"]
    await assert_nothing_imported(admin_client, session, search)


async def test_the_json_export_is_every_active_article_in_the_import_format(
    imported, admin_client, agent_client
):
    await admin_client.delete("/api/faq/articles/card-payment")

    response = await agent_client.get("/api/faq/export")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    expected = sorted((a for a in imported if a["id"] != "card-payment"), key=lambda a: a["id"])
    assert response.json() == expected


async def test_the_csv_export_has_the_import_columns_and_bar_separated_lists(imported, agent_client):
    response = await agent_client.get("/api/faq/export", params={"format": "csv"})

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.text, newline="")))
    assert tuple(rows[0]) == COLUMNS
    by_id = {row[0]: row for row in rows[1:]}
    assert sorted(by_id) == sorted(a["id"] for a in imported)
    card = by_id["card-payment"]
    assert card == [
        "card-payment",
        imported[1]["question"],
        imported[1]["answer"],
        "do you accept visa|card payment",
        "payment",
    ]


async def test_only_agents_and_admins_may_export(client, anonymous_client, admin_client):
    assert (await admin_client.get("/api/faq/export")).status_code == 200
    assert (await client.get("/api/faq/export")).status_code == 403
    assert (await anonymous_client.get("/api/faq/export")).status_code == 401
    assert (await admin_client.get("/api/faq/export", params={"format": "xlsx"})).status_code == 422


TRICKY = {
    "id": "tricky-text",
    "question": 'What does "express, tracked" mean?',
    "answer": 'Two things:\n\n- **express**: 1-2 days, 9,90 €\n- *tracked*: a link, "live"\n\nSee the FAQ.',
    "alternatives": ["express; tracked?", "Rückgabe – Lieferung, schnell"],
    "tags": ["shipping", "ünïcode"],
}


@pytest.mark.parametrize("export_format", ["json", "csv"])
async def test_export_then_import_changes_nothing(session, admin_client, export_format):
    # The real knowledge base (multi-line Markdown, commas, quotes) plus one awkward article;
    # stored directly, so nothing needs encoding.
    from crm_backend.demo.seed import seed_faq_articles

    loaded = await seed_faq_articles(session)
    session.add(FaqArticle(**TRICKY))
    await session.flush()

    exported = await admin_client.get("/api/faq/export", params={"format": export_format})
    content_type = exported.headers["content-type"]
    imported = await admin_client.post(
        "/api/faq/import", content=exported.content, headers={"Content-Type": content_type}
    )

    assert imported.status_code == 200, imported.text
    assert imported.json()["created"] == []
    assert imported.json()["updated"] == []
    assert len(imported.json()["unchanged"]) == loaded + 1
    again = await admin_client.get("/api/faq/export", params={"format": export_format})
    assert again.content == exported.content
