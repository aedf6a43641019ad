"""HTTP routes for customers."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/api/customers", tags=["customers"])
