"""GET /api/faq/search: who may search, what comes back, and when a result counts as an answer."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest
from fastapi import FastAPI

from crm_backend.core.config import Settings
from crm_backend.main import create_app
from tests.crm_backend.conftest import SERVICE_TOKEN
from tests.crm_backend.faq.conftest import PARAPHRASES, UNRELATED, result_ids


async def test_the_service_token_and_agents_may_search(imported, client, agent_client, anonymous_client):
    as_service = await client.get("/api/faq/search", params={"q": PARAPHRASES["delivery-time"]})
    as_agent = await agent_client.get("/api/faq/search", params={"q": PARAPHRASES["delivery-time"]})
    as_nobody = await anonymous_client.get("/api/faq/search", params={"q": PARAPHRASES["delivery-time"]})

    assert as_service.status_code == 200
    assert as_agent.status_code == 200
    assert as_agent.json() == as_service.json()
    assert as_nobody.status_code == 401
    assert as_nobody.json()["error"] == "unauthorized"


async def test_results_are_the_best_articles_first_with_their_answers(imported, search):
    body = await search(PARAPHRASES["card-payment"])

    assert set(body) == {"results", "answered"}
    assert len(body["results"]) == 3
    for hit in body["results"]:
        assert set(hit) == {"id", "question", "answer", "score"}
    best = body["results"][0]
    card = next(a for a in imported if a["id"] == "card-payment")
    assert (best["id"], best["question"], best["answer"]) == (
        "card-payment",
        card["question"],
        card["answer"],
    )
    scores = [hit["score"] for hit in body["results"]]
    assert scores == sorted(scores, reverse=True)


@pytest.mark.parametrize("article_id", list(PARAPHRASES))
async def test_a_paraphrase_finds_its_article(imported, search, article_id):
    body = await search(PARAPHRASES[article_id], k=1)

    assert result_ids(body) == [article_id]


async def test_k_limits_the_results(imported, search):
    assert len((await search(PARAPHRASES["delivery-time"], k=1))["results"]) == 1
    assert len((await search(PARAPHRASES["delivery-time"], k=2))["results"]) == 2
    # More than there are articles: all of them, each once.
    assert sorted(result_ids(await search(PARAPHRASES["delivery-time"], k=20))) == sorted(
        a["id"] for a in imported
    )


async def test_an_empty_knowledge_base_answers_nothing(search):
    assert await search(PARAPHRASES["delivery-time"]) == {"results": [], "answered": False}


@pytest.mark.parametrize(
    ("params", "field"),
    [
        pytest.param({"q": ""}, "q", id="empty-q"),
        pytest.param({}, "q", id="missing-q"),
        pytest.param({"q": "x" * 501}, "q", id="q-over-500-chars"),
        pytest.param({"q": "delivery", "k": 0}, "k", id="k-zero"),
        pytest.param({"q": "delivery", "k": 100}, "k", id="k-100"),
        pytest.param({"q": "delivery", "k": "three"}, "k", id="k-not-a-number"),
    ],
)
async def test_bad_parameters_get_a_422_naming_the_parameter(client, params, field):
    response = await client.get("/api/faq/search", params=params)

    assert response.status_code == 422
    body = response.json()
    assert body["error"] == "validation_error"
    assert [problem["loc"] for problem in body["detail"]] == [["query", field]]
    assert body["detail"][0]["msg"]


async def test_retired_articles_never_appear(imported, admin_client, search):
    retired = await admin_client.delete("/api/faq/articles/card-payment")

    body = await search("Can I pay by credit card?", k=20)

    assert retired.status_code == 200
    assert "card-payment" not in result_ids(body)
    assert sorted(result_ids(body)) == ["delivery-time", "password-reset"]


async def test_a_retired_article_updated_by_an_import_stays_out_of_search(imported, admin_client, search):
    await admin_client.delete("/api/faq/articles/card-payment")
    rewritten = {**imported[1], "question": "Which credit cards can I pay with?"}

    result = await admin_client.post("/api/faq/import", json=[rewritten])
    body = await search("Which credit cards can I pay with?", k=20)

    assert result.json()["updated"] == ["card-payment"]
    assert "card-payment" not in result_ids(body)


async def test_a_close_question_is_answered_and_an_unrelated_one_is_not(imported, search):
    close = await search("when will my parcel arrive")
    unrelated = await search(UNRELATED)

    assert result_ids(close)[0] == "delivery-time"
    assert close["answered"] is True
    assert unrelated["answered"] is False
    # Not answered still shows the nearest articles (agents see them), just without confidence.
    assert len(unrelated["results"]) == 3


@asynccontextmanager
async def client_with_threshold(
    app: FastAPI, settings: Settings, threshold: float
) -> AsyncIterator[httpx.AsyncClient]:
    """A client of an app built with this answer threshold, on the test's database transaction."""
    other = create_app(settings.model_copy(update={"faq_answer_threshold": threshold}))
    other.dependency_overrides = app.dependency_overrides
    transport = httpx.ASGITransport(app=other, raise_app_exceptions=False)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://crm.test", headers={"Authorization": f"Bearer {SERVICE_TOKEN}"}
    ) as http:
        yield http


@pytest.mark.parametrize(("threshold", "answered"), [(0.0, True), (1.0, False)])
async def test_the_threshold_setting_overrides_the_calibrated_one(
    imported, app, settings, threshold, answered
):
    async with client_with_threshold(app, settings, threshold) as http:
        close = await http.get("/api/faq/search", params={"q": PARAPHRASES["password-reset"]})
        unrelated = await http.get("/api/faq/search", params={"q": UNRELATED})

    assert result_ids(close.json())[0] == "password-reset"
    assert close.json()["answered"] is answered
    assert unrelated.json()["answered"] is answered


async def test_an_edited_question_is_found_by_its_new_wording_at_once(imported, admin_client, search):
    old_wording = PARAPHRASES["delivery-time"]
    before = await search(old_wording, k=20)

    edited = await admin_client.patch(
        "/api/faq/articles/delivery-time",
        json={
            "question": "Do you ship to Switzerland?",
            "alternatives": ["delivery to Switzerland", "can I order from Zurich"],
        },
    )
    new = await search("can you send my parcel to Switzerland")
    after = await search(old_wording, k=20)

    assert edited.json()["version"] == 2
    assert result_ids(new)[0] == "delivery-time"
    assert new["results"][0]["question"] == "Do you ship to Switzerland?"
    assert new["answered"] is True
    assert before["answered"] is True
    assert after["answered"] is False

    def score(body):
        return next(hit["score"] for hit in body["results"] if hit["id"] == "delivery-time")

    assert score(after) < score(before) - 0.1


async def test_retiring_and_restoring_takes_an_article_out_of_search_and_back(imported, admin_client, search):
    question = "Can I pay by credit card?"
    assert result_ids(await search(question, k=1)) == ["card-payment"]

    await admin_client.delete("/api/faq/articles/card-payment")
    while_retired = await search(question, k=20)
    restored = await admin_client.patch("/api/faq/articles/card-payment", json={"is_active": True})
    after_restore = await search(question, k=1)

    assert "card-payment" not in result_ids(while_retired)
    assert restored.json()["is_active"] is True
    assert result_ids(after_restore) == ["card-payment"]
    assert after_restore["answered"] is True


async def test_an_article_created_through_the_api_is_searchable_when_the_call_returns(admin_client, search):
    created = await admin_client.post(
        "/api/faq/articles",
        json={
            "id": "gift-wrapping",
            "question": "Do you offer gift wrapping?",
            "answer": "Yes, for 3 EUR per order.",
            "alternatives": ["can you wrap my present"],
        },
    )

    body = await search("could you wrap the order as a gift", k=1)

    assert created.status_code == 201
    assert result_ids(body) == ["gift-wrapping"]
