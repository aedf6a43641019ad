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


def domain_actions() -> dict[str, bool]:
    """domain.yml's actions, each with its `send_domain` flag (an entry is a name or {name: options})."""
    domain = yaml.safe_load((Path(__file__).parents[2] / "bot" / "domain.yml").read_text(encoding="utf-8"))
    actions: dict[str, bool] = {}
    for entry in domain["actions"]:
        if isinstance(entry, dict):
            actions.update(
                {name: bool((options or {}).get("send_domain")) for name, options in entry.items()}
            )
        else:
            actions[entry] = False
    return actions


def test_the_domain_lists_the_same_actions():
    assert set(domain_actions()) == DOMAIN_ACTIONS


def test_exactly_the_actions_that_read_the_domain_are_sent_it():
    # endpoints.yml enables Rasa's selective domain: an action not marked `send_domain` gets
    # an empty domain, and rasa-sdk's form validation reads the forms' required slots from it.
    from rasa_sdk.executor import ActionExecutor
    from rasa_sdk.forms import ValidationAction

    executor = ActionExecutor()
    executor.register_package("actions")
    reads_domain = {
        name
        for name, action in executor.actions.items()
        if isinstance(getattr(action, "__self__", None), ValidationAction)
    }
    assert reads_domain == {name for name in DOMAIN_ACTIONS if name.startswith("validate_")}
    assert {name for name, sent in domain_actions().items() if sent} == reads_domain
