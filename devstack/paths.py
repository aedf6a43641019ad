"""Where things are in the repository."""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
BOT_DIR = REPO_ROOT / "bot"
DATA_DIR = REPO_ROOT / "data"
VENVS = REPO_ROOT / ".venvs"
BOT_PYTHON = VENVS / "bot" / "bin" / "python"
CRM_PYTHON = VENVS / "crm" / "bin" / "python"
BOT_MODELS = BOT_DIR / "models"
# Trained models are also kept outside the checkout, keyed by the hash of their inputs,
# so a fresh clone (CI) with unchanged bot data needs no retraining.
MODEL_CACHE = Path(
    os.path.expanduser(os.environ.get("RASA_MODEL_CACHE") or "~/.cache/support-assistant/models")
)
