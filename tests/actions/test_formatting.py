"""Wording and masking of customer data, and the action settings."""

from __future__ import annotations

import pytest

from actions.crm_client import Order
from actions.formatting import (
    describe_items,
    describe_status,
    mask_address,
    mask_email,
    money,
    redact_payment_details,
)
from actions.settings import ActionSettings
from actions.support_hours import SupportHours
from tests.actions.conftest import order_json


@pytest.mark.parametrize(
    ("email", "masked"),
    [("alice.martin@example.com", "a***@example.com"), ("x@y.io", "x***@y.io"), ("broken", "***")],
)
def test_emails_are_masked(email, masked):
    assert mask_email(email) == masked


@pytest.mark.parametrize(
    ("address", "masked"),
    [
        ({"line1": "12 Rue X", "postal_code": "69002", "city": "Lyon"}, "12*** in Lyon (690**)"),
        (
            {"line1": "Flat 2, 10 Downing Street", "postal_code": "SW1A 2AA", "city": "London"},
            "Fl*** in London (SW1*****)",
        ),
        ({"line1": "5 Main St", "postal_code": "", "city": ""}, "5 ***"),
        ({}, "***"),
    ],
)
def test_addresses_are_masked(address, masked):
    assert mask_address(address) == masked


@pytest.mark.parametrize(
    ("cents", "currency", "text"),
    [(1598, "EUR", "€15.98"), (123456, "GBP", "£1,234.56"), (5, "USD", "$0.05"), (1000, "CHF", "10.00 CHF")],
)
def test_money_is_written_with_its_symbol(cents, currency, text):
    assert money(cents, currency) == text


def test_items_and_status_are_worded():
    order = Order.from_api(order_json(items=[
        {"sku": "A", "name": "Slim-fit jeans", "quantity": 2, "unit_price_cents": 7990},
        {"sku": "B", "name": "Wool cap", "quantity": 1, "unit_price_cents": 1500},
    ]))  # fmt: skip

    assert describe_items(order) == "2 × Slim-fit jeans, 1 × Wool cap"
    assert describe_status(order) == "on its way"


def test_a_status_the_bot_has_no_words_for_is_said_as_it_is():
    assert describe_status(Order.from_api(order_json(status="lost"))) == "lost"


@pytest.mark.parametrize(
    ("text", "redacted", "found"),
    [
        ("4111111111111111", "[card number removed]", True),
        ("amex 3782 822463 10005 ok", "amex [card number removed] ok", True),
        ("visa 4012-8888-8888-1881.", "visa [card number removed].", True),
        ("1234567812345678", "1234567812345678", False),
        ("ORD-104233 and TCK-000123", "ORD-104233 and TCK-000123", False),
        ("cvv2 321", "cvv2 [removed]", True),
        ("Security code: 4321", "Security code: [removed]", True),
        ("my cvv is 999", "my cvv is [removed]", True),
        ("cvv pending", "cvv pending", False),
        ("", "", False),
    ],
)
def test_payment_details_are_redacted_only_when_they_look_real(text, redacted, found):
    assert redact_payment_details(text) == (redacted, found)


def test_settings_come_from_the_environment_with_a_capped_timeout(monkeypatch):
    monkeypatch.setenv("CRM_URL", "http://crm.internal:8000/")
    monkeypatch.setenv("CRM_SERVICE_TOKEN", "abc")
    monkeypatch.setenv("CRM_TIMEOUT_SECONDS", "30")
    monkeypatch.setenv("SUPPORT_HOURS", "mon-fri 09:00-17:00")
    monkeypatch.setenv("SUPPORT_TIMEZONE", "Europe/Paris")

    settings = ActionSettings.from_environment()

    assert (settings.crm_url, settings.crm_service_token, settings.crm_timeout_seconds) == (
        "http://crm.internal:8000",
        "abc",
        3.0,
    )
    assert settings.support_hours == SupportHours.parse("mon-fri 09:00-17:00", "Europe/Paris")


def test_settings_default_to_a_local_crm_always_open(monkeypatch):
    for name in ("CRM_URL", "CRM_SERVICE_TOKEN", "CRM_TIMEOUT_SECONDS", "SUPPORT_HOURS", "SUPPORT_TIMEZONE"):
        monkeypatch.delenv(name, raising=False)

    settings = ActionSettings.from_environment()

    assert settings.crm_url == "http://127.0.0.1:8000"
    assert settings.support_hours.days is None


def test_a_bad_support_hours_setting_stops_the_server_at_start_up(monkeypatch):
    monkeypatch.setenv("SUPPORT_HOURS", "weekdays 9 to 5")

    with pytest.raises(ValueError, match="support hours"):
        ActionSettings.from_environment()
