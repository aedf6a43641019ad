"""The action server finds every action, and nothing that is not one."""

from __future__ import annotations


def test_action_server_registers_only_concrete_actions():
    from rasa_sdk.executor import ActionExecutor

    executor = ActionExecutor()
    executor.register_package("actions")
    assert set(executor.actions) == {
        "action_check_order_status",
        "action_answer_faq",
        "validate_order_lookup_form",
    }
