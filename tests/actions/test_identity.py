"""Signed widget tokens: a valid one identifies the customer, anything else is ignored."""

from __future__ import annotations

import time
from typing import Any

import httpx
import jwt
import pytest
from rasa_sdk.interfaces import Tracker

from actions.conversation import customer_id
from actions.identity import customer_from_token, token_customer_id
from actions.verification import ValidateOrderLookupForm
from tests.actions.conftest import FORMS_DOMAIN, make_tracker, order_json, slots_set, user

SECRET = "widget-secret-for-the-tests-0123456789"


@pytest.fixture(autouse=True)
def widget_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WIDGET_TOKEN_SECRET", SECRET)


def token(sub: Any = "42", *, expires_in: float | None = 3600, secret: str = SECRET) -> str:
    """A token as the shop would sign it (None leaves a claim out)."""
    exp = None if expires_in is None else int(time.time() + expires_in)
    body = {name: value for name, value in (("sub", sub), ("exp", exp)) if value is not None}
    return jwt.encode(body, secret, algorithm="HS256")


def signed_in(tracker: Tracker, customer_token: Any) -> Tracker:
    """`tracker` whose latest customer message carried `customer_token` in its metadata."""
    latest = next(event for event in reversed(tracker.events) if event["event"] == "user")
    latest["metadata"] = {"customer_token": customer_token}
    return tracker


def test_a_valid_token_names_the_customer():
    assert customer_id(signed_in(make_tracker(), token("42"))) == 42


@pytest.mark.parametrize(
    "bad",
    [
        pytest.param(token("42", expires_in=-60), id="expired"),
        pytest.param(token("42", secret="someone-elses-secret-0123456789abcdef"), id="forged"),
        pytest.param(token("42", expires_in=None), id="without-expiry"),
        pytest.param(token(None), id="without-subject"),
        pytest.param(token("alice"), id="subject-not-an-id"),
        pytest.param(token("0"), id="subject-zero"),
        pytest.param(
            jwt.encode({"sub": "42", "exp": int(time.time()) + 60}, "", algorithm="none"), id="unsigned"
        ),
        pytest.param(
            jwt.encode({"sub": "42", "exp": int(time.time()) + 60}, SECRET + SECRET, algorithm="HS512"),
            id="other-algorithm",
        ),
        pytest.param("not.a.token", id="malformed"),
        pytest.param("", id="empty"),
        pytest.param(42, id="not-a-string"),
        pytest.param("x" * 5000, id="huge"),
    ],
)
def test_an_invalid_token_is_ignored(bad: Any):
    assert customer_id(signed_in(make_tracker(), bad)) is None


def test_without_a_secret_no_token_is_trusted(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("WIDGET_TOKEN_SECRET")

    assert token_customer_id(signed_in(make_tracker(), token("42"))) is None


@pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")
def test_a_secret_too_short_to_be_safe_turns_tokens_off(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("WIDGET_TOKEN_SECRET", "short")

    assert customer_from_token(token("42", secret="short"), "short") is not None
    assert token_customer_id(signed_in(make_tracker(), token("42", secret="short"))) is None


def test_only_the_latest_message_counts():
    # Signed out since: the token of an earlier message no longer vouches for anyone.
    earlier = {**user("hi"), "metadata": {"customer_token": token("42")}}

    assert customer_id(make_tracker(history=[earlier])) is None


def test_a_verified_order_slot_wins_over_the_token():
    assert customer_id(signed_in(make_tracker({"customer_id": "7"}), token("42"))) == 7


async def test_a_signed_in_customer_is_asked_only_for_the_order_number(crm, dispatcher):
    tracker = signed_in(make_tracker(), token("42"))

    required = await ValidateOrderLookupForm(crm).required_slots([], dispatcher, tracker, FORMS_DOMAIN)

    assert required == ["order_number"]


async def test_an_expired_token_means_the_email_is_asked_as_usual(crm, dispatcher):
    tracker = signed_in(make_tracker(), token("42", expires_in=-60))

    required = await ValidateOrderLookupForm(crm).required_slots([], dispatcher, tracker, FORMS_DOMAIN)

    assert required == ["order_number", "email"]


async def test_the_order_is_checked_against_the_signed_in_customer(crm, fake_crm, dispatcher):
    fake_crm.answer(lambda request: httpx.Response(200, json=order_json(customer_id=42)))
    form = ValidateOrderLookupForm(crm)
    tracker = signed_in(
        make_tracker(candidates={"order_number": "100001"}, active_loop=form.form_name()), token("42")
    )

    events = await form.run(dispatcher, tracker, FORMS_DOMAIN)

    assert fake_crm.json_bodies() == [{"order_number": "ORD-100001", "customer_id": 42}]
    assert slots_set(events)["verified_order"] == "ORD-100001"
    assert slots_set(events)["customer_id"] == 42
