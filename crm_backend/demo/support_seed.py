"""Demo support history: agents, channel identities, past conversations, handoffs and tickets.

Deterministic for a given random generator and anchor date, like the rest of the seed.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from crm_backend.agents.models import Agent, AgentRole
from crm_backend.auth.passwords import hash_password
from crm_backend.conversations.models import Conversation, ConversationStatus, Message, MessageAuthor
from crm_backend.core.enums import ActorKind, Channel
from crm_backend.core.sequences import next_number
from crm_backend.customers.models import Customer, CustomerIdentity
from crm_backend.demo.canned_seed import seed_canned_responses
from crm_backend.handoffs.models import Handoff, HandoffReason, HandoffStatus
from crm_backend.orders.models import Order
from crm_backend.tickets.models import Ticket, TicketComment, TicketPriority, TicketStatus


@dataclass(frozen=True, slots=True)
class DemoLogin:
    name: str
    email: str
    password: str
    role: AgentRole


# Development-only credentials, printed in the README. The seed never runs in production.
DEMO_LOGINS = (
    DemoLogin("Alex Agent", "agent@example.com", "agent-demo-password", AgentRole.AGENT),
    DemoLogin("Ada Admin", "admin@example.com", "admin-demo-password", AgentRole.ADMIN),
    DemoLogin("Sam Support", "sam@example.com", "sam-demo-password", AgentRole.AGENT),
)

# (intent, what the customer wrote, what the bot answered)
EXCHANGES = (
    ("track_order", "where is my order?", "Sure! What's your order number?"),
    (
        "delivery_period",
        "how long does delivery take to germany",
        "Standard delivery takes 2-4 working days.",
    ),
    ("cancel_order", "i want to cancel my order", "I can help with that. What's your order number?"),
    (
        "get_refund",
        "when do I get my money back?",
        "Refunds reach your account 3-5 days after we receive the return.",
    ),
    ("payment_issue", "my card was declined twice", "Sorry about that. Please check the card's expiry date."),
    ("change_shipping_address", "can I change the delivery address", "Yes, until the order ships."),
    ("recover_password", "forgot my password", "Use 'Forgot password' on the login page."),
    (
        "complaint",
        "the jacket arrived torn, really disappointed",
        "I'm sorry. I've opened a ticket with priority.",
    ),
    ("contact_human_agent", "can I talk to a person", "Of course, I'm connecting you with a colleague."),
)
TICKET_SUBJECTS = {
    "shipping": "Parcel not arrived",
    "return": "Return label missing",
    "refund": "Refund not received",
    "payment": "Charged twice",
    "account": "Cannot log in",
    "complaint": "Damaged item",
    "order": "Wrong size delivered",
}
SLA = {
    TicketPriority.URGENT: timedelta(hours=4),
    TicketPriority.HIGH: timedelta(hours=8),
    TicketPriority.NORMAL: timedelta(hours=24),
    TicketPriority.LOW: timedelta(hours=72),
}
DONE = (TicketStatus.SOLVED, TicketStatus.CLOSED)
CHANNEL_IDS = {
    Channel.WEB: lambda rng: f"web-{rng.getrandbits(48):012x}",
    Channel.MESSENGER: lambda rng: str(rng.randint(10**15, 10**16 - 1)),
    Channel.TELEGRAM: lambda rng: str(rng.randint(10**8, 10**10)),
    Channel.WHATSAPP: lambda rng: f"whatsapp:+49151{rng.randint(1000000, 9999999)}",
}


def _agents() -> list[Agent]:
    return [
        Agent(name=d.name, email=d.email, role=d.role, password_hash=hash_password(d.password))
        for d in DEMO_LOGINS
    ]


def _conversation(
    rng: random.Random, customer: Customer, channel: Channel, started: datetime
) -> tuple[Conversation, CustomerIdentity, str]:
    """A closed conversation of 1-3 exchanges, the identity it came from, and its last intent."""
    sender_id = CHANNEL_IDS[channel](rng)
    conversation_identity = CustomerIdentity(
        customer_id=customer.id, channel=channel, external_id=sender_id, created_at=started
    )
    conversation = Conversation(
        sender_id=sender_id, channel=channel, customer_id=customer.id,
        status=ConversationStatus.CLOSED, started_at=started,
    )  # fmt: skip
    moment = started
    intent = "greet"
    for intent, said, answer in rng.sample(EXCHANGES, k=rng.randint(1, 3)):
        conversation.messages.append(
            Message(author=MessageAuthor.CUSTOMER, channel=channel, text=said, intent=intent,
                    intent_confidence=round(rng.uniform(0.6, 0.99), 2), sent_at=moment)
        )  # fmt: skip
        moment += timedelta(seconds=rng.randint(1, 4))
        conversation.messages.append(
            Message(author=MessageAuthor.BOT, channel=channel, text=answer, sent_at=moment)
        )
        moment += timedelta(seconds=rng.randint(20, 300))
    conversation.last_message_at = moment
    conversation.message_count = len(conversation.messages)
    return conversation, conversation_identity, intent


def _resolved_handoff(rng: random.Random, conversation: Conversation, intent: str, agent: Agent) -> Handoff:
    claimed = conversation.last_message_at + timedelta(seconds=rng.randint(30, 900))
    return Handoff(
        conversation_id=conversation.id,
        reason=HandoffReason.COMPLAINT if intent == "complaint" else HandoffReason.CUSTOMER_REQUEST,
        status=HandoffStatus.RESOLVED,
        assignee_id=agent.id,
        summary={"intent": intent},
        requested_at=conversation.last_message_at,
        claimed_at=claimed,
        first_response_at=claimed + timedelta(seconds=rng.randint(5, 120)),
        resolved_at=claimed + timedelta(minutes=rng.randint(2, 30)),
        csat_score=rng.choice((3, 4, 4, 5, 5, 5)) if rng.random() < 0.7 else None,
    )


async def seed_support_history(
    session: AsyncSession, *, rng: random.Random, customers: list[Customer], anchor: date, scale: int
) -> None:
    """Agents, canned responses, conversations (some handed off) and tickets over the last 90 days."""
    agents = _agents()
    session.add_all(agents)
    await seed_canned_responses(session)
    until = datetime.combine(anchor, time(0), tzinfo=UTC)
    orders = list((await session.scalars(select(Order).order_by(Order.id).limit(scale))).all())

    handed_off: list[tuple[Conversation, str]] = []
    for _ in range(max(scale // 6, 5)):
        customer = rng.choice(customers)
        channel = rng.choice(list(CHANNEL_IDS))
        started = until - timedelta(days=rng.randint(1, 90), minutes=rng.randint(0, 1440))
        conversation, identity, last_intent = _conversation(rng, customer, channel, started)
        session.add_all((conversation, identity))
        if last_intent in ("contact_human_agent", "complaint") or rng.random() < 0.1:
            handed_off.append((conversation, last_intent))
    await session.flush()
    for conversation, last_intent in handed_off:
        session.add(_resolved_handoff(rng, conversation, last_intent, rng.choice(agents)))
    await session.flush()

    statuses = list(TicketStatus)
    for _ in range(max(scale // 8, 5)):
        order = rng.choice(orders) if orders and rng.random() < 0.7 else None
        customer_id = order.customer_id if order else rng.choice(customers).id
        category = rng.choice(list(TICKET_SUBJECTS))
        priority = TicketPriority.HIGH if category == "complaint" else rng.choice(list(TicketPriority))
        created = until - timedelta(days=rng.randint(0, 60), minutes=rng.randint(0, 1440))
        status = rng.choice(statuses)
        ticket = Ticket(
            number=f"TCK-{await next_number(session, 'ticket'):06d}", customer_id=customer_id,
            subject=TICKET_SUBJECTS[category],
            description=f"Customer reports: {TICKET_SUBJECTS[category].lower()}.",
            category=category, priority=priority, status=status, channel=rng.choice(list(CHANNEL_IDS)),
            assignee_id=rng.choice(agents).id if status is not TicketStatus.NEW else None,
            order_id=order.id if order else None, sla_due_at=created + SLA[priority],
            created_at=created, updated_at=created,
            solved_at=created + timedelta(hours=rng.randint(1, 48)) if status in DONE else None,
        )  # fmt: skip
        ticket.comments.append(
            TicketComment(author_kind=ActorKind.AGENT, author_agent_id=ticket.assignee_id,
                          body="Looking into it.", is_public=True, created_at=created + timedelta(hours=1))
        )  # fmt: skip
        session.add(ticket)
    await session.flush()
