"""Train the bot's NLU pipeline on some data and parse messages with it, for `make eval-nlu`.

Runs in the bot environment (Rasa 3.6). Models go to a temporary directory, never bot/models.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import rasa.model_training
import rasa.utils.common
import rasa.utils.log_utils
import yaml
from rasa.core.agent import Agent
from rasa.core.channels.channel import UserMessage
from rasa.shared.nlu.training_data.formats.rasa_yaml import RasaYAMLWriter
from rasa.shared.nlu.training_data.training_data import TrainingData

from bench.nlu_data import Example
from bench.nlu_metrics import FALLBACK_INTENT, Prediction, Span


def quiet_rasa_logs() -> None:
    """Warnings and errors only: unconfigured, Rasa's structlog prints a debug line per parse."""
    rasa.utils.common.configure_logging_and_warnings(logging.WARNING)
    rasa.utils.log_utils.configure_structlog(logging.WARNING)


def evaluation_config(config: Path, workdir: Path, *, epochs: int | None) -> Path:
    """The shipped config, or a copy in `workdir` with every trained component at `epochs`."""
    if epochs is None:
        return config
    settings = yaml.safe_load(config.read_text())
    for component in settings.get("pipeline") or []:
        if "epochs" in component:
            component["epochs"] = epochs
    copy = workdir / "config.yml"
    copy.write_text(yaml.safe_dump(settings, sort_keys=False))
    return copy


def describe_pipeline(config: Path) -> str:
    """The NLU pipeline in one line, every component with its settings."""
    parts = []
    for component in yaml.safe_load(config.read_text()).get("pipeline") or []:
        settings = ", ".join(f"{key} {value}" for key, value in component.items() if key != "name")
        parts.append(f"{component['name']} ({settings})" if settings else str(component["name"]))
    return ", ".join(parts)


def fallback_settings(config: Path) -> tuple[float, float]:
    """FallbackClassifier's threshold and ambiguity threshold in `config` (Rasa's defaults if unset)."""
    for component in yaml.safe_load(config.read_text()).get("pipeline") or []:
        if component["name"] == "FallbackClassifier":
            return float(component.get("threshold", 0.3)), float(component.get("ambiguity_threshold", 0.1))
    raise ValueError(f"{config} has no FallbackClassifier: nothing would ever be rejected as unsure")


def train_model(config: Path, training_data: TrainingData, workdir: Path, name: str) -> Path:
    """Train the NLU pipeline of `config` on `training_data`; the model archive's path."""
    # Each fold's data differs, so Rasa's training cache could only fill the disk: turn it off.
    os.environ["RASA_MAX_CACHE_SIZE"] = "0"
    data_file = workdir / f"{name}.yml"
    RasaYAMLWriter().dump(data_file, training_data)
    model = rasa.model_training.train_nlu(str(config), str(data_file), str(workdir), fixed_model_name=name)
    if model is None:
        raise RuntimeError(f"Rasa trained no model from {data_file}")
    return Path(model)


def _spans(text: str, entities: Sequence[Mapping[str, Any]]) -> tuple[Span, ...]:
    return tuple(
        Span(str(e["entity"]), int(e["start"]), int(e["end"]), text[int(e["start"]) : int(e["end"])])
        for e in entities
    )


def _prediction(example: Example, parsed: Mapping[str, Any]) -> Prediction:
    ranking = [
        (str(r["name"]), float(r["confidence"]))
        for r in parsed.get("intent_ranking") or []
        if r["name"] != FALLBACK_INTENT
    ]
    intent = parsed.get("intent") or {}
    return Prediction(
        text=example.text,
        gold_intent=example.intent,
        intent=str(intent.get("name")),
        confidence=float(intent.get("confidence") or 0.0),
        ranking=tuple(ranking[:2]),
        gold_entities=example.entities,
        entities=_spans(example.text, parsed.get("entities") or []),
    )


class Parser:
    """A trained model loaded once, parsing messages as the running bot would."""

    def __init__(self, model: Path) -> None:
        self._processor = Agent.load(str(model)).processor

    def predict(self, examples: Sequence[Example]) -> list[Prediction]:
        """Parse every example's text and pair the result with its labels."""

        async def parse_all() -> list[Prediction]:
            return [
                _prediction(example, await self._processor.parse_message(UserMessage(example.text)))
                for example in examples
            ]

        return asyncio.run(parse_all())
