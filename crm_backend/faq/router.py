"""HTTP routes for FAQ articles (search and import arrive with the FAQ issue)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status

from crm_backend.auth.dependencies import AdminDep, CallerDep
from crm_backend.core.dependencies import SessionDep
from crm_backend.core.pagination import Page, PageDep, paginate
from crm_backend.faq import repository, service
from crm_backend.faq.schemas import ArticleCreate, ArticleRead, ArticleUpdate

router = APIRouter(prefix="/api/faq", tags=["faq"])


@router.get("/articles", response_model=Page[ArticleRead])
async def list_articles(
    session: SessionDep,
    page: PageDep,
    _caller: CallerDep,
    active: bool | None = True,
    tag: Annotated[str | None, Query(max_length=40)] = None,
    q: Annotated[str | None, Query(max_length=200)] = None,
) -> Page[ArticleRead]:
    """Articles by id; filter by state (active by default), tag or text."""
    statement = repository.filtered(active=active, q=q)
    if not tag:
        return await paginate(session, statement, page, ArticleRead)
    # Tags are a JSON list, queried differently by each database: filter in Python.
    matching = [a for a in (await session.scalars(statement)).all() if repository.has_tag(a, tag)]
    window = matching[page.offset : page.offset + page.limit]
    return Page(
        items=[ArticleRead.model_validate(a) for a in window],
        total=len(matching),
        limit=page.limit,
        offset=page.offset,
    )


@router.get("/articles/{article_id}", response_model=ArticleRead)
async def get_article(article_id: str, session: SessionDep, _caller: CallerDep) -> ArticleRead:
    """One article, active or retired."""
    return ArticleRead.model_validate(await service.get_article(session, article_id))


@router.post("/articles", response_model=ArticleRead, status_code=status.HTTP_201_CREATED)
async def create_article(payload: ArticleCreate, session: SessionDep, admin: AdminDep) -> ArticleRead:
    """Add an article (admins only); no retraining of the bot is needed."""
    return ArticleRead.model_validate(await service.create_article(session, data=payload, actor=admin))


@router.patch("/articles/{article_id}", response_model=ArticleRead)
async def update_article(
    article_id: str, payload: ArticleUpdate, session: SessionDep, admin: AdminDep
) -> ArticleRead:
    """Edit, retire (is_active=false) or restore an article (admins only)."""
    return ArticleRead.model_validate(
        await service.update_article(session, article_id=article_id, data=payload, actor=admin)
    )


@router.delete("/articles/{article_id}", response_model=ArticleRead)
async def retire_article(article_id: str, session: SessionDep, admin: AdminDep) -> ArticleRead:
    """Retire an article: out of search, still on record (admins only)."""
    return ArticleRead.model_validate(
        await service.retire_article(session, article_id=article_id, actor=admin)
    )
