"""Wording and masking of customer data, and the action settings."""

from __future__ import annotations

import pytest

from actions.formatting import mask_email


@pytest.mark.parametrize(
    ("email", "masked"),
    [("alice.martin@example.com", "a***@example.com"), ("x@y.io", "x***@y.io"), ("broken", "***")],
)
def test_emails_are_masked(email, masked):
    assert mask_email(email) == masked


def test_settings_come_from_the_environment_with_a_capped_timeout(monkeypatch):
    from actions.settings import ActionSettings

    monkeypatch.setenv("CRM_URL", "http://crm.internal:8000/")
    monkeypatch.setenv("CRM_SERVICE_TOKEN", "abc")
    monkeypatch.setenv("CRM_TIMEOUT_SECONDS", "30")
    settings = ActionSettings.from_environment()
    assert (settings.crm_url, settings.crm_service_token, settings.crm_timeout_seconds) == (
        "http://crm.internal:8000",
        "abc",
        3.0,
    )
