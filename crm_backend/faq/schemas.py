"""FAQ article payloads."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, HttpUrl, StringConstraints

ArticleId = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]{1,79}$")]
FaqTag = Annotated[str, StringConstraints(strip_whitespace=True, to_lower=True, min_length=1, max_length=40)]
Phrase = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]
# Stripped, so "   " is not a question and an import round trip never changes whitespace.
Question = Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=500)]
Answer = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=20_000)]


class ArticleLink(BaseModel):
    title: str = Field(min_length=1, max_length=200)
    url: HttpUrl


class ArticleFields(BaseModel):
    question: Question
    answer: Answer = Field(description="Markdown")
    alternatives: list[Phrase] = Field(default_factory=list, max_length=50)
    tags: list[FaqTag] = Field(default_factory=list, max_length=20)
    links: list[ArticleLink] = Field(default_factory=list, max_length=20)


class ArticleCreate(ArticleFields):
    id: ArticleId | None = Field(default=None, description="Derived from the question when omitted")


class ArticleUpdate(BaseModel):
    """Fields to change; omitted (or null) ones stay as they are. is_active=false retires the article."""

    question: Question | None = None
    answer: Answer | None = None
    alternatives: list[Phrase] | None = Field(default=None, max_length=50)
    tags: list[FaqTag] | None = Field(default=None, max_length=20)
    links: list[ArticleLink] | None = Field(default=None, max_length=20)
    is_active: bool | None = None


class ArticleRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    question: str
    answer: str
    alternatives: list[str]
    tags: list[str]
    links: list[dict[str, str]]
    version: int
    is_active: bool
    created_at: datetime
    updated_at: datetime
    retired_at: datetime | None


class ArticleImport(BaseModel):
    """One article of an import or export file (JSON object or CSV row)."""

    model_config = ConfigDict(extra="forbid")

    id: ArticleId | None = Field(default=None, description="Updates that article when it exists")
    question: Question
    answer: Answer = Field(description="Markdown")
    alternatives: list[Phrase] = Field(default_factory=list, max_length=50)
    tags: list[FaqTag] = Field(default_factory=list, max_length=20)


class ImportResult(BaseModel):
    created: list[str]
    updated: list[str]
    unchanged: list[str]


class SearchHit(BaseModel):
    id: str
    question: str
    answer: str
    score: float


class SearchResults(BaseModel):
    results: list[SearchHit] = Field(description="Best first")
    answered: bool = Field(description="Whether the best result is confident enough to answer with")
