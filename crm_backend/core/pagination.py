"""Offset pagination shared by every list endpoint."""

from __future__ import annotations

from typing import Annotated, Any, Generic, TypeVar

from fastapi import Depends, Query
from pydantic import BaseModel
from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

ItemT = TypeVar("ItemT")
SchemaT = TypeVar("SchemaT", bound=BaseModel)


class PageParams(BaseModel):
    """Which slice of a list to return."""

    limit: int = 50
    offset: int = 0


def page_params(
    limit: Annotated[int, Query(ge=1, le=200, description="Items per page (1-200)")] = 50,
    offset: Annotated[int, Query(ge=0, le=10_000_000, description="Items to skip")] = 0,
) -> PageParams:
    """Read ?limit= and ?offset= from the query string."""
    return PageParams(limit=limit, offset=offset)


PageDep = Annotated[PageParams, Depends(page_params)]


class Page(BaseModel, Generic[ItemT]):
    """A slice of a list, with the total count of matching items."""

    items: list[ItemT]
    total: int
    limit: int
    offset: int


async def paginate(
    session: AsyncSession, statement: Select[Any], params: PageParams, schema: type[SchemaT]
) -> Page[SchemaT]:
    """One page of `statement`'s rows, each rendered as `schema`."""
    rows, total = await fetch_page(session, statement, params)
    return Page(
        items=[schema.model_validate(row) for row in rows],
        total=total,
        limit=params.limit,
        offset=params.offset,
    )


async def fetch_page(
    session: AsyncSession, statement: Select[Any], params: PageParams
) -> tuple[list[Any], int]:
    """Run `statement` for one page, and count every row it would return."""
    total = await session.scalar(select(func.count()).select_from(statement.order_by(None).subquery()))
    rows = await session.scalars(statement.limit(params.limit).offset(params.offset))
    return list(rows.unique()), int(total or 0)
