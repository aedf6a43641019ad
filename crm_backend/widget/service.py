"""Serving the widget and signing demo customer tokens (the shop's job outside the demo)."""

from __future__ import annotations

import html
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlsplit

import jwt
from sqlalchemy.ext.asyncio import AsyncSession

from crm_backend.core.config import Environment, Settings
from crm_backend.core.errors import DomainError, NotFound
from crm_backend.customers import repository as customers
from crm_backend.demo.seed import DEMO_CUSTOMER_EMAIL
from crm_backend.widget.schemas import DemoTokenRead

STATIC_DIR = Path(__file__).resolve().parent / "static"
DEMO_TOKEN_LIFETIME = timedelta(hours=1)


class WidgetNotBuilt(DomainError):
    status_code = 503
    error = "widget_not_built"


class DevelopmentOnly(DomainError):
    status_code = 403
    error = "development_only"


class WidgetTokensOff(DomainError):
    status_code = 503
    error = "widget_tokens_off"


def widget_bundle(settings: Settings) -> Path:
    """The built widget.js, or WidgetNotBuilt."""
    path = settings.widget_bundle
    if not path.is_file():
        raise WidgetNotBuilt(f"{path.name} has not been built: run `make setup` (or `make widget`).")
    return path


@lru_cache(maxsize=4)
def _template(name: str) -> str:
    return (STATIC_DIR / name).read_text(encoding="utf-8")


def demo_script() -> str:
    """The demo page's own script (a file, so the page's CSP can forbid inline scripts)."""
    return _template("demo.js")


def demo_page(settings: Settings) -> str:
    """The demo shop page, its widget aimed at the Rasa URL the browser can reach."""
    return _template("demo.html").replace("{{RASA_URL}}", html.escape(settings.public_rasa_url, quote=True))


def demo_page_policy(settings: Settings) -> str:
    """A Content-Security-Policy allowing this origin and Rasa only: no outside assets load."""
    rasa = urlsplit(settings.public_rasa_url)
    socket_scheme = "wss" if rasa.scheme == "https" else "ws"
    rasa_sources = f"{rasa.scheme}://{rasa.netloc} {socket_scheme}://{rasa.netloc}"
    return (
        "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
        f"img-src 'self' data: https: http:; connect-src 'self' {rasa_sources}; "
        "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    )


def sign_customer_token(*, customer_id: int, secret: str, expires_at: datetime) -> str:
    """A widget token (HS256) naming the CRM customer, as the shop's website signs it."""
    return jwt.encode({"sub": str(customer_id), "exp": expires_at}, secret, algorithm="HS256")


async def issue_demo_token(session: AsyncSession, *, settings: Settings) -> DemoTokenRead:
    """Sign the demo customer in: a token for alice.martin@example.com, in development only."""
    if settings.environment is not Environment.DEVELOPMENT:
        raise DevelopmentOnly("The demo sign-in exists in development only.")
    if not settings.widget_token_secret:
        raise WidgetTokensOff("WIDGET_TOKEN_SECRET is not set, so no customer token can be signed.")
    customer = await customers.get_by_email(session, DEMO_CUSTOMER_EMAIL)
    if customer is None:
        raise NotFound(f"The demo customer {DEMO_CUSTOMER_EMAIL} is not in the database: run the demo seed.")
    expires_at = datetime.now(UTC).replace(microsecond=0) + DEMO_TOKEN_LIFETIME
    token = sign_customer_token(
        customer_id=customer.id, secret=settings.widget_token_secret, expires_at=expires_at
    )
    return DemoTokenRead(
        token=token,
        customer_id=customer.id,
        full_name=customer.full_name,
        email=customer.email or DEMO_CUSTOMER_EMAIL,
        expires_at=expires_at,
    )
