"""Business rules for customers: one record per person, whatever channel they write on."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from crm_backend.audit.service import diff, record
from crm_backend.auth.principal import Principal
from crm_backend.conversations import repository as conversations
from crm_backend.core.enums import Channel
from crm_backend.core.errors import Conflict, NotFound
from crm_backend.core.types import utcnow
from crm_backend.customers import repository
from crm_backend.customers.models import (
    Customer,
    CustomerAddress,
    CustomerEmail,
    CustomerIdentity,
    CustomerTag,
)
from crm_backend.customers.schemas import (
    AddressIn,
    CustomerCreate,
    CustomerRead,
    CustomerUpdate,
    IdentityIn,
    ResolveRequest,
)


class CustomerNotFound(NotFound):
    error = "customer_not_found"


class CustomerEmailTaken(Conflict):
    error = "customer_email_taken"


class IdentityTaken(Conflict):
    error = "identity_taken"


class CustomerErased(Conflict):
    error = "customer_erased"


def to_read(customer: Customer) -> CustomerRead:
    """The API view of a fully loaded customer."""
    return CustomerRead.model_validate(
        {
            **{c: getattr(customer, c) for c in CustomerRead.model_fields if c not in ("emails", "tags")},
            "emails": [e.email for e in customer.emails],
            "tags": [t.tag for t in customer.tags],
        }
    )


async def get_customer(session: AsyncSession, customer_id: int, *, refresh: bool = False) -> Customer:
    """The customer (fully loaded; `refresh` re-reads rows already in the session), or 404."""
    customer = await repository.get(session, customer_id, refresh=refresh)
    if customer is None:
        raise CustomerNotFound(f"No customer with id {customer_id}.")
    return customer


async def _live_customer(session: AsyncSession, customer_id: int) -> Customer:
    customer = await get_customer(session, customer_id)
    if customer.erased_at is not None:
        raise CustomerErased(f"Customer {customer_id} was erased; their record cannot change.")
    return customer


async def _claim_email(session: AsyncSession, customer: Customer, email: str) -> None:
    email = email.lower()
    owner = await repository.email_owner_id(session, email)
    if owner is not None and owner != customer.id:
        raise CustomerEmailTaken(f"{email} belongs to customer {owner}; merge the two records instead.")
    if owner is None:
        customer.emails.append(CustomerEmail(email=email))


async def _claim_identity(session: AsyncSession, customer: Customer, identity: IdentityIn) -> None:
    owner = await repository.identity_owner_id(session, identity.channel, identity.external_id)
    if owner is not None and owner != customer.id:
        raise IdentityTaken(f"That {identity.channel.value} identity belongs to customer {owner}.")
    if owner is None:
        customer.identities.append(
            CustomerIdentity(channel=identity.channel, external_id=identity.external_id)
        )


async def _link_conversations(session: AsyncSession, customer_id: int, identity: IdentityIn) -> None:
    # The identity's conversation so far (a Rasa sender id is the channel identity)
    # belongs to the customer too; later ones are linked when they are created.
    await conversations.link_sender(
        session, channel=identity.channel, sender_id=identity.external_id, customer_id=customer_id
    )


def _set_phone(customer: Customer, phone: str | None) -> None:
    customer.phone = phone
    customer.phone_digits = repository.phone_digits(phone)


def _set_consent(customer: Customer, consent: bool) -> None:
    # The time of consent is what a regulator asks for.
    if consent != customer.marketing_consent:
        customer.marketing_consent = consent
        customer.marketing_consent_at = utcnow() if consent else None


async def create_customer(session: AsyncSession, *, data: CustomerCreate, actor: Principal) -> Customer:
    """A new customer with their emails, addresses, channel identities and tags."""
    customer = Customer(
        full_name=data.full_name,
        email=str(data.email).lower() if data.email else None,
        preferred_channel=data.preferred_channel,
        language=data.language,
        emails=[],
        identities=[],
        addresses=[CustomerAddress(**a.model_dump()) for a in data.addresses],
        tags=[CustomerTag(tag=t) for t in dict.fromkeys(data.tags)],
    )
    _set_phone(customer, data.phone)
    _set_consent(customer, data.marketing_consent)
    session.add(customer)
    if customer.email:
        await _claim_email(session, customer, customer.email)
    for identity in data.identities:
        await _claim_identity(session, customer, identity)
    await session.flush()
    for identity in data.identities:
        await _link_conversations(session, customer.id, identity)
    await record(
        session, actor=actor, action="customer.create", entity_type="customer", entity_id=customer.id
    )
    return await get_customer(session, customer.id)


async def update_customer(
    session: AsyncSession, *, customer_id: int, data: CustomerUpdate, actor: Principal
) -> Customer:
    """Change contact details and preferences; a new email becomes the primary one."""
    customer = await _live_customer(session, customer_id)
    fields = ("full_name", "email", "phone", "preferred_channel", "language", "marketing_consent")
    before = {f: getattr(customer, f) for f in fields} | {"tags": [t.tag for t in customer.tags]}
    if data.full_name is not None:
        customer.full_name = data.full_name
    if data.email is not None:
        await _claim_email(session, customer, str(data.email))
        customer.email = str(data.email).lower()
    if data.phone is not None:
        _set_phone(customer, data.phone)
    if data.preferred_channel is not None:
        customer.preferred_channel = data.preferred_channel
    if data.language is not None:
        customer.language = data.language
    if data.marketing_consent is not None:
        _set_consent(customer, data.marketing_consent)
    if data.tags is not None:
        customer.tags = [CustomerTag(tag=t) for t in dict.fromkeys(data.tags)]
    await session.flush()
    after = {f: getattr(customer, f) for f in fields} | {
        "tags": list(dict.fromkeys(data.tags or before["tags"]))
    }
    changes = {k: {"from": str(v["from"]), "to": str(v["to"])} for k, v in diff(before, after).items()}
    await record(
        session,
        actor=actor,
        action="customer.update",
        entity_type="customer",
        entity_id=customer.id,
        changes=changes,
    )
    return await get_customer(session, customer.id)


async def add_email(session: AsyncSession, *, customer_id: int, email: str, actor: Principal) -> Customer:
    """Attach another email address to the customer."""
    customer = await _live_customer(session, customer_id)
    await _claim_email(session, customer, email)
    customer.email = customer.email or email.lower()
    await session.flush()
    await record(
        session, actor=actor, action="customer.add_email", entity_type="customer", entity_id=customer.id
    )
    return customer


async def add_address(
    session: AsyncSession, *, customer_id: int, address: AddressIn, actor: Principal
) -> Customer:
    """Add a postal address; a new default replaces the old default."""
    customer = await _live_customer(session, customer_id)
    if address.is_default:
        for existing in customer.addresses:
            existing.is_default = False
    customer.addresses.append(CustomerAddress(**address.model_dump()))
    await session.flush()
    await record(
        session, actor=actor, action="customer.add_address", entity_type="customer", entity_id=customer.id
    )
    return customer


async def add_identity(
    session: AsyncSession, *, customer_id: int, identity: IdentityIn, actor: Principal
) -> Customer:
    """Link a channel identity (e.g. a Messenger PSID) to the customer."""
    customer = await _live_customer(session, customer_id)
    await _claim_identity(session, customer, identity)
    await session.flush()
    await _link_conversations(session, customer.id, identity)
    await record(
        session, actor=actor, action="customer.add_identity", entity_type="customer", entity_id=customer.id,
        changes={"channel": identity.channel.value},
    )  # fmt: skip
    return customer


async def resolve_customer(
    session: AsyncSession, *, data: ResolveRequest, actor: Principal
) -> tuple[Customer, bool, str | None]:
    """Find the customer behind a channel identity, by that identity or by email; else create one.

    This is how a customer who wrote on Messenger and later in the widget with the same
    email ends up as one record holding both identities.

    The bot calls this for every conversation, so it works on the customer's row and a few
    targeted statements, never the whole record: a customer who chatted from many browser
    sessions holds one web identity per session, and loading them all made each call slower.
    """
    identity = IdentityIn(channel=data.channel, external_id=data.external_id)
    if data.customer_id is not None:
        customer, matched_by = await _live_row(session, data.customer_id), "customer_id"
    elif (owner := await repository.identity_owner_id(session, data.channel, data.external_id)) is not None:
        customer, matched_by = await _live_row(session, owner), "identity"
    else:
        found = await _by_email(session, data)
        if found is not None and not data.email_proven:
            # Anyone can type anyone's email into a chat. It says where to send the answer,
            # but attaching this chat to that customer would show a stranger's words as theirs
            # in the console, and hand the stranger their record on the next visit.
            return found, False, "email_unproven"
        if found is None:
            return await _create_for(session, data, identity, actor), True, None
        customer, matched_by = found, "email"
    if await _attach_identity(session, customer, identity):
        await record(
            session, actor=actor, action="customer.link_identity", entity_type="customer",
            entity_id=customer.id, changes={"channel": data.channel.value, "matched_by": matched_by},
        )  # fmt: skip
    await _seen_again(session, customer, data)
    await _link_conversations(session, customer.id, identity)
    return customer, False, matched_by


async def _live_row(session: AsyncSession, customer_id: int) -> Customer:
    customer = await repository.get_row(session, customer_id)
    if customer is None:
        raise CustomerNotFound(f"No customer with id {customer_id}.")
    if customer.erased_at is not None:
        raise CustomerErased(f"Customer {customer_id} was erased; their record cannot change.")
    return customer


async def _by_email(session: AsyncSession, data: ResolveRequest) -> Customer | None:
    """The live customer holding the request's email, if it gives one."""
    owner = await repository.email_owner_id(session, str(data.email)) if data.email else None
    customer = await repository.get_row(session, owner) if owner is not None else None
    return customer if customer is not None and customer.erased_at is None else None


async def _create_for(
    session: AsyncSession, data: ResolveRequest, identity: IdentityIn, actor: Principal
) -> Customer:
    return await create_customer(
        session,
        data=CustomerCreate(
            full_name=data.full_name or "Unknown customer",
            email=data.email,
            phone=data.phone,
            preferred_channel=data.channel if data.channel is not Channel.API else None,
            identities=[identity],
        ),
        actor=actor,
    )


async def _attach_identity(session: AsyncSession, customer: Customer, identity: IdentityIn) -> bool:
    """Give the identity to the customer; whether it is new (IdentityTaken if another's)."""
    owner = await repository.identity_owner_id(session, identity.channel, identity.external_id)
    if owner is not None and owner != customer.id:
        raise IdentityTaken(f"That {identity.channel.value} identity belongs to customer {owner}.")
    if owner is not None:
        return False
    session.add(
        CustomerIdentity(customer_id=customer.id, channel=identity.channel, external_id=identity.external_id)
    )
    await session.flush()
    return True


async def _seen_again(session: AsyncSession, customer: Customer, data: ResolveRequest) -> None:
    """Note when the identity was last seen; keep an email they gave if nobody holds it yet."""
    await repository.touch_identity(session, data.channel, data.external_id, at=utcnow())
    email = str(data.email).lower() if data.email else None
    if email and await repository.email_owner_id(session, email) is None:
        session.add(CustomerEmail(customer_id=customer.id, email=email))
        customer.email = customer.email or email
    await session.flush()
