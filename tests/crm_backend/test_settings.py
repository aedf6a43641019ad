"""Typed settings refuse placeholder secrets outside development."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from crm_backend.core.config import Environment, Settings, to_async_url


def test_production_refuses_the_example_secrets(monkeypatch):
    monkeypatch.setenv("CRM_ENVIRONMENT", "production")
    monkeypatch.setenv("CRM_SERVICE_TOKEN", "dev-service-token")
    with pytest.raises(ValidationError, match="CRM_SERVICE_TOKEN"):
        Settings(_env_file=None)


def test_production_accepts_real_secrets():
    settings = Settings(
        _env_file=None,
        environment=Environment.PRODUCTION,
        service_token="s3rvice-token-with-entropy-0123456789",
        secret_key="an0ther-long-random-secret-0123456789",
    )
    assert settings.environment is Environment.PRODUCTION


def test_development_runs_on_the_example_defaults():
    assert Settings(_env_file=None).service_token == "dev-service-token"


@pytest.mark.parametrize(
    ("plain", "async_url"),
    [
        ("sqlite:///data/crm.db", "sqlite+aiosqlite:///data/crm.db"),
        ("postgresql://u@h/db", "postgresql+asyncpg://u@h/db"),
        ("postgres://u@h/db", "postgresql+asyncpg://u@h/db"),
        ("postgresql+asyncpg://u@h/db", "postgresql+asyncpg://u@h/db"),
    ],
)
def test_database_urls_get_their_async_driver(plain, async_url):
    assert to_async_url(plain) == async_url


def test_test_and_staging_environments_also_refuse_placeholders():
    with pytest.raises(ValidationError, match="outside development"):
        Settings(_env_file=None, environment=Environment.TEST)
