"""HTTP routes for customers, their identities, duplicates and privacy requests."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, status

from crm_backend.auth.dependencies import AdminDep, AgentDep, CallerDep
from crm_backend.auth.principal import Principal
from crm_backend.core.dependencies import SessionDep
from crm_backend.core.errors import DomainError
from crm_backend.core.pagination import Page, PageDep, paginate
from crm_backend.core.params import IdPath
from crm_backend.customers import merging, privacy, repository, service
from crm_backend.customers.schemas import (
    AddressIn,
    CustomerCreate,
    CustomerRead,
    CustomerSummary,
    CustomerUpdate,
    DuplicateCandidate,
    EmailAdd,
    IdentityIn,
    MergeRequest,
    ResolveRequest,
    ResolveResponse,
)

router = APIRouter(prefix="/api/customers", tags=["customers"])


class PrivacyForbidden(DomainError):
    status_code = 403
    error = "forbidden"


@router.get("", response_model=Page[CustomerSummary])
async def search_customers(
    session: SessionDep,
    page: PageDep,
    _caller: CallerDep,
    q: Annotated[str | None, Query(max_length=200, description="email, phone, name or order number")] = None,
    tag: Annotated[str | None, Query(max_length=40)] = None,
    include_merged: bool = False,
) -> Page[CustomerSummary]:
    """Find customers by email, phone, name or order number."""
    return await paginate(
        session, repository.search(q=q, tag=tag, include_merged=include_merged), page, CustomerSummary
    )


@router.post("", response_model=CustomerRead, status_code=status.HTTP_201_CREATED)
async def create_customer(payload: CustomerCreate, session: SessionDep, caller: CallerDep) -> CustomerRead:
    """Add a customer; each email and channel identity belongs to one customer only."""
    return service.to_read(await service.create_customer(session, data=payload, actor=caller))


@router.post("/resolve", response_model=ResolveResponse)
async def resolve_customer(
    payload: ResolveRequest, session: SessionDep, caller: CallerDep
) -> ResolveResponse:
    """The customer behind a channel identity: matched by that identity, then by email, else created."""
    customer, created, matched_by = await service.resolve_customer(session, data=payload, actor=caller)
    return ResolveResponse(
        customer=CustomerSummary.model_validate(customer), created=created, matched_by=matched_by
    )


@router.get("/{customer_id}", response_model=CustomerRead)
async def get_customer(customer_id: IdPath, session: SessionDep, _caller: CallerDep) -> CustomerRead:
    """A customer with emails, addresses, identities and tags."""
    return service.to_read(await service.get_customer(session, customer_id))


@router.patch("/{customer_id}", response_model=CustomerRead)
async def update_customer(
    customer_id: IdPath, payload: CustomerUpdate, session: SessionDep, caller: CallerDep
) -> CustomerRead:
    """Update contact details and preferences (audited)."""
    return service.to_read(
        await service.update_customer(session, customer_id=customer_id, data=payload, actor=caller)
    )


@router.post("/{customer_id}/emails", response_model=CustomerRead)
async def add_email(
    customer_id: IdPath, payload: EmailAdd, session: SessionDep, caller: CallerDep
) -> CustomerRead:
    """Attach another email address."""
    await service.add_email(session, customer_id=customer_id, email=str(payload.email), actor=caller)
    return service.to_read(await service.get_customer(session, customer_id, refresh=True))


@router.post("/{customer_id}/addresses", response_model=CustomerRead)
async def add_address(
    customer_id: IdPath, payload: AddressIn, session: SessionDep, caller: CallerDep
) -> CustomerRead:
    """Add a postal address."""
    await service.add_address(session, customer_id=customer_id, address=payload, actor=caller)
    return service.to_read(await service.get_customer(session, customer_id, refresh=True))


@router.post("/{customer_id}/identities", response_model=CustomerRead)
async def add_identity(
    customer_id: IdPath, payload: IdentityIn, session: SessionDep, caller: CallerDep
) -> CustomerRead:
    """Link a channel identity (web session, Messenger PSID, Telegram chat id, phone)."""
    await service.add_identity(session, customer_id=customer_id, identity=payload, actor=caller)
    return service.to_read(await service.get_customer(session, customer_id, refresh=True))


@router.get("/{customer_id}/duplicates", response_model=list[DuplicateCandidate])
async def find_duplicates(
    customer_id: IdPath, session: SessionDep, _agent: AgentDep
) -> list[DuplicateCandidate]:
    """Other records that are probably the same person (same name or phone)."""
    return await merging.find_duplicates(session, customer_id=customer_id)


@router.post("/{customer_id}/merge", response_model=CustomerRead)
async def merge_customers(
    customer_id: IdPath, payload: MergeRequest, session: SessionDep, agent: AgentDep
) -> CustomerRead:
    """Fold a duplicate into this customer (agents only; audited)."""
    merged = await merging.merge_customers(
        session, target_id=customer_id, duplicate_id=payload.duplicate_id, actor=agent
    )
    return service.to_read(merged)


def _privacy_caller(caller: Principal) -> Principal:
    # A privacy request comes from an admin, or through the service token from a
    # channel where the customer proved who they are.
    if not (caller.is_admin or caller.is_service):
        raise PrivacyForbidden("Privacy requests are for admins and the service token.")
    return caller


@router.get("/{customer_id}/export")
async def export_customer(customer_id: IdPath, session: SessionDep, caller: CallerDep) -> dict[str, Any]:
    """Everything held about the customer, as JSON (admins and service; audited)."""
    return await privacy.export_customer(session, customer_id=customer_id, actor=_privacy_caller(caller))


@router.post("/{customer_id}/erase", response_model=dict[str, int])
async def erase_customer(customer_id: IdPath, session: SessionDep, admin: AdminDep) -> dict[str, int]:
    """Erase the customer's personal data; orders stay, anonymised, for accounting (admins; audited)."""
    return await privacy.erase_customer(session, customer_id=customer_id, actor=admin)
