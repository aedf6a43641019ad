"""What of an article is searched, and how text becomes lexical tokens.

Measured on faq/eval/questions.csv (see docs/benchmarks.md, `make eval-faq`): an article's
vector is the centroid of its phrasings' vectors (question and each alternative). Dense top-1
was 0.86 that way, against 0.77 for one embedding of all phrasings joined (a long text dilutes
each phrasing) and 0.79 for the best single phrasing. Word BM25 works best over question,
alternatives and answer; character trigrams, which catch typos ("retrun", "adress"), work best
over the question and alternatives only.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import bm25s
import Stemmer

_WORD = re.compile(r"\w+")
# Bump when dense_phrases() or how their vectors combine changes: stored vectors become stale.
DENSE_TEXT_VERSION = "phrase-centroid/1"


@dataclass(frozen=True, slots=True)
class ArticleText:
    """The searchable content of one article version."""

    id: str
    question: str
    answer: str
    alternatives: tuple[str, ...] = field(default=())
    version: int = 1


def dense_phrases(article: ArticleText) -> tuple[str, ...]:
    """The texts embedded for an article: its question and every alternative phrasing."""
    return (article.question, *article.alternatives)


def word_text(article: ArticleText) -> str:
    """The text indexed as words: question, alternatives and answer."""
    return "\n".join([article.question, *article.alternatives, article.answer])


def gram_text(article: ArticleText) -> str:
    """The text indexed as character trigrams: question and alternatives."""
    return "\n".join([article.question, *article.alternatives])


@cache
def _stemmer() -> Any:
    return Stemmer.Stemmer("english")


def words(texts: Sequence[str]) -> list[tuple[str, ...]]:
    """Lower-cased word tokens without English stopwords, Snowball-stemmed."""
    if not texts:
        return []
    tokens: list[list[str]] = bm25s.tokenize(
        list(texts), stopwords="en", stemmer=_stemmer(), return_ids=False, show_progress=False
    )
    # Interned: a large KB repeats the same few thousand tokens millions of times.
    return [tuple(sys.intern(token) for token in doc) for doc in tokens]


def trigrams(text: str) -> tuple[str, ...]:
    """Character trigrams of each lower-cased word, padded: "ship" → " sh", "shi", "hip", "ip "."""
    grams: list[str] = []
    for word in _WORD.findall(text.lower()):
        padded = f" {word} "
        grams.extend(sys.intern(padded[i : i + 3]) for i in range(len(padded) - 2))
    return tuple(grams)
