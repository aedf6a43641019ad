"""The satisfaction question: score, optional comment, stored on the latest closed handoff."""

from __future__ import annotations

import json

import httpx
import pytest
from rasa_sdk.events import FollowupAction, SlotSet

from actions.csat import ActionRateService, ActionSubmitCsat, csat_comment, csat_score
from tests.actions.conftest import (
    EMPTY_DOMAIN,
    SENDER_ID,
    connection_refused,
    disabled_outbox,
    make_tracker,
    refusal,
    responses,
    slots_set,
)

LIST = ("GET", "/api/handoffs")
SCORE = ("POST", "/api/handoffs/41/csat")
COMPLETE = ("PATCH", "/api/handoffs/41/csat")
CLEARED = {"csat_score": None, "csat_handoff": None, "csat_comment": None}


def handoffs(*items: dict[str, object]) -> httpx.Response:
    return httpx.Response(200, json={"items": list(items), "total": len(items), "limit": 1, "offset": 0})


def rated(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, json={"id": 41, "status": "resolved", **json.loads(request.content)})


async def rate(crm, dispatcher, score):
    tracker = make_tracker(
        {"csat_score": score}, intent="rate_service", text=f'/rate_service{{"csat_score": {score}}}'
    )
    return await ActionRateService(crm, outbox=disabled_outbox()).run(dispatcher, tracker, EMPTY_DOMAIN)


async def submit(crm, dispatcher, comment, *, intent="inform", score=5.0, handoff=41.0):
    tracker = make_tracker(
        {"csat_score": score, "csat_handoff": handoff, "csat_comment": comment}, intent=intent, text=comment
    )
    return await ActionSubmitCsat(crm, outbox=disabled_outbox()).run(dispatcher, tracker, EMPTY_DOMAIN)


@pytest.mark.parametrize(("value", "expected"), [(5, 5), (4.0, 4), ("3", 3), (" 1 ", 1)])
def test_scores_one_to_five_are_accepted_in_any_form(value, expected):
    assert csat_score(value) == expected


@pytest.mark.parametrize("value", [0, 6, 2.5, "five", None, "", -1])
def test_anything_else_is_no_score(value):
    assert csat_score(value) is None


@pytest.mark.parametrize("text", ["no", "No thanks", "skip", "nothing.", "  nope ", "that's all"])
def test_declining_leaves_no_comment(text):
    assert csat_comment(text, "inform") is None


def test_a_comment_is_kept_without_card_numbers_and_capped():
    assert csat_comment("Quick and kind, thanks!", "inform") == "Quick and kind, thanks!"
    assert csat_comment("no way", "deny") is None
    assert csat_comment('/rate_service{"csat_score": 3}', "rate_service") is None
    assert csat_comment("no, the agent was rude", "deny") == "no, the agent was rude"
    cleaned = csat_comment("my card 4111 1111 1111 1111 was charged twice", "inform")
    assert cleaned is not None
    assert "4111" not in cleaned
    assert len(csat_comment("x" * 5000, "inform") or "") == 2000


async def test_the_score_is_stored_at_once_on_the_latest_closed_handoff_then_a_comment_is_asked(
    crm, fake_crm, dispatcher
):
    fake_crm.route({LIST: handoffs({"id": 41, "csat_score": None}), SCORE: rated})

    events = await rate(crm, dispatcher, 5.0)

    assert events == [
        SlotSet("csat_score", 5),
        SlotSet("csat_handoff", 41),
        SlotSet("csat_comment", None),
        FollowupAction("csat_form"),
    ]
    assert responses(dispatcher) == []
    query = fake_crm.requests[0].url.params
    assert (query["sender_id"], query["status"], query["limit"]) == (SENDER_ID, "resolved", "1")
    assert fake_crm.calls() == [LIST, SCORE]
    assert json.loads(fake_crm.requests[1].content) == {"score": 5, "comment": None}


async def test_a_score_given_meanwhile_elsewhere_stands(crm, fake_crm, dispatcher):
    fake_crm.route(
        {LIST: handoffs({"id": 41, "csat_score": None}), SCORE: refusal("csat_already_given", "rated")}
    )

    events = await rate(crm, dispatcher, 2)

    assert responses(dispatcher) == ["utter_csat_nothing_to_rate"]
    assert slots_set(events) == CLEARED


@pytest.mark.parametrize("listed", [handoffs(), handoffs({"id": 41, "csat_score": 4})])
async def test_nothing_to_rate_when_no_handoff_was_closed_or_it_is_rated(crm, fake_crm, dispatcher, listed):
    fake_crm.route({LIST: listed})

    events = await rate(crm, dispatcher, 3)

    assert responses(dispatcher) == ["utter_csat_nothing_to_rate"]
    assert slots_set(events) == CLEARED
    assert fake_crm.calls() == [LIST]


async def test_a_score_out_of_range_is_asked_again_without_calling_the_crm(crm, fake_crm, dispatcher):
    events = await rate(crm, dispatcher, 9)

    assert responses(dispatcher) == ["utter_csat_invalid_score"]
    assert slots_set(events) == {"csat_score": None}
    assert fake_crm.calls() == []


async def test_the_comment_completes_the_stored_score(crm, fake_crm, dispatcher):
    fake_crm.route({COMPLETE: rated})

    events = await submit(crm, dispatcher, "Sam sorted it in two minutes")

    assert fake_crm.calls() == [COMPLETE]
    assert fake_crm.json_bodies() == [{"score": 5, "comment": "Sam sorted it in two minutes"}]
    assert responses(dispatcher) == ["utter_csat_thanks"]
    assert slots_set(events) == CLEARED


async def test_skip_leaves_the_score_alone_and_a_low_score_gets_an_apology(crm, fake_crm, dispatcher):
    fake_crm.route({COMPLETE: rated})

    await submit(crm, dispatcher, "skip", score=2.0)

    assert fake_crm.json_bodies() == [{"score": 2, "comment": None}]
    assert responses(dispatcher) == ["utter_csat_thanks_low"]


async def test_already_completed_keeps_the_first_comment_and_still_thanks(crm, fake_crm, dispatcher):
    fake_crm.route({COMPLETE: refusal("csat_already_given", "rated")})

    events = await submit(crm, dispatcher, "great")

    assert fake_crm.calls() == [COMPLETE]
    assert responses(dispatcher) == ["utter_csat_thanks"]
    assert slots_set(events) == CLEARED


async def test_a_score_never_stored_is_stored_with_the_comment(crm, fake_crm, dispatcher):
    fake_crm.route({COMPLETE: refusal("csat_not_given", "no score yet"), SCORE: rated})

    await submit(crm, dispatcher, "great", score=4.0)

    assert fake_crm.calls() == [COMPLETE, SCORE]
    assert fake_crm.json_bodies()[-1] == {"score": 4, "comment": "great"}
    assert responses(dispatcher) == ["utter_csat_thanks"]


async def test_a_comment_the_crm_rejects_still_stores_the_score(crm, fake_crm, dispatcher):
    def handler(request: httpx.Request) -> httpx.Response:
        if json.loads(request.content)["comment"] is not None:
            return httpx.Response(422, json={"error": "validation_error", "detail": []})
        return rated(request)

    fake_crm.route({COMPLETE: handler})

    await submit(crm, dispatcher, "something odd")

    assert [body["comment"] for body in fake_crm.json_bodies()] == ["something odd", None]
    assert responses(dispatcher) == ["utter_csat_thanks"]


async def test_crm_down_is_said_plainly(crm, fake_crm, dispatcher):
    fake_crm.answer(connection_refused)

    score_events = await rate(crm, dispatcher, 4)
    submit_events = await submit(crm, dispatcher, "fine")

    assert responses(dispatcher) == ["utter_csat_unavailable", "utter_csat_unavailable"]
    assert slots_set(score_events) == slots_set(submit_events) == CLEARED


async def test_submit_without_a_remembered_handoff_stores_nothing(crm, fake_crm, dispatcher):
    await submit(crm, dispatcher, "hello", handoff=None)

    assert fake_crm.calls() == []
    assert responses(dispatcher) == ["utter_csat_nothing_to_rate"]
