"""Demo canned responses for the agent console's reply box."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from crm_backend.canned.models import CannedResponse

# (shortcut, title, category, text)
DEMO_CANNED = (
    ("greeting", "Greeting", "general", "Hi, I'm taking over from our assistant. How can I help you today?"),
    ("checking", "Checking now", "general", "Thanks for your patience, I'm checking this for you right now."),
    (
        "order-number",
        "Ask for the order number",
        "orders",
        "Could you send me your order number (it looks like ORD-123456) and the email used at checkout?",
    ),
    (
        "refund-timing",
        "Refund timing",
        "refunds",
        "Refunds reach your account 3-5 working days after we receive the returned item.",
    ),
    (
        "return-label",
        "Return label",
        "returns",
        "I've sent a new return label to your email. Drop the parcel at any post office within 14 days.",
    ),
    ("closing", "Closing", "general", "Is there anything else I can help you with? Have a great day!"),
)


async def seed_canned_responses(session: AsyncSession) -> int:
    """Add the demo canned responses; returns how many were added."""
    session.add_all(
        CannedResponse(shortcut=shortcut, title=title, category=category, text=text)
        for shortcut, title, category, text in DEMO_CANNED
    )
    await session.flush()
    return len(DEMO_CANNED)
