"""The widget's script, the demo shop page and the development-only demo sign-in."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from crm_backend.core.config import Environment, Settings
from crm_backend.demo.seed import DEMO_CUSTOMER_EMAIL
from tests.crm_backend.factories import make_customer

WIDGET_SECRET = "widget-secret-for-the-tests-0123456789"


def configure(app: FastAPI, **changes: Any) -> Settings:
    """Run the app with these settings changed (the routes read the app's settings)."""
    settings: Settings = app.state.settings.model_copy(update=changes)
    app.state.settings = settings
    return settings


@pytest.fixture
def bundle(tmp_path: Path) -> Path:
    path = tmp_path / "widget.js"
    path.write_text("(()=>{console.log('widget')})();\n")
    return path


async def test_the_built_widget_is_served_as_javascript(app, anonymous_client, bundle):
    configure(app, widget_bundle=bundle)

    response = await anonymous_client.get("/widget.js")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/javascript")
    assert response.text == bundle.read_text()
    # Revalidated on each load, so a rebuilt widget reaches customers at once.
    assert response.headers["cache-control"] == "no-cache"
    assert response.headers["etag"]


async def test_an_unbuilt_widget_is_a_clear_503(app, anonymous_client, tmp_path):
    configure(app, widget_bundle=tmp_path / "missing" / "widget.js")

    response = await anonymous_client.get("/widget.js")

    assert response.status_code == 503
    assert response.json()["error"] == "widget_not_built"
    assert "make setup" in response.json()["detail"]


async def test_the_demo_page_embeds_the_widget_aimed_at_rasa(app, anonymous_client):
    configure(app, public_rasa_url='http://rasa.example:5005/"><script>')

    response = await anonymous_client.get("/demo")

    assert response.status_code == 200
    page = response.text
    assert '<script src="/widget.js" data-server="http://rasa.example:5005/&quot;&gt;&lt;script&gt;"' in page
    assert "<script>" not in page.replace('<script src="/widget.js"', "").replace(
        '<script src="/demo/demo.js"', ""
    )
    # No outside assets: the page may load from itself and talk to Rasa, nothing else.
    policy = response.headers["content-security-policy"]
    assert "default-src 'none'" in policy
    assert "script-src 'self';" in policy
    assert "connect-src 'self' http://rasa.example:5005 ws://rasa.example:5005" in policy


async def test_the_demo_pages_script_is_served(anonymous_client):
    response = await anonymous_client.get("/demo/demo.js")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/javascript")
    assert "/demo/token" in response.text


async def test_the_demo_sign_in_signs_a_token_naming_alice(
    app, anonymous_client: httpx.AsyncClient, session: AsyncSession
):
    alice = await make_customer(session, full_name="Alice Martin", email=DEMO_CUSTOMER_EMAIL)
    configure(app, environment=Environment.DEVELOPMENT, widget_token_secret=WIDGET_SECRET)

    response = await anonymous_client.post("/demo/token")

    assert response.status_code == 200
    body = response.json()
    assert (body["customer_id"], body["full_name"], body["email"]) == (
        alice.id,
        "Alice Martin",
        DEMO_CUSTOMER_EMAIL,
    )
    claims = jwt.decode(body["token"], WIDGET_SECRET, algorithms=["HS256"])
    assert claims["sub"] == str(alice.id)
    expires = datetime.fromtimestamp(claims["exp"], UTC)
    assert timedelta(minutes=59) < expires - datetime.now(UTC) <= timedelta(hours=1)
    assert datetime.fromisoformat(body["expires_at"]) == expires


async def test_the_demo_sign_in_is_refused_outside_development(app, anonymous_client, session):
    await make_customer(session, email=DEMO_CUSTOMER_EMAIL)
    configure(app, environment=Environment.PRODUCTION, widget_token_secret=WIDGET_SECRET)

    response = await anonymous_client.post("/demo/token")

    assert response.status_code == 403
    assert response.json()["error"] == "development_only"


async def test_the_demo_sign_in_needs_the_shared_secret(app, anonymous_client, session):
    await make_customer(session, email=DEMO_CUSTOMER_EMAIL)
    configure(app, environment=Environment.DEVELOPMENT, widget_token_secret="")

    response = await anonymous_client.post("/demo/token")

    assert response.status_code == 503
    assert response.json()["error"] == "widget_tokens_off"


async def test_the_demo_sign_in_without_the_demo_customer_is_a_404(app, anonymous_client):
    configure(app, environment=Environment.DEVELOPMENT, widget_token_secret=WIDGET_SECRET)

    response = await anonymous_client.post("/demo/token")

    assert response.status_code == 404
    assert DEMO_CUSTOMER_EMAIL in response.json()["detail"]
