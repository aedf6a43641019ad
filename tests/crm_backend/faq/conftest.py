"""FAQ fixtures: a few articles imported through the API (and so encoded and indexed)."""

from __future__ import annotations

import copy
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from faq.search import LiveIndex

# Few, clearly distinct articles: every test that indexes them encodes only these.
ARTICLES: list[dict[str, Any]] = [
    {
        "id": "delivery-time",
        "question": "How long does delivery take?",
        "answer": "Standard delivery takes 2-4 working days.",
        "alternatives": ["When will my parcel arrive?", "shipping time"],
        "tags": ["shipping"],
    },
    {
        "id": "card-payment",
        "question": "Can I pay by credit card?",
        "answer": "Yes: Visa, Mastercard and American Express.",
        "alternatives": ["do you accept visa", "card payment"],
        "tags": ["payment"],
    },
    {
        "id": "password-reset",
        "question": "How do I reset my password?",
        "answer": "Use the 'Forgot password' link on the login page.",
        "alternatives": ["I forgot my password", "can't log in"],
        "tags": ["account"],
    },
]

# A paraphrase of each article above, none of its own words copied.
PARAPHRASES = {
    "delivery-time": "how many days until my order gets here",
    "card-payment": "is it possible to pay with my mastercard",
    "password-reset": "I can't remember my login password",
}
UNRELATED = "what is the capital of France?"

Search = Callable[..., Awaitable[dict[str, Any]]]


@pytest.fixture
def articles() -> list[dict[str, Any]]:
    """The test articles in the import format (a copy each test may change)."""
    return copy.deepcopy(ARTICLES)


@pytest.fixture
async def imported(admin_client: httpx.AsyncClient, articles: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The test articles, imported through the API: stored, encoded and searchable."""
    response = await admin_client.post("/api/faq/import", json=articles)
    assert response.status_code == 200, response.text
    assert sorted(response.json()["created"]) == sorted(a["id"] for a in articles)
    return articles


@pytest.fixture
def search(client: httpx.AsyncClient) -> Search:
    """Search as the bot does (service token); asserts a 200 and returns the body."""

    async def run(q: str, k: int = 3) -> dict[str, Any]:
        response = await client.get("/api/faq/search", params={"q": q, "k": k})
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    return run


@pytest.fixture
def faq_index(app: FastAPI) -> LiveIndex:
    """The app's live search index."""
    index: LiveIndex = app.state.faq_index
    return index


def result_ids(body: dict[str, Any]) -> list[str]:
    """The ids of a search response's results, best first."""
    return [hit["id"] for hit in body["results"]]
