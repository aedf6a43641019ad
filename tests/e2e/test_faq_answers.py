"""FAQ answers come from the CRM's knowledge-base search, through the real bot."""

from __future__ import annotations

import httpx

from tests.e2e.conftest import Customer, RunningStack

ADMIN = {"email": "admin@example.com", "password": "admin-demo-password"}


def test_a_knowledge_base_question_is_answered_with_the_article(
    running_stack: RunningStack, customer: Customer
):
    with running_stack.crm() as crm:
        article = crm.get("/api/faq/articles/shipping-times").json()

    replies = customer.say("how many days does delivery to germany take?")

    # Rasa sends each paragraph of a long answer as its own message.
    assert "\n\n".join(replies) == article["answer"]


def test_an_article_added_by_an_admin_is_answered_without_retraining(
    running_stack: RunningStack, customer: Customer
):
    crm_url = running_stack.config.crm_url
    token = httpx.post(f"{crm_url}/api/auth/login", json=ADMIN).json()["access_token"]
    created = httpx.post(
        f"{crm_url}/api/faq/articles",
        headers={"Authorization": f"Bearer {token}"},
        json={
            "id": "gift-cards",
            "question": "Do you sell gift cards?",
            "alternatives": ["can I buy a voucher", "gift voucher", "present card for a friend"],
            "answer": "Yes: digital gift cards from 10 to 200 EUR, sent by email within minutes.",
            "tags": ["payment"],
        },
    )
    assert created.status_code == 201

    replies = customer.say("can I buy a gift card for my sister?")

    assert replies == [created.json()["answer"]]
