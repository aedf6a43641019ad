"""A real CRM for the FAQ evaluation: a temporary SQLite database, the demo seed, uvicorn, HTTP.

The database is made the way an operator makes one (`python -m crm_backend migrate`, then
`seed`, which also loads faq/articles), the server is uvicorn in its own process group (see
bench/server.py), and every FAQ operation goes through the public API as the demo admin.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from bench import server
from bench.report import REPO_ROOT

ADMIN_EMAIL, ADMIN_PASSWORD = "admin@example.com", "admin-demo-password"  # the demo seed's
# The first search waits for the start-up build: loading the model and encoding the KB.
FIRST_SEARCH_TIMEOUT = 300.0
PAGE = 200


class CrmError(Exception):
    """The CRM could not be prepared; the message ends with the command's output."""


@dataclass(frozen=True, slots=True)
class HttpSearch:
    """One `GET /api/faq/search` answer and how long it took."""

    ids: tuple[str, ...]
    best_score: float
    answered: bool
    milliseconds: float


class CrmFaq:
    """The FAQ endpoints of a running CRM, called as the demo admin."""

    def __init__(self, client: httpx.Client) -> None:
        self._client = client

    def search(self, text: str, k: int) -> HttpSearch:
        """Search over HTTP, timed from request to parsed body."""
        started = time.perf_counter()
        response = self._client.get("/api/faq/search", params={"q": text, "k": k})
        response.raise_for_status()
        body = response.json()
        milliseconds = (time.perf_counter() - started) * 1000
        results = body["results"]
        return HttpSearch(
            ids=tuple(r["id"] for r in results),
            best_score=float(results[0]["score"]) if results else float("-inf"),
            answered=bool(body["answered"]),
            milliseconds=milliseconds,
        )

    def livez(self) -> float:
        """Milliseconds of one `GET /livez`: the baseline for the search's HTTP latency."""
        started = time.perf_counter()
        self._client.get("/livez").raise_for_status()
        return (time.perf_counter() - started) * 1000

    def active_ids(self) -> list[str]:
        """Ids of every active article."""
        ids: list[str] = []
        while True:
            response = self._client.get("/api/faq/articles", params={"limit": PAGE, "offset": len(ids)})
            response.raise_for_status()
            page = [item["id"] for item in response.json()["items"]]
            ids += page
            if len(page) < PAGE:
                return ids

    def retire(self, ids: Sequence[str]) -> None:
        """Take these articles out of search (`DELETE` retires; the rows stay on record)."""
        for article_id in ids:
            self._client.delete(f"/api/faq/articles/{article_id}").raise_for_status()

    def import_articles(self, articles: Sequence[Mapping[str, Any]]) -> dict[str, list[str]]:
        """`POST /api/faq/import` with a JSON list; returns created/updated/unchanged ids."""
        response = self._client.post("/api/faq/import", json=list(articles))
        response.raise_for_status()
        result: dict[str, list[str]] = response.json()
        return result

    def export(self) -> list[dict[str, Any]]:
        """Every active article in the import format."""
        response = self._client.get("/api/faq/export")
        response.raise_for_status()
        articles: list[dict[str, Any]] = response.json()
        return articles


def _crm_command(command: str, env: Mapping[str, str]) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "crm_backend", command],
        cwd=REPO_ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode:
        raise CrmError(f"`python -m crm_backend {command}` failed:\n{done.stdout}{done.stderr}")


def _login(client: httpx.Client) -> str:
    response = client.post("/api/auth/login", json={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD})
    response.raise_for_status()
    token: str = response.json()["access_token"]
    return token


@contextmanager
def running_crm(folder: Path) -> Iterator[CrmFaq]:
    """A seeded CRM (our 68 articles) on a fresh SQLite database in `folder`; stopped on exit."""
    env = {
        "CRM_ENVIRONMENT": "production",
        "CRM_DATABASE_URL": f"sqlite:///{folder / 'crm.db'}",
        "CRM_SERVICE_TOKEN": secrets.token_urlsafe(32),
        "CRM_SECRET_KEY": secrets.token_urlsafe(32),
        # Empty means "the default": the shipped ANSWER_THRESHOLD, whatever the caller's shell says.
        "CRM_FAQ_ANSWER_THRESHOLD": "",
    }
    _crm_command("migrate", env)
    _crm_command("seed", env)
    crm = server.serve(
        "crm_backend.main:create_app", env=env, workers=1, live_path="/livez", log=folder / "crm.log"
    )
    with crm as base, httpx.Client(base_url=base, timeout=FIRST_SEARCH_TIMEOUT) as client:
        client.headers["Authorization"] = f"Bearer {_login(client)}"
        yield CrmFaq(client)
