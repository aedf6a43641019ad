"""HTTP routes for FAQ articles: admin CRUD, import/export and the semantic search."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request, Response, status
from fastapi.responses import JSONResponse

from crm_backend.auth.dependencies import AdminDep, AgentDep, CallerDep
from crm_backend.core.dependencies import SessionDep
from crm_backend.core.pagination import Page, PageDep, paginate
from crm_backend.faq import imports, repository, service
from crm_backend.faq.schemas import (
    ArticleCreate,
    ArticleImport,
    ArticleRead,
    ArticleUpdate,
    ImportResult,
    SearchHit,
    SearchResults,
)
from faq.search import LiveIndex

router = APIRouter(prefix="/api/faq", tags=["faq"])


def get_faq_index(request: Request) -> LiveIndex:
    """The app's live search index."""
    index: LiveIndex = request.app.state.faq_index
    return index


FaqIndexDep = Annotated[LiveIndex, Depends(get_faq_index)]

_IMPORT_BODY: dict[str, Any] = {
    "required": True,
    "content": {
        "application/json": {"schema": {"type": "array", "items": ArticleImport.model_json_schema()}},
        "text/csv": {
            "schema": {"type": "string"},
            "example": "id,question,answer,alternatives,tags\n"
            "shipping-times,How long does delivery take?,2-4 working days.,"
            "delivery time|when will it arrive,shipping\n",
        },
    },
}


@router.get("/search", response_model=SearchResults)
async def search(
    session: SessionDep,
    _caller: CallerDep,
    index: FaqIndexDep,
    q: Annotated[str, Query(min_length=1, max_length=500, description="The customer's question")],
    k: Annotated[int, Query(ge=1, le=20, description="How many results")] = 3,
) -> SearchResults:
    """Articles that answer a question, best first; `answered` says whether the best is confident."""
    result = await service.search(session, index=index, query=q, k=k)
    return SearchResults(
        results=[
            SearchHit(id=h.article.id, question=h.article.question, answer=h.article.answer, score=h.score)
            for h in result.hits
        ],
        answered=result.answered,
    )


@router.post("/import", response_model=ImportResult, openapi_extra={"requestBody": _IMPORT_BODY})
async def import_articles(
    request: Request, session: SessionDep, admin: AdminDep, index: FaqIndexDep
) -> ImportResult:
    """Create or update articles from a JSON list or CSV (admins only); all or nothing.

    Articles are searchable when the call returns. An existing id updates that article.
    CSV columns: id, question, answer, alternatives, tags; several values separated by "|".
    """
    rows = imports.parse(await request.body(), request.headers.get("content-type", ""))
    return await service.upsert_articles(session, articles=rows, actor=admin, index=index)


@router.get(
    "/export",
    response_model=list[ArticleImport],
    responses={200: {"content": {"text/csv": {"schema": {"type": "string"}}}}},
)
async def export_articles(
    session: SessionDep,
    _agent: AgentDep,
    export_format: Annotated[Literal["json", "csv"], Query(alias="format")] = "json",
) -> Response:
    """Every active article in the import format, as JSON or CSV (agents and admins)."""
    articles = await service.export_articles(session)
    if export_format == "csv":
        return Response(imports.to_csv(articles), media_type="text/csv; charset=utf-8")
    return JSONResponse([a.model_dump(mode="json") for a in articles])


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
async def create_article(
    payload: ArticleCreate, session: SessionDep, admin: AdminDep, index: FaqIndexDep
) -> ArticleRead:
    """Add an article (admins only); it is searchable when the call returns."""
    article = await service.create_article(session, data=payload, actor=admin, index=index)
    return ArticleRead.model_validate(article)


@router.patch("/articles/{article_id}", response_model=ArticleRead)
async def update_article(
    article_id: str, payload: ArticleUpdate, session: SessionDep, admin: AdminDep, index: FaqIndexDep
) -> ArticleRead:
    """Edit, retire (is_active=false) or restore an article (admins only); search follows at once."""
    return ArticleRead.model_validate(
        await service.update_article(session, article_id=article_id, data=payload, actor=admin, index=index)
    )


@router.delete("/articles/{article_id}", response_model=ArticleRead)
async def retire_article(
    article_id: str, session: SessionDep, admin: AdminDep, index: FaqIndexDep
) -> ArticleRead:
    """Retire an article: out of search, still on record (admins only)."""
    return ArticleRead.model_validate(
        await service.retire_article(session, article_id=article_id, actor=admin, index=index)
    )
