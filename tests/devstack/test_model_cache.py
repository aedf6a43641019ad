"""The Rasa model is keyed by exactly the inputs that shape it."""

from __future__ import annotations

import shutil

import pytest

from devstack.model import encoder_files, encoder_identity, model_hash
from devstack.paths import REPO_ROOT
from faq.search.onnx_model import ensure_exported


@pytest.fixture
def bot_copy(tmp_path):
    """A copy of the model's inputs, safe to edit."""
    shutil.copytree(REPO_ROOT / "bot" / "data", tmp_path / "bot" / "data")
    shutil.copytree(
        REPO_ROOT / "bot" / "components",
        tmp_path / "bot" / "components",
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    for name in ("bot/config.yml", "bot/domain.yml", "requirements/bot.lock"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(REPO_ROOT / name, tmp_path / name)
    return tmp_path


def test_hash_is_stable_and_matches_the_checkout(bot_copy):
    assert model_hash(bot_copy) == model_hash(bot_copy) == model_hash(REPO_ROOT)


def test_training_data_changes_the_hash(bot_copy):
    before = model_hash(bot_copy)
    with (bot_copy / "bot" / "data" / "nlu.yml").open("a") as nlu:
        nlu.write("\n# a change\n")
    assert model_hash(bot_copy) != before


def test_a_custom_components_code_changes_the_hash_but_its_bytecode_cache_does_not(bot_copy):
    components = bot_copy / "bot" / "components"
    before = model_hash(bot_copy)
    (components / "__pycache__").mkdir(exist_ok=True)
    (components / "__pycache__" / "sentence_encoder.cpython-310.pyc").write_bytes(b"\x00bytecode")
    assert model_hash(bot_copy) == before
    with (components / "logistic_regression.py").open("a") as source:
        source.write("\n# a change to how the classifier trains\n")
    assert model_hash(bot_copy) != before


def test_rasa_version_changes_the_hash_but_test_tools_do_not(bot_copy):
    lock = bot_copy / "requirements" / "bot.lock"
    before = model_hash(bot_copy)
    lock.write_text(lock.read_text() + "some-linter==1.0\n")
    assert model_hash(bot_copy) == before
    lock.write_text(lock.read_text().replace("rasa==3.6.21", "rasa==3.6.20"))
    assert model_hash(bot_copy) != before


def test_test_stories_and_endpoints_do_not_change_the_hash(bot_copy):
    before = model_hash(bot_copy)
    (bot_copy / "bot" / "tests").mkdir()
    (bot_copy / "bot" / "tests" / "test_stories.yml").write_text("stories: []\n")
    (bot_copy / "bot" / "endpoints.yml").write_text("changed: true\n")
    assert model_hash(bot_copy) == before


def test_another_sentence_encoder_changes_the_hash(bot_copy):
    assert model_hash(bot_copy, encoder="minilm-aaaa") != model_hash(bot_copy, encoder="minilm-bbbb")
    assert model_hash(bot_copy) == model_hash(bot_copy, encoder=encoder_identity(encoder_files()[0]))


def test_encoder_files_are_the_faq_export_unless_the_environment_names_others(monkeypatch, tmp_path):
    onnx_file, tokenizer_file = encoder_files()
    assert onnx_file == ensure_exported()
    assert onnx_file.is_file()
    assert tokenizer_file.name == "tokenizer.json"
    assert tokenizer_file.is_file()
    monkeypatch.setenv("BOT_ENCODER_ONNX", str(tmp_path / "other" / "model.onnx"))
    monkeypatch.setenv("BOT_ENCODER_TOKENIZER", str(tmp_path / "tokenizer.json"))
    assert encoder_files() == (tmp_path / "other" / "model.onnx", tmp_path / "tokenizer.json")
    assert encoder_identity(encoder_files()[0]) == "other"
