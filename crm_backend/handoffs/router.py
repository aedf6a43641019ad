"""HTTP routes for handoffs."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/api/handoffs", tags=["handoffs"])
