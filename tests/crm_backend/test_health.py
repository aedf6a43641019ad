"""GET /healthz, GET /livez and the API's documentation endpoints."""

from __future__ import annotations

from crm_backend.core.dependencies import get_session


async def test_healthz_reports_the_database(anonymous_client):
    response = await anonymous_client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}


async def test_livez_answers_without_credentials_or_database(anonymous_client, app):
    # A liveness probe must not depend on the database: make any session use fail.
    async def no_database():
        raise AssertionError("/livez opened a database session")
        yield

    app.dependency_overrides[get_session] = no_database

    response = await anonymous_client.get("/livez")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_openapi_document_and_docs_are_served(anonymous_client):
    spec = await anonymous_client.get("/openapi.json")
    docs = await anonymous_client.get("/docs")
    assert spec.status_code == 200
    assert "/api/orders/lookup" in spec.json()["paths"]
    assert docs.status_code == 200


async def test_unknown_route_is_a_json_404(anonymous_client):
    response = await anonymous_client.get("/api/nothing-here")
    assert response.status_code == 404
    assert response.json() == {"error": "not_found", "detail": "Not Found"}


async def test_nul_characters_are_refused_everywhere(client):
    in_body = await client.post(
        "/api/orders/lookup",
        content=b'{"order_number": "ORD-100001\\u0000", "email": "a@example.com"}',
        headers={"Content-Type": "application/json"},
    )
    in_query = await client.get("/api/customers", params={"q": "a\x00b"})
    in_path = await client.get("/api/orders/ORD%00-1")
    for response in (in_body, in_query, in_path):
        assert response.status_code == 422
        assert response.json() == {"error": "validation_error", "detail": "NUL characters are not allowed."}


async def test_escaped_backslash_before_u0000_is_not_a_nul(client):
    # "\\u0000" in JSON is a backslash followed by the text "u0000": harmless.
    response = await client.post(
        "/api/orders/lookup",
        content=b'{"order_number": "x\\\\u0000", "email": "a@example.com"}',
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 404


async def test_readyz_waits_for_the_faq_index(app, anonymous_client):
    index = app.state.faq_index
    assert not index.loaded

    building = await anonymous_client.get("/readyz")
    index.publish(index.snapshot)  # what the start-up build does when it is done
    ready = await anonymous_client.get("/readyz")

    assert building.status_code == 503
    assert building.json()["faq_index"] == "building"
    assert building.json()["database"] == "ok"
    assert ready.status_code == 200
    assert ready.json() == {"status": "ok", "database": "ok", "faq_index": "ready", "faq_articles": 0}
