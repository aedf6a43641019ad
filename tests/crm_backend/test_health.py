"""GET /healthz and the API's documentation endpoints."""

from __future__ import annotations


async def test_healthz_reports_the_database(anonymous_client):
    response = await anonymous_client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}


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
