"""Canned response payloads in and out of the API."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from crm_backend.conversations.schemas import CleanStr

MAX_CANNED_TEXT = 4000


def _stripped(value: str) -> str:
    value = value.strip()
    if not value:
        raise ValueError("must not be blank")
    return value


def _shortcut(value: str) -> str:
    return _stripped(value).lower()


Text = Annotated[CleanStr, AfterValidator(_stripped)]
Shortcut = Annotated[
    CleanStr,
    Field(min_length=1, max_length=60, pattern=r"^\s*[A-Za-z0-9][A-Za-z0-9_.-]*\s*$"),
    AfterValidator(_shortcut),
]


class CannedCreate(BaseModel):
    shortcut: Shortcut
    title: Annotated[Text, Field(min_length=1, max_length=200)]
    text: Annotated[Text, Field(min_length=1, max_length=MAX_CANNED_TEXT)]
    category: Annotated[Text | None, Field(default=None, max_length=60)] = None


class CannedUpdate(BaseModel):
    """Fields an admin may change; omitted fields stay as they are."""

    shortcut: Shortcut | None = None
    title: Annotated[Text | None, Field(default=None, max_length=200)] = None
    text: Annotated[Text | None, Field(default=None, max_length=MAX_CANNED_TEXT)] = None
    category: Annotated[Text | None, Field(default=None, max_length=60)] = None
    is_active: bool | None = None


class CannedRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    shortcut: str
    title: str
    text: str
    category: str | None
    is_active: bool
    created_at: datetime
    updated_at: datetime
