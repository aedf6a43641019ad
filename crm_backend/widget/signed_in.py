"""Customers signed in on the shop's website: their widget chats belong to their CRM record.

The widget sends the shop's signed token (actions/identity.py describes it) with every
message, and Rasa's event stream carries it to the CRM. The bot uses it to skip order
verification; here it attaches the chat's web identity to the customer and links the
conversation, so agents see who they talk to and the customer's history on every channel.
"""

from __future__ import annotations

import logging

import jwt
from sqlalchemy.ext.asyncio import AsyncSession

from crm_backend.auth.principal import Principal
from crm_backend.conversations import repository as conversations
from crm_backend.core.enums import ActorKind, Channel
from crm_backend.customers import service as customers
from crm_backend.customers.schemas import ResolveRequest

logger = logging.getLogger(__name__)

# The same rules as the action server's (actions/identity.py): a key shorter than HS256's
# 32 bytes is guessable, a token is a few hundred bytes, clocks may differ by seconds.
MIN_SECRET_LENGTH = 32
MAX_TOKEN_LENGTH = 4096
CLOCK_SKEW_SECONDS = 10


def customer_from_token(token: object, secret: str) -> int | None:
    """The CRM customer id a valid widget token names; None for anything else."""
    if (
        len(secret) < MIN_SECRET_LENGTH
        or not isinstance(token, str)
        or not 0 < len(token) <= MAX_TOKEN_LENGTH
    ):
        return None
    try:
        claims = jwt.decode(
            token,
            secret,
            algorithms=["HS256"],
            options={"require": ["exp", "sub"]},
            leeway=CLOCK_SKEW_SECONDS,
        )
    except jwt.InvalidTokenError as error:
        logger.info("ignoring a widget token: %s", error)
        return None
    subject = claims.get("sub")
    if not isinstance(subject, str) or not subject.isdigit() or not 0 < int(subject) < 2**31:
        return None
    return int(subject)


async def attach_signed_in_customer(
    session: AsyncSession, *, sender_id: str, token: str, secret: str
) -> bool:
    """Give the chat's web identity and conversation to the token's customer; whether it changed.

    Nothing happens for an invalid token, a conversation already theirs (every later message),
    a conversation an agent or a verification linked to someone else, or a chat identity that
    another customer holds (a shared computer): those are logged, never an error.
    """
    customer_id = customer_from_token(token, secret)
    if customer_id is None:
        return False
    conversation = await conversations.get_by_sender(session, sender_id)
    if conversation is not None and conversation.customer_id is not None:
        return False
    actor = Principal(kind=ActorKind.CUSTOMER, id=f"web:{sender_id}"[:100])
    request = ResolveRequest(channel=Channel.WEB, external_id=sender_id, customer_id=customer_id)
    try:
        async with session.begin_nested():
            await customers.resolve_customer(session, data=request, actor=actor)
    except (customers.CustomerNotFound, customers.CustomerErased, customers.IdentityTaken) as refused:
        logger.info("widget chat %s not attached to customer %s: %s", sender_id, customer_id, refused)
        return False
    return True
