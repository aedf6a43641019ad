"""The shop's knowledge base as files: `faq/articles/*.yml`, one list of articles per topic."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

ARTICLES_DIR = Path(__file__).resolve().parent / "articles"


class ContentError(ValueError):
    """An article file that cannot be loaded; the message names the file."""


def load_articles(directory: Path = ARTICLES_DIR) -> list[dict[str, Any]]:
    """Every article in the folder's YAML files, in file order; ids must be unique."""
    articles: list[dict[str, Any]] = []
    seen: dict[str, Path] = {}
    for path in sorted(directory.glob("*.yml")):
        try:
            entries = yaml.safe_load(path.read_text(encoding="utf-8"))
        except UnicodeDecodeError as exc:
            raise ContentError(f"{path.name}: not UTF-8 text: {exc}") from exc
        except yaml.YAMLError as exc:
            raise ContentError(f"{path.name}: not valid YAML: {exc}") from exc
        if not isinstance(entries, list) or not all(isinstance(entry, dict) for entry in entries):
            raise ContentError(f"{path.name}: expected a list of articles")
        for entry in entries:
            article_id = str(entry.get("id", ""))
            if article_id in seen:
                raise ContentError(f"{path.name}: id {article_id!r} is also in {seen[article_id].name}")
            seen[article_id] = path
            articles.append(entry)
    return articles
