"""HTTP routes for faq."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/api/faq", tags=["faq"])
