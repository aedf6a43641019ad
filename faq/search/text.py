"""What of an article is searched, and how text becomes lexical tokens.

Measured with `make eval-faq` on faq/eval/questions.csv (top-1 on answerable questions; the
other shop's KB as a check, see docs/benchmarks.md):
- An article's vector is the centroid of its phrasings' vectors (question and alternatives):
  dense top-1 0.86, against 0.77 for one embedding of all phrasings joined (a long text dilutes
  each phrasing) and 0.79 for the best-matching single phrasing. Mixing in the answer's vector gave dense
  0.87 but the same hybrid (0.895): not worth a second embedding per article.
- Word BM25 over question, alternatives and answer: alone it is worse than over question and
  alternatives (0.68 vs 0.71) but better in the fusion (hybrid 0.891 vs 0.879; other shop equal).
- Character trigrams, which catch typos ("retrun", "adress"), over question and alternatives
  only: 0.77 alone, against 0.73 with the answer (other shop 0.84 vs 0.81).
- Queries are respelled first (`Vocabulary.respell`): the encoder has never seen "retrun", and
  a misspelt word is noise to it. Dense top-1 on the typo questions 0.82 → 0.93, dense 0.86 →
  0.89, BM25 0.68 → 0.71, hybrid 0.891 → 0.903 (other shop: dense 0.90 → 0.91).
"""

from __future__ import annotations

import re
import sys
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import bm25s
import Stemmer

from faq.search.onnx_model import model_path

_WORD = re.compile(r"\w+")
_LETTERS = re.compile(r"[A-Za-z]+")
# Shorter words have too many neighbours one edit away ("cost", "lost", "most", "post").
MIN_RESPELL_LENGTH = 4
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


def spelling_words(article: ArticleText) -> frozenset[str]:
    """The distinct lower-case words of an article, the ones a query may be respelled to."""
    return frozenset(w.lower() for w in _LETTERS.findall(word_text(article)))


@cache
def model_words() -> frozenset[str]:
    """Whole words of the encoder's WordPiece vocabulary: the words it knows, never respelled."""
    with (model_path() / "vocab.txt").open(encoding="utf-8") as vocabulary:
        return frozenset(token for line in vocabulary if (token := line.strip()).isalpha())


class Vocabulary:
    """The words of a knowledge base, for correcting a query's misspellings to them.

    A query word is respelled only when neither the KB nor the encoder knows it and a KB word
    is one edit away (insert, delete, substitute, or swap two neighbours); the most common such
    word wins. Candidates come from a symmetric-delete index (every word with one letter
    dropped), so a lookup costs a few dictionary reads whatever the size of the KB.
    """

    def __init__(self, documents: Iterable[frozenset[str]]) -> None:
        # Document frequency: in how many articles a word appears.
        self._frequency: Counter[str] = Counter()
        for document in documents:
            self._frequency.update(document)
        self._by_deletion: defaultdict[str, list[str]] = defaultdict(list)
        for word in self._frequency:
            if len(word) >= MIN_RESPELL_LENGTH:
                for key in _with_deletions(word):
                    self._by_deletion[key].append(word)

    def respell_word(self, word: str) -> str:
        """The KB word `word` is most likely a misspelling of, or `word` itself (lower case)."""
        word = word.lower()
        if len(word) < MIN_RESPELL_LENGTH or word in self._frequency or word in model_words():
            return word
        candidates = {
            known
            for key in _with_deletions(word)
            for known in self._by_deletion.get(key, ())
            if _one_edit_apart(word, known)
        }
        if not candidates:
            return word
        return max(candidates, key=lambda known: (self._frequency[known], known))

    def respell(self, text: str) -> str:
        """`text` with each misspelt word replaced; words that need no change keep their case."""

        def replace(match: re.Match[str]) -> str:
            word = match.group(0)
            fixed = self.respell_word(word)
            return word if fixed == word.lower() else fixed

        return _LETTERS.sub(replace, text)


def _with_deletions(word: str) -> set[str]:
    return {word, *(word[:i] + word[i + 1 :] for i in range(len(word)))}


def _one_edit_apart(a: str, b: str) -> bool:
    """Whether one insertion, deletion, substitution or swap of neighbours turns a into b."""
    if len(a) > len(b):
        a, b = b, a
    if len(b) - len(a) > 1 or a == b:
        return False
    if len(a) < len(b):
        return any(b[:i] + b[i + 1 :] == a for i in range(len(b)))
    differences = [i for i in range(len(a)) if a[i] != b[i]]
    if len(differences) == 1:
        return True
    first, *rest = differences
    return rest == [first + 1] and a[first] == b[first + 1] and a[first + 1] == b[first]
