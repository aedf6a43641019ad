"""action_answer_faq: answers from the CRM's FAQ search, suggestions when unsure, plain words when down."""

from __future__ import annotations

import json

import httpx
import pytest
from rasa_sdk.events import SlotSet

from actions.conversation import YES_NO_BUTTONS
from actions.faq import SUGGESTION_MIN_SCORE, ActionAnswerFaq
from tests.actions.conftest import (
    EMPTY_DOMAIN,
    disabled_outbox,
    earlier_messages,
    make_tracker,
    responses,
)

RETURNS = {
    "id": "return-policy",
    "question": "What is your return policy?",
    "answer": "30 days.",
    "score": 0.82,
}
REFUNDS = {
    "id": "refund-status",
    "question": "When will I get my refund?",
    "answer": "5 days.",
    "score": 0.55,
}
WEAK_SCORE = 0.1
WEAK = {
    "id": "newsletter",
    "question": "How do I unsubscribe?",
    "answer": "Use the link.",
    "score": WEAK_SCORE,
}


def search_answer(results, answered):
    return lambda request: httpx.Response(200, json={"results": results, "answered": answered})


async def test_a_confident_match_is_answered_with_the_article(dispatcher, fake_crm, crm):
    fake_crm.answer(search_answer([RETURNS, REFUNDS], answered=True))
    tracker = make_tracker(text="can I send back a jumper I bought last week?")

    events = await ActionAnswerFaq(crm, outbox=disabled_outbox()).run(dispatcher, tracker, EMPTY_DOMAIN)

    request = fake_crm.requests[0]
    assert request.url.path == "/api/faq/search"
    assert request.url.params["q"] == "can I send back a jumper I bought last week?"
    assert request.headers["Authorization"] == "Bearer token-for-tests"
    assert [m["text"] for m in dispatcher.messages] == ["30 days."]
    assert events == [SlotSet("faq_answered", "return-policy"), SlotSet("failed_turns", 0)]


async def test_an_answer_ends_a_run_of_failed_turns(dispatcher, fake_crm, crm):
    fake_crm.answer(search_answer([RETURNS], answered=True))
    tracker = make_tracker({"failed_turns": 1.0}, text="what is your return policy")

    events = await ActionAnswerFaq(crm, outbox=disabled_outbox()).run(dispatcher, tracker, EMPTY_DOMAIN)

    assert SlotSet("failed_turns", 0) in events


async def test_an_unsure_match_offers_the_likely_articles_as_buttons(dispatcher, fake_crm, crm):
    fake_crm.answer(search_answer([REFUNDS, RETURNS, WEAK], answered=False))
    tracker = make_tracker(history=earlier_messages(1), text="money back?")

    events = await ActionAnswerFaq(crm, outbox=disabled_outbox()).run(dispatcher, tracker, EMPTY_DOMAIN)

    (message,) = dispatcher.messages
    assert message["response"] == "utter_faq_suggestions"
    # The weak match is below the suggestion floor: no noise buttons.
    assert WEAK_SCORE < SUGGESTION_MIN_SCORE
    assert [b["title"] for b in message["buttons"]] == [
        REFUNDS["question"],
        RETURNS["question"],
        "None of these",
    ]
    payload = message["buttons"][0]["payload"]
    assert payload.startswith("/choose_faq")
    assert json.loads(payload.removeprefix("/choose_faq")) == {"faq_article": "refund-status"}
    # "None of these" is a no to the question the suggestions ask.
    assert message["buttons"][-1]["payload"] == "/deny"
    assert events == [
        SlotSet("faq_answered", None),
        SlotSet("failed_turns", 1),
        SlotSet("pending_confirmation", "faq_suggestions@2"),
    ]


async def test_at_most_three_articles_are_suggested(dispatcher, fake_crm, crm):
    hits = [{**REFUNDS, "id": f"article-{n}", "question": f"Question {n}?"} for n in range(5)]
    fake_crm.answer(search_answer(hits, answered=False))

    await ActionAnswerFaq(crm, outbox=disabled_outbox()).run(
        dispatcher, make_tracker(text="money back?"), EMPTY_DOMAIN
    )

    titles = [b["title"] for b in dispatcher.messages[0]["buttons"]]
    assert titles == ["Question 0?", "Question 1?", "Question 2?", "None of these"]


async def test_nothing_close_says_so_instead_of_guessing(dispatcher, fake_crm, crm):
    fake_crm.answer(search_answer([WEAK], answered=False))

    events = await ActionAnswerFaq(crm, outbox=disabled_outbox()).run(
        dispatcher, make_tracker(text="what's the weather in Paris"), EMPTY_DOMAIN
    )

    assert responses(dispatcher) == ["utter_faq_no_answer"]
    assert events == [SlotSet("faq_answered", None), SlotSet("failed_turns", 1)]


@pytest.mark.parametrize("results", [[WEAK], [REFUNDS, RETURNS]], ids=["nothing-close", "suggestions-again"])
async def test_a_second_failure_in_a_row_offers_a_person_instead(results, dispatcher, fake_crm, crm):
    fake_crm.answer(search_answer(results, answered=False))
    tracker = make_tracker({"failed_turns": 1.0}, history=earlier_messages(2), text="still no money")

    events = await ActionAnswerFaq(crm, outbox=disabled_outbox()).run(dispatcher, tracker, EMPTY_DOMAIN)

    assert responses(dispatcher) == ["utter_offer_human_after_failures"]
    assert dispatcher.messages[0]["buttons"] == YES_NO_BUTTONS
    assert events == [
        SlotSet("faq_answered", None),
        SlotSet("failed_turns", 2),
        SlotSet("handoff_reason", "repeated_fallback"),
        SlotSet("pending_confirmation", "handoff@3"),
    ]


async def test_a_button_payload_is_not_searched(dispatcher, fake_crm, crm):
    events = await ActionAnswerFaq(crm, outbox=disabled_outbox()).run(
        dispatcher, make_tracker(text="/choose_faq"), EMPTY_DOMAIN
    )

    assert fake_crm.requests == []
    assert responses(dispatcher) == ["utter_faq_no_answer"]
    assert events == []


async def test_a_chosen_suggestion_is_answered_by_id(dispatcher, fake_crm, crm):
    article = {**REFUNDS, "is_active": True}
    fake_crm.answer(lambda request: httpx.Response(200, json=article))

    events = await ActionAnswerFaq(crm, outbox=disabled_outbox()).run(
        dispatcher, make_tracker({"faq_article": "refund-status"}, text="/choose_faq"), EMPTY_DOMAIN
    )

    assert fake_crm.requests[0].url.path == "/api/faq/articles/refund-status"
    assert [m["text"] for m in dispatcher.messages] == ["5 days."]
    assert events == [
        SlotSet("faq_article", None),
        SlotSet("faq_answered", "refund-status"),
        SlotSet("failed_turns", 0),
    ]


@pytest.mark.parametrize(
    "gone",
    [
        httpx.Response(404, json={"error": "article_not_found", "detail": "x"}),
        httpx.Response(200, json={**REFUNDS, "is_active": False}),
    ],
    ids=["unknown", "retired"],
)
async def test_a_retired_or_unknown_suggestion_is_not_answered(gone, dispatcher, fake_crm, crm):
    fake_crm.answer(lambda request: gone)

    events = await ActionAnswerFaq(crm, outbox=disabled_outbox()).run(
        dispatcher, make_tracker({"faq_article": "gone", "failed_turns": 1.0}), EMPTY_DOMAIN
    )

    assert responses(dispatcher) == ["utter_faq_no_answer"]
    assert events == [SlotSet("faq_article", None), SlotSet("faq_answered", None), SlotSet("failed_turns", 1)]


async def test_a_long_message_is_cut_to_what_the_search_accepts(dispatcher, fake_crm, crm):
    fake_crm.answer(search_answer([RETURNS], answered=True))

    await ActionAnswerFaq(crm, outbox=disabled_outbox()).run(
        dispatcher, make_tracker(text="return " * 200), EMPTY_DOMAIN
    )

    assert len(fake_crm.requests[0].url.params["q"]) == 500


async def test_the_crm_being_down_is_told_plainly(dispatcher, fake_crm, crm):
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    fake_crm.answer(refuse)

    events = await ActionAnswerFaq(crm, outbox=disabled_outbox()).run(
        dispatcher, make_tracker(text="how long is delivery"), EMPTY_DOMAIN
    )

    assert [m["response"] for m in dispatcher.messages] == ["utter_faq_unavailable"]
    assert events == [SlotSet("faq_article", None)]


async def test_a_server_error_is_told_plainly_too(dispatcher, fake_crm, crm):
    fake_crm.answer(lambda request: httpx.Response(503))

    await ActionAnswerFaq(crm, outbox=disabled_outbox()).run(
        dispatcher, make_tracker(text="how long is delivery"), EMPTY_DOMAIN
    )

    assert [m["response"] for m in dispatcher.messages] == ["utter_faq_unavailable"]


async def test_an_out_of_scope_request_is_refused_without_guesses(dispatcher, fake_crm, crm):
    fake_crm.answer(search_answer([REFUNDS, RETURNS], answered=False))
    tracker = make_tracker(text="write me a poem about refunds", intent="out_of_scope")

    events = await ActionAnswerFaq(crm, outbox=disabled_outbox()).run(dispatcher, tracker, EMPTY_DOMAIN)

    assert [m["response"] for m in dispatcher.messages] == ["utter_out_of_scope"]
    assert not dispatcher.messages[0]["buttons"]
    # Not the bot's failure: no step towards offering a person.
    assert events == [SlotSet("faq_answered", None)]


async def test_an_out_of_scope_request_the_knowledge_base_answers_is_answered(dispatcher, fake_crm, crm):
    fake_crm.answer(search_answer([RETURNS], answered=True))
    tracker = make_tracker(text="what's your policy on sending stuff back", intent="out_of_scope")

    await ActionAnswerFaq(crm, outbox=disabled_outbox()).run(dispatcher, tracker, EMPTY_DOMAIN)

    assert [m["text"] for m in dispatcher.messages] == ["30 days."]
