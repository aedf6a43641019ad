"""The knowledge base files: every article loads, ids are unique, bad files name themselves."""

from __future__ import annotations

from pathlib import Path

import pytest

from faq.content import ContentError, load_articles

ARTICLE = """
- id: {id}
  question: "How long does delivery take?"
  alternatives: ["delivery time"]
  answer: "2-4 working days."
  tags: [shipping]
  links: []
"""


def test_the_shipped_articles_load_with_unique_ids_and_every_field():
    articles = load_articles()

    ids = [a["id"] for a in articles]
    assert len(articles) >= 60
    assert len(set(ids)) == len(ids)
    for article in articles:
        for key in ("question", "answer"):
            assert isinstance(article[key], str), (article["id"], key)
            assert article[key].strip(), (article["id"], key)
        for key in ("alternatives", "tags"):
            assert article[key], (article["id"], key)
            assert all(isinstance(value, str) and value.strip() for value in article[key]), (
                article["id"],
                key,
            )


def test_articles_come_in_file_order(tmp_path: Path):
    (tmp_path / "b.yml").write_text(ARTICLE.format(id="second"), encoding="utf-8")
    (tmp_path / "a.yml").write_text(ARTICLE.format(id="first"), encoding="utf-8")
    (tmp_path / "notes.txt").write_text("not an article file", encoding="utf-8")

    assert [a["id"] for a in load_articles(tmp_path)] == ["first", "second"]


def test_an_id_used_in_two_files_names_both(tmp_path: Path):
    (tmp_path / "a.yml").write_text(ARTICLE.format(id="delivery-time"), encoding="utf-8")
    (tmp_path / "b.yml").write_text(ARTICLE.format(id="delivery-time"), encoding="utf-8")

    with pytest.raises(ContentError, match=r"b\.yml: id 'delivery-time' is also in a\.yml"):
        load_articles(tmp_path)


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        pytest.param(b"- id: x\n  question: [unclosed\n", "not valid YAML", id="bad-yaml"),
        pytest.param(b"id: x\nquestion: not in a list\n", "expected a list", id="not-a-list"),
        pytest.param(b"- just a string\n", "expected a list", id="not-a-mapping"),
        pytest.param(b"- id: caf\xe9\n", "not UTF-8", id="not-utf8"),
    ],
)
def test_a_bad_file_raises_a_content_error_naming_it(tmp_path: Path, content: bytes, problem: str):
    (tmp_path / "a.yml").write_text(ARTICLE.format(id="fine"), encoding="utf-8")
    (tmp_path / "broken.yml").write_bytes(content)

    with pytest.raises(ContentError, match=rf"^broken\.yml: .*{problem}"):
        load_articles(tmp_path)
