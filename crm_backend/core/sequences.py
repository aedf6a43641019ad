"""Human-readable numbers (TCK-000042, RMA-000007) from a counter table.

A counter row per kind, bumped with UPDATE ... RETURNING inside the caller's
transaction: portable across SQLite and PostgreSQL, and gap-free unless rolled back.
"""

from __future__ import annotations

from sqlalchemy import Integer, String, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from crm_backend.core.database import Base


class NumberSequence(Base):
    """The last number handed out for one kind of document."""

    __tablename__ = "number_sequences"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    last_value: Mapped[int] = mapped_column(Integer, default=0)


async def next_number(session: AsyncSession, name: str) -> int:
    """Reserve and return the next number of sequence `name` (starting at 1)."""
    bump = update(NumberSequence).where(NumberSequence.name == name)
    bump = bump.values(last_value=NumberSequence.last_value + 1).returning(NumberSequence.last_value)
    value = (await session.execute(bump)).scalar_one_or_none()
    if value is not None:
        return int(value)
    try:
        async with session.begin_nested():
            await session.execute(insert(NumberSequence).values(name=name, last_value=1))
        return 1
    except IntegrityError:
        # Someone created the counter at the same moment: bump theirs instead.
        return int((await session.execute(bump)).scalar_one())


async def peek_number(session: AsyncSession, name: str) -> int:
    """The last number handed out (0 if none); for tests and reports."""
    value = await session.scalar(select(NumberSequence.last_value).where(NumberSequence.name == name))
    return int(value or 0)
