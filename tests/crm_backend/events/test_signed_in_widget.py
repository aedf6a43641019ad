"""A website customer signed in with the shop's token: their chat joins their CRM record.

The token rides in the metadata of each widget message on Rasa's event stream; the
consumer checks it with WIDGET_TOKEN_SECRET and attaches the web identity and conversation.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from redis.asyncio import Redis
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from crm_backend.audit.models import AuditEntry
from crm_backend.customers.models import CustomerIdentity
from crm_backend.widget.service import sign_customer_token
from crm_backend.widget.signed_in import customer_from_token
from tests.crm_backend.events.conftest import ConsumerFactory, StreamKeys, add_event, user_event
from tests.crm_backend.events.test_consumer import conversation_of, drain, new_sender
from tests.crm_backend.factories import make_customer

SECRET = "a-widget-secret-of-at-least-32-characters"


def token_for(
    customer_id: int, *, secret: str = SECRET, expires_in: timedelta = timedelta(minutes=10)
) -> str:
    return sign_customer_token(
        customer_id=customer_id, secret=secret, expires_at=datetime.now(UTC) + expires_in
    )


async def identities(session: AsyncSession, customer_id: int) -> set[tuple[str, str]]:
    rows = await session.scalars(select(CustomerIdentity).where(CustomerIdentity.customer_id == customer_id))
    return {(row.channel.value, row.external_id) for row in rows}


async def test_a_signed_in_widget_chat_is_linked_to_its_customer_with_the_web_identity(
    make_consumer: ConsumerFactory, redis_client: Redis, keys: StreamKeys, session: AsyncSession
):
    customer = await make_customer(session)
    await session.commit()
    sender = new_sender()
    metadata = {"customer_token": token_for(customer.id)}
    await add_event(redis_client, keys.stream, user_event(sender, "hi there", metadata=metadata))
    await add_event(redis_client, keys.stream, user_event(sender, "where is my parcel?", metadata=metadata))

    await drain(make_consumer(widget_token_secret=SECRET))

    conversation = await conversation_of(session, sender)
    assert conversation is not None
    assert conversation.customer_id == customer.id
    assert await identities(session, customer.id) == {("web", sender)}
    links = await session.scalars(
        select(AuditEntry).where(
            AuditEntry.action == "customer.link_identity", AuditEntry.entity_id == str(customer.id)
        )
    )
    assert [entry.actor_kind.value for entry in links] == ["customer"]


async def test_forged_expired_or_unconfigured_tokens_link_nothing(
    make_consumer: ConsumerFactory, redis_client: Redis, keys: StreamKeys, session: AsyncSession
):
    customer = await make_customer(session)
    await session.commit()
    senders = {
        "forged": token_for(customer.id, secret="another-secret-of-at-least-32-characters"),
        "expired": token_for(customer.id, expires_in=timedelta(minutes=-5)),
        "garbage": "not-a-jwt",
    }
    # A valid token while this CRM has no secret configured: first, with a consumer without one.
    await add_event(
        redis_client,
        keys.stream,
        user_event(new_sender(), "hi", metadata={"customer_token": token_for(customer.id)}),
    )
    await drain(make_consumer(widget_token_secret=""))
    for label, token in senders.items():
        await add_event(
            redis_client,
            keys.stream,
            user_event(f"{label}-{uuid.uuid4().hex[:8]}", "hi", metadata={"customer_token": token}),
        )
    await drain(make_consumer(widget_token_secret=SECRET))

    assert await identities(session, customer.id) == set()


async def test_a_token_on_a_messenger_event_or_a_chat_linked_to_someone_else_changes_nothing(
    make_consumer: ConsumerFactory, redis_client: Redis, keys: StreamKeys, session: AsyncSession
):
    customer, other = await make_customer(session), await make_customer(session)
    await session.commit()
    psid = new_sender()
    await add_event(
        redis_client, keys.stream,
        user_event(psid, "hi", input_channel="facebook", metadata={"customer_token": token_for(customer.id)}),
    )  # fmt: skip
    shared = new_sender()
    await add_event(
        redis_client, keys.stream, user_event(shared, "hi", metadata={"customer_token": token_for(other.id)})
    )
    await drain(make_consumer(widget_token_secret=SECRET))

    # The same browser session, later signed in as someone else: the chat stays the first one's.
    await add_event(
        redis_client,
        keys.stream,
        user_event(shared, "it's me now", metadata={"customer_token": token_for(customer.id)}),
    )
    await drain(make_consumer(widget_token_secret=SECRET))

    assert (await conversation_of(session, psid)).customer_id is None  # type: ignore[union-attr]
    assert (await conversation_of(session, shared)).customer_id == other.id  # type: ignore[union-attr]
    assert await identities(session, customer.id) == set()


@pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")
def test_token_checks_mirror_the_action_server():
    assert customer_from_token(token_for(42), SECRET) == 42
    assert customer_from_token(token_for(42, secret="short"), "short") is None  # too short a secret to trust
    assert customer_from_token("x" * 5000, SECRET) is None
    assert customer_from_token(None, SECRET) is None
    assert customer_from_token(token_for(0), SECRET) is None
