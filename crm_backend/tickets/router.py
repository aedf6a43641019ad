"""HTTP routes for tickets."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/api/tickets", tags=["tickets"])
