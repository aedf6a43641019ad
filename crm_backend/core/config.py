"""Typed settings for the CRM, read from CRM_* environment variables (and .env)."""

from __future__ import annotations

from enum import StrEnum
from functools import lru_cache
from pathlib import Path

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parents[2]

# Values shipped in .env.example. They are fine on a laptop and fatal in production,
# so outside development the settings refuse to load while any secret still has one.
PLACEHOLDER_SECRETS = frozenset(
    {"", "changeme", "dev-service-token", "dev-secret-key-change-me-in-production"}
)


# HS256 wants at least 32 bytes of key (RFC 7518 §3.2).
MIN_SECRET_LENGTH = 32


class Environment(StrEnum):
    DEVELOPMENT = "development"
    TEST = "test"
    PRODUCTION = "production"


class Settings(BaseSettings):
    """Everything the CRM needs to start; see .env.example for each variable."""

    # An empty variable (as .env.example leaves optional ones) means "use the default".
    model_config = SettingsConfigDict(
        env_prefix="CRM_", env_file=".env", env_file_encoding="utf-8", extra="ignore", env_ignore_empty=True
    )

    environment: Environment = Environment.DEVELOPMENT
    database_url: str = f"sqlite:///{REPO_ROOT / 'data' / 'crm.db'}"
    service_token: str = "dev-service-token"
    secret_key: str = "dev-secret-key-change-me-in-production"
    host: str = "127.0.0.1"
    port: int = 8000
    # Requests bigger than this are refused with 413 before they are parsed.
    max_body_bytes: int = Field(default=1_000_000, ge=1024)
    # Echo SQL statements; only useful when debugging queries.
    sql_echo: bool = False
    # The conversation pipeline (crm_backend/events/): Rasa's event stream in, live updates
    # out, both through this Redis. Unset: the consumer and /api/live are off (logged).
    redis_url: str | None = None
    # Must match the bot's stream: "<RASA_REDIS_KEY_PREFIX>:events" (bot/event_broker.py).
    event_stream: str = Field(default="shopbot:events", min_length=1)
    event_group: str = Field(default="crm", min_length=1)
    # This process's name in the group; default "<host>-<pid>". Give a stable name to let a
    # restarted process pick up its own unacknowledged entries by name.
    event_consumer_name: str | None = None
    # Run the stream consumer in this process (off for processes that only serve requests).
    consume_events: bool = True
    live_channel: str = Field(default="shopbot:live", min_length=1)
    # Rasa's HTTP API (run with --enable-api --auth-token): agent replies, hand-back, CSAT.
    rasa_url: str | None = None
    rasa_token: str | None = None
    rasa_timeout_seconds: float = Field(default=5.0, gt=0, le=60)
    # Stored responses to Idempotency-Key writes are kept this long, then forgotten (checked
    # every idempotency_prune_seconds): crm_backend/idempotency/retention.py says why.
    idempotency_retention_hours: float = Field(default=168, gt=0)
    idempotency_prune_seconds: float = Field(default=3600, gt=0)
    # FAQ search. The answer threshold defaults to the value calibrated by `make eval-faq`
    # (faq.search.ANSWER_THRESHOLD); set it only to override that calibration.
    faq_answer_threshold: float | None = Field(default=None, ge=0, le=1)
    # Build the search index (loading the model, encoding new articles) in the background at
    # start-up; otherwise the first search builds it.
    faq_index_on_startup: bool = True
    # The website widget (crm_backend/widget/): the Rasa URL the demo page's widget talks to
    # (as the browser sees it), the built script /widget.js serves, and the secret shared with
    # the action server that the development-only demo sign-in signs customer tokens with.
    public_rasa_url: str = "http://localhost:5005"
    widget_bundle: Path = REPO_ROOT / "widget" / "dist" / "widget.js"
    widget_token_secret: str = Field(default="", alias="WIDGET_TOKEN_SECRET")

    @model_validator(mode="after")
    def _refuse_placeholder_secrets(self) -> Settings:
        if self.environment is not Environment.DEVELOPMENT:
            weak = [
                name
                for name in ("service_token", "secret_key")
                if getattr(self, name) in PLACEHOLDER_SECRETS or len(getattr(self, name)) < MIN_SECRET_LENGTH
            ]
            if weak:
                names = ", ".join(f"CRM_{n.upper()}" for n in weak)
                raise ValueError(f"{names} must be set to a real secret outside development")
        return self

    @property
    def async_database_url(self) -> str:
        """The database URL with the async driver SQLAlchemy needs."""
        return to_async_url(self.database_url)


def to_async_url(url: str) -> str:
    """Map a plain sqlite:// or postgresql:// URL to its asyncio driver."""
    for plain, driver in (
        ("sqlite://", "sqlite+aiosqlite://"),
        ("postgresql://", "postgresql+asyncpg://"),
        ("postgres://", "postgresql+asyncpg://"),
        ("postgresql+psycopg://", "postgresql+asyncpg://"),
    ):
        if url.startswith(plain):
            return driver + url[len(plain) :]
    return url


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return Settings()
