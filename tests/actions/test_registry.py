"""The action server finds every action the domain lists, and nothing that is not one."""

from __future__ import annotations

from pathlib import Path

import yaml

DOMAIN_ACTIONS = {
    "action_answer_faq",
    "action_order_request",
    "action_change_address",
    "action_ticket_request",
    "action_submit_details",
    "action_ask_details",
    "action_ask_ticket_category",
    "action_ask_details_form_email",
    "action_resolve_confirmation",
    "action_handoff",
    "action_offer_human",
    "action_default_fallback",
    "action_rate_service",
    "action_submit_csat",
    "validate_order_lookup_form",
    "validate_ticket_lookup_form",
    "validate_address_form",
    "validate_details_form",
}


def registered_actions() -> set[str]:
    from rasa_sdk.executor import ActionExecutor

    executor = ActionExecutor()
    executor.register_package("actions")
    return set(executor.actions)


def test_action_server_registers_exactly_the_domains_actions():
    # Base classes (CrmAction, VerifyingForm) are abstract: the server must not try to name them.
    assert registered_actions() == DOMAIN_ACTIONS


def test_the_domain_lists_the_same_actions():
    domain = yaml.safe_load((Path(__file__).parents[2] / "bot" / "domain.yml").read_text(encoding="utf-8"))

    assert set(domain["actions"]) == DOMAIN_ACTIONS
