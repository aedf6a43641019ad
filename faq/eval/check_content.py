"""Check the FAQ content: article files, the evaluation set and the other shop's KB.

Run from anywhere with plain Python 3 and PyYAML:

    python3 faq/eval/check_content.py          # summary, exit code 1 on any problem
    python3 faq/eval/check_content.py --ids    # also list the article ids

Checks: the article keys and their formats, ids unique across files, every label in a
questions.csv is an article id or `none`, the kinds, every article labelled at least twice,
minimum counts, and that no evaluation question copies an article's question or alternatives.
"""

from __future__ import annotations

import csv
import json
import re
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import yaml

FAQ = Path(__file__).resolve().parents[1]
ARTICLES_DIR = FAQ / "articles"
EVAL = FAQ / "eval"
OTHER = EVAL / "other_shop"

TOPIC_FILES = [
    "shipping.yml",
    "returns_refunds.yml",
    "payments.yml",
    "invoices.yml",
    "account.yml",
    "orders.yml",
    "products.yml",
    "privacy.yml",
    "contact.yml",
]
SHOP_KEYS = {"id", "question", "alternatives", "answer", "tags", "links"}
OTHER_KEYS = {"id", "question", "answer", "alternatives", "tags"}
KINDS = {"paraphrase", "typo", "multi", "short", "none"}
ID_RE = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
TAG_RE = re.compile(r"^[a-z]+$")
HTML_RE = re.compile(r"</?[a-zA-Z][^>]*>")
URL_PREFIX = "https://shop.example.com/"

errors: list[str] = []


def error(msg: str) -> None:
    errors.append(msg)


def norm(text: str) -> str:
    """Lowercase, punctuation removed, whitespace collapsed: what counts as a verbatim copy."""
    return " ".join(re.sub(r"[^\w\s]", " ", text.lower()).split())


def check_article(
    a: dict[str, Any], where: str, keys: set[str], tag_re: re.Pattern[str], with_links: bool
) -> None:
    aid = a.get("id", "?")
    if set(a) != keys:
        error(f"{where} {aid}: keys {sorted(a)} != {sorted(keys)}")
    if not isinstance(aid, str) or not ID_RE.match(aid) or len(aid) > 80:
        error(f"{where} {aid}: id is not kebab-case")
    for field in ("question", "answer"):
        if not isinstance(a.get(field), str) or not a.get(field, "").strip():
            error(f"{where} {aid}: empty {field}")
    alts = a.get("alternatives")
    if (
        not isinstance(alts, list)
        or not 4 <= len(alts) <= 8
        or not all(isinstance(x, str) and x.strip() for x in alts)
    ):
        error(f"{where} {aid}: needs 4-8 alternatives")
    elif len({norm(x) for x in [*alts, a.get("question", "")]}) != len(alts) + 1:
        error(f"{where} {aid}: duplicate phrasing among question/alternatives")
    tags = a.get("tags")
    if (
        not isinstance(tags, list)
        or not 1 <= len(tags) <= 3
        or not all(isinstance(t, str) and tag_re.match(t) for t in tags)
    ):
        error(f"{where} {aid}: needs 1-3 lowercase tags, got {tags}")
    if HTML_RE.search(a.get("answer", "")):
        error(f"{where} {aid}: raw HTML in answer")
    if with_links:
        links = a.get("links")
        if not isinstance(links, list):
            error(f"{where} {aid}: links must be a list")
        else:
            for link in links:
                if (
                    not isinstance(link, dict)
                    or set(link) != {"title", "url"}
                    or not str(link.get("url", "")).startswith(URL_PREFIX)
                ):
                    error(f"{where} {aid}: bad link {link}")


def load_shop() -> list[dict[str, Any]]:
    found = sorted(p.name for p in ARTICLES_DIR.glob("*.yml"))
    if found != sorted(TOPIC_FILES):
        error(f"articles/: expected {sorted(TOPIC_FILES)}, found {found}")
    articles = []
    for name in TOPIC_FILES:
        path = ARTICLES_DIR / name
        if not path.exists():
            continue
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        if not isinstance(data, list) or not data:
            error(f"{name}: must be a non-empty YAML list")
            continue
        for a in data:
            if not isinstance(a, dict):
                error(f"{name}: entry is not a mapping: {a!r}")
                continue
            check_article(a, name, SHOP_KEYS, TAG_RE, with_links=True)
            articles.append(a)
    return articles


def load_other() -> list[dict[str, Any]]:
    data = json.loads((OTHER / "articles.json").read_text(encoding="utf-8"))
    if not isinstance(data, list):
        error("other_shop/articles.json: must be a JSON list")
        return []
    for a in data:
        check_article(a, "other_shop", OTHER_KEYS, TAG_RE, with_links=False)
    return data


def check_ids(articles: list[dict[str, Any]], label: str) -> set[str]:
    counts = Counter(str(a.get("id")) for a in articles)
    for aid, n in counts.items():
        if n > 1:
            error(f"{label}: id {aid} used {n} times")
    # The same phrasing must not belong to two articles either.
    owner: dict[str, str] = {}
    for a in articles:
        for phrase in [a.get("question", ""), *(a.get("alternatives") or [])]:
            key = norm(phrase)
            if key in owner and owner[key] != a["id"]:
                error(f"{label}: phrasing {phrase!r} in both {owner[key]} and {a['id']}")
            owner[key] = a["id"]
    return set(counts)


def check_questions(
    path: Path, articles: list[dict[str, Any]], label: str, min_rows: int, min_none: int
) -> Counter[str]:
    ids = {a["id"] for a in articles}
    phrasings = {norm(p): a["id"] for a in articles for p in [a["question"], *a["alternatives"]]}
    with path.open(newline="", encoding="utf-8") as fh:
        reader = csv.reader(fh)
        header = next(reader)
        rows = list(reader)
    if header != ["question", "article_id", "kind"]:
        error(f"{label}: header {header}")
    kinds: Counter[str] = Counter()
    labelled: Counter[str] = Counter()
    seen: set[str] = set()
    for i, row in enumerate(rows, start=2):
        if len(row) != 3:
            error(f"{label}:{i}: {len(row)} columns")
            continue
        question, aid, kind = row
        kinds[kind] += 1
        if kind not in KINDS:
            error(f"{label}:{i}: unknown kind {kind}")
        if aid != "none" and aid not in ids:
            error(f"{label}:{i}: unknown article_id {aid}")
        if (aid == "none") != (kind == "none"):
            error(f"{label}:{i}: article_id {aid} with kind {kind}")
        key = norm(question)
        if not key:
            error(f"{label}:{i}: empty question")
        if key in seen:
            error(f"{label}:{i}: duplicate question {question!r}")
        seen.add(key)
        if key in phrasings:
            error(f"{label}:{i}: {question!r} copies a phrasing of {phrasings[key]}")
        if kind == "short" and not 1 <= len(question.split()) <= 3:
            error(f"{label}:{i}: short question has {len(question.split())} words")
        if kind == "multi" and len(re.findall(r"[.?!](\s|$)", question)) < 2:
            error(f"{label}:{i}: multi question should have several sentences")
        labelled[aid] += 1
    for aid in sorted(ids):
        if labelled[aid] < 2:
            error(f"{label}: article {aid} labelled {labelled[aid]} times (needs 2)")
    if len(rows) < min_rows:
        error(f"{label}: {len(rows)} rows, needs {min_rows}")
    if kinds["none"] < min_none:
        error(f"{label}: {kinds['none']} none rows, needs {min_none}")
    return kinds


def describe(kinds: Counter[str]) -> str:
    return f"{sum(kinds.values())} ({', '.join(f'{k} {kinds[k]}' for k in sorted(KINDS))})"


def main() -> int:
    shop = load_shop()
    check_ids(shop, "articles")
    if len(shop) < 64:
        error(f"articles: {len(shop)}, needs 64")
    shop_kinds = check_questions(EVAL / "questions.csv", shop, "questions.csv", 320, 80)

    other = load_other()
    other_ids = check_ids(other, "other_shop")
    if len(other) < 30:
        error(f"other_shop: {len(other)} articles, needs 30")
    other_kinds = check_questions(OTHER / "questions.csv", other, "other_shop/questions.csv", 120, 30)

    per_file = {
        name: len(yaml.safe_load((ARTICLES_DIR / name).read_text(encoding="utf-8")) or [])
        for name in TOPIC_FILES
        if (ARTICLES_DIR / name).exists()
    }
    print(f"shop articles: {len(shop)} ({', '.join(f'{k} {v}' for k, v in per_file.items())})")
    print(f"shop questions: {describe(shop_kinds)}")
    print(f"other shop articles: {len(other)}")
    print(f"other shop questions: {describe(other_kinds)}")
    if "--ids" in sys.argv:
        print("shop ids:", " ".join(a["id"] for a in shop))
        print("other shop ids:", " ".join(sorted(other_ids)))
    for msg in errors:
        print("ERROR", msg)
    print("OK" if not errors else f"{len(errors)} problem(s)")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
