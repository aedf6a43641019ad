"""bot/rasa_server.py's rules memo: the RulePolicy trained on our own rules predicts exactly as without it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from rasa.core.policies.rule_policy import RulePolicy
from rasa.core.training import load_data
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.core.constants import RULE_SNIPPET_ACTION_NAME
from rasa.shared.importers.importer import TrainingDataImporter

from bot import rasa_server

BOT = Path(__file__).resolve().parents[2] / "bot"
ORIGINAL = rasa_server._rules_applicable_to


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> tuple[RulePolicy, Any, list[Any]]:
    """A RulePolicy trained as config.yml trains it, on bot/data, and every prior tracker of its data."""
    importer = TrainingDataImporter.load_from_dict(
        config_path=str(BOT / "config.yml"),
        domain_path=str(BOT / "domain.yml"),
        training_data_paths=[str(BOT / "data")],
    )
    domain = importer.get_domain()
    trackers = load_data(importer, domain, augmentation_factor=0)
    [config] = [p for p in importer.get_config()["policies"] if p["name"] == "RulePolicy"]
    policy = RulePolicy.create(
        {**RulePolicy.get_default_config(), **{k: v for k, v in config.items() if k != "name"}},
        LocalModelStorage(tmp_path_factory.mktemp("model")),
        Resource("rules"),
        ExecutionContext(GraphSchema({}), "test"),
    )
    policy.train(trackers, domain)
    # The conversation before each action of each rule and story (the generator updates one
    # tracker in place: each is copied).
    priors = [
        prior.copy()
        for tracker in trackers
        for prior, _hidden in tracker.generate_all_prior_trackers()
        if prior.latest_action_name != RULE_SNIPPET_ACTION_NAME
    ]
    return policy, domain, priors


@pytest.fixture
def memoized() -> Iterator[None]:
    RulePolicy._get_possible_keys = rasa_server._memoized_possible_keys
    yield
    RulePolicy._get_possible_keys = ORIGINAL


def _predictions(policy: RulePolicy, domain: Any, trackers: list[Any]) -> list[tuple[Any, ...]]:
    return [
        (tuple(p.probabilities), p.policy_name, tuple(map(str, p.events)), tuple(map(str, p.optional_events)))
        for p in (policy.predict_action_probabilities(t, domain) for t in trackers)
    ]


def test_every_prediction_on_our_rules_and_stories_is_unchanged(trained, memoized):
    policy, domain, priors = trained
    assert len(policy.lookup["rules"]) > 100  # our real rules
    assert len(priors) > 400  # every step of them
    RulePolicy._get_possible_keys = ORIGINAL
    expected = _predictions(policy, domain, priors)
    RulePolicy._get_possible_keys = rasa_server._memoized_possible_keys
    policy.__dict__.pop("_rules_memo", None)

    first = _predictions(policy, domain, priors)  # fills the memo
    again = _predictions(policy, domain, priors)  # answered from it

    assert first == expected
    assert again == expected
    assert len(policy.__dict__["_rules_memo"]) > 50


def test_a_state_seen_before_is_not_matched_against_the_rules_again(trained, memoized, monkeypatch):
    policy, domain, priors = trained
    policy.__dict__.pop("_rules_memo", None)
    calls: list[int] = []

    def counted(self: RulePolicy, lookup: dict[str, str], states: list[Any]) -> set[str]:
        calls.append(1)
        return ORIGINAL(self, lookup, states)

    monkeypatch.setattr(rasa_server, "_rules_applicable_to", counted)
    policy.predict_action_probabilities(priors[10], domain)
    asked = len(calls)
    policy.predict_action_probabilities(priors[10], domain)

    assert asked > 0
    assert len(calls) == asked


def test_the_memo_is_per_policy_and_lookup_bounded_and_unhashable_states_are_asked_as_they_are(
    trained, memoized, monkeypatch
):
    policy, _domain, _priors = trained
    lookup = policy.lookup["rules"]
    other = RulePolicy.__new__(RulePolicy)
    state = [{"user": {"intent": "greet"}, "prev_action": {"action_name": "action_listen"}}]

    assert other._get_possible_keys(lookup, state) == ORIGINAL(policy, lookup, state)
    assert "_rules_memo" in other.__dict__
    assert other.__dict__["_rules_memo"] is not policy.__dict__.get("_rules_memo")

    monkeypatch.setattr(rasa_server, "RULE_MEMO_LIMIT", 2)
    other.__dict__["_rules_memo"].clear()
    for intent in ("greet", "goodbye", "thanks"):
        other._get_possible_keys(lookup, [{**state[0], "user": {"intent": intent}}])
    assert len(other.__dict__["_rules_memo"]) == 1  # cleared when full, then the newest kept

    unhashable = [{"user": {"intent": "greet", "entities": ["order_number"]}}]
    assert other._get_possible_keys(lookup, unhashable) == ORIGINAL(policy, lookup, unhashable)
