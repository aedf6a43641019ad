"""Optional list filters: a query parameter left out narrows nothing."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select
from sqlalchemy.orm import InstrumentedAttribute


def where_equal(statement: Select[Any], *filters: tuple[InstrumentedAttribute[Any], object]) -> Select[Any]:
    """Add `column == value` for each (column, value) pair whose value was given (not None)."""
    for column, value in filters:
        if value is not None:
            statement = statement.where(column == value)
    return statement
