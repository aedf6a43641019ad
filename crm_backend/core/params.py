"""Typed path and query parameters shared by routers."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path

# Ids are 32-bit integers in the database: anything outside that range cannot exist,
# and would make PostgreSQL's driver raise instead of answering "not found".
MAX_ID = 2**31 - 1
IdPath = Annotated[int, Path(ge=1, le=MAX_ID)]
