"""Finding and merging duplicate customer records."""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from crm_backend.audit.service import record
from crm_backend.auth.principal import Principal
from crm_backend.conversations.models import Conversation
from crm_backend.core.errors import Conflict
from crm_backend.customers import repository
from crm_backend.customers.models import (
    Customer,
    CustomerAddress,
    CustomerEmail,
    CustomerIdentity,
    CustomerTag,
)
from crm_backend.customers.schemas import CustomerSummary, DuplicateCandidate
from crm_backend.customers.service import _live_customer, get_customer
from crm_backend.idempotency.models import IdempotencyRecord
from crm_backend.orders.models import Order
from crm_backend.tickets.models import Ticket

# Rows that simply change owner when two records become one.
_OWNED_ROWS = (
    CustomerEmail,
    CustomerIdentity,
    CustomerAddress,
    Order,
    Ticket,
    Conversation,
    IdempotencyRecord,
)


class CannotMerge(Conflict):
    error = "cannot_merge"


async def find_duplicates(session: AsyncSession, *, customer_id: int) -> list[DuplicateCandidate]:
    """Other customers who are probably the same person, with the reasons why."""
    customer = await get_customer(session, customer_id)
    candidates = (await session.scalars(repository.duplicates_of(customer))).all()
    result = []
    for other in candidates:
        reasons = []
        if other.full_name.lower() == customer.full_name.lower():
            reasons.append("same name")
        if (
            customer.phone_digits
            and other.phone_digits
            and other.phone_digits.endswith(customer.phone_digits[-9:])
        ):
            reasons.append("same phone")
        result.append(DuplicateCandidate(customer=CustomerSummary.model_validate(other), reasons=reasons))
    return result


async def merge_customers(
    session: AsyncSession, *, target_id: int, duplicate_id: int, actor: Principal
) -> Customer:
    """Fold `duplicate_id` into `target_id`: emails, identities, orders, tickets and conversations move over.

    The duplicate stays as an empty record pointing at the target, so old links resolve.
    """
    if target_id == duplicate_id:
        raise CannotMerge("A customer cannot be merged into itself.")
    target = await _live_customer(session, target_id)
    duplicate = await _live_customer(session, duplicate_id)
    if duplicate.merged_into_id is not None or target.merged_into_id is not None:
        raise CannotMerge("One of these customers was already merged into another.")

    target_tags = {t.tag for t in target.tags}
    new_tags = [t.tag for t in duplicate.tags if t.tag not in target_tags]
    filled = {
        "phone": target.phone or duplicate.phone,
        "phone_digits": target.phone_digits or duplicate.phone_digits,
        "preferred_channel": target.preferred_channel or duplicate.preferred_channel,
        "email": target.email or duplicate.email,
    }
    if any(a.is_default for a in target.addresses):
        # The target keeps its default address; the duplicate's become ordinary ones.
        await session.execute(
            update(CustomerAddress)
            .where(CustomerAddress.customer_id == duplicate_id)
            .values(is_default=False),
            execution_options={"synchronize_session": False},
        )
    for model in _OWNED_ROWS:
        await session.execute(
            update(model).where(model.customer_id == duplicate_id).values(customer_id=target_id),
            execution_options={"synchronize_session": False},
        )
    session.add_all(CustomerTag(customer_id=target_id, tag=tag) for tag in new_tags)
    await session.flush()
    # Bulk updates bypass the identity map: reload both records from the database.
    duplicate = await get_customer(session, duplicate_id, refresh=True)
    duplicate.tags = []
    duplicate.merged_into_id = target_id
    duplicate.email = None
    target = await get_customer(session, target_id, refresh=True)
    for field, value in filled.items():
        setattr(target, field, value)
    await session.flush()
    await record(
        session, actor=actor, action="customer.merge", entity_type="customer", entity_id=target_id,
        changes={"merged": duplicate_id},
    )  # fmt: skip
    return await get_customer(session, target_id)
