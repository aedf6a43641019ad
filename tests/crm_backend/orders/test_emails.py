"""The lookup's email fast path gives exactly what pydantic's EmailStr (email-validator) gives."""

from __future__ import annotations

from typing import Any

from hypothesis import example, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, EmailStr, Field, ValidationError

from crm_backend.orders.emails import _PLAIN, _is_plain
from crm_backend.orders.schemas import OwnershipProof


class _Reference(BaseModel):
    email: EmailStr | None = Field(default=None, max_length=320)


def _outcome(model: type[BaseModel], value: str) -> tuple[str, Any]:
    try:
        return "ok", model.model_validate({"email": value}).email  # type: ignore[attr-defined]
    except ValidationError as error:
        return "error", error.errors(include_url=False)


_ALPHABET = st.sampled_from([*"abcxyzABZ019._+-@ \"'<>()[]!#$%&*/=?^`{|}~\t\r\nàé€", "--", "xn--", ".."])
_NEAR = st.lists(_ALPHABET, max_size=40).map("".join)
_DOMAINS = st.sampled_from(
    [
        "example.com",
        "scale.example.org",
        "a.co",
        "x.test",
        "a.local",
        "b.localhost",
        "c.invalid",
        "d.arpa",
        "e.onion",
        "f.c0m",
        "EXAMPLE.com",
        "g-.com",
        "xn--bcher-kva.ch",
        "h.i",
        "1.2.3.4",
        "[1.2.3.4]",
    ]
)
_ASSEMBLED = st.builds(lambda local, domain: f"{local}@{domain}", _NEAR, _DOMAINS | _NEAR)


@settings(max_examples=3000, deadline=None)
@given(st.from_regex(_PLAIN, fullmatch=True) | st.emails() | _ASSEMBLED | _NEAR | st.text(max_size=80))
@example("a" * 64 + "@example.com")
@example("a" * 65 + "@example.com")
@example("a@" + "b" * 63 + ".com")
@example("a@" + "b" * 64 + ".com")
@example("vera.novak.58651@scale.example.org")
@example(" vera@example.com ")
@example("Vera <vera@example.com>")
def test_same_outcome_as_email_str(value: str) -> None:
    assert _outcome(OwnershipProof, value) == _outcome(_Reference, value)


def test_the_fast_path_takes_plain_addresses_and_only_those() -> None:
    assert _is_plain("vera.novak.58651@scale.example.org")
    assert _is_plain("A.B+c_d-e@sub.example.com")
    for value in [
        "a@Example.com",
        "a@x.test",
        "a@b.local",
        "a..b@x.com",
        "a@xn--bcher-kva.ch",
        " a@x.com",
        "a@x.c0m",
        "à@x.com",
        "a" * 65 + "@x.com",
        "a@" + "b" * 130 + ".com",
    ]:
        assert not _is_plain(value), value
