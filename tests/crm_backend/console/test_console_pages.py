"""The console page and its files are served by the CRM, locked down by a content policy."""

from __future__ import annotations

import pytest

from crm_backend.console.router import STATIC_DIR


async def test_console_page_is_served_with_a_strict_content_policy(anonymous_client):
    for path in ("/console", "/console/"):
        response = await anonymous_client.get(path)

        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/html")
        policy = response.headers["content-security-policy"]
        assert "script-src 'self'" in policy
        assert "unsafe-inline" not in policy
        assert 'id="login-form"' in response.text


@pytest.mark.parametrize(
    ("name", "media_type"),
    [("app.js", "text/javascript"), ("dom.js", "text/javascript"), ("console.css", "text/css")],
)
async def test_console_files_are_served_with_their_media_type(anonymous_client, name, media_type):
    response = await anonymous_client.get(f"/console/static/{name}")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith(media_type)
    assert response.headers["x-content-type-options"] == "nosniff"


@pytest.mark.parametrize("name", ["index.html", "missing.js", "..%2Frouter.py", "%2e%2e%2f__init__.py"])
async def test_only_the_consoles_own_files_are_served(anonymous_client, name):
    response = await anonymous_client.get(f"/console/static/{name}")

    assert response.status_code == 404
    assert response.json()["error"] in ("console_asset_not_found", "not_found")


def test_the_console_never_writes_markup_from_data():
    """Customer text must reach the page as text: no innerHTML/outerHTML/insertAdjacentHTML."""
    for script in STATIC_DIR.glob("*.js"):
        source = script.read_text(encoding="utf-8")
        for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("):
            assert sink not in source, f"{script.name} uses {sink}"
