"""What the demo sign-in returns."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel


class DemoTokenRead(BaseModel):
    """A signed customer token for the widget, and who it names."""

    token: str
    customer_id: int
    full_name: str
    email: str
    expires_at: datetime
