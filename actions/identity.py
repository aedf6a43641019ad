"""Customers signed in on the shop's website: the widget passes a signed token with each message.

The shop signs a JWT (HS256, shared secret WIDGET_TOKEN_SECRET) whose `sub` is the CRM
customer id; the widget sends it as `customer_token` in every message's metadata. A token
that is missing, malformed, forged or expired is ignored, and the customer verifies as usual.
"""

from __future__ import annotations

import logging
import os
from typing import Any

import jwt
from rasa_sdk.interfaces import Tracker

logger = logging.getLogger(__name__)

# Names, not secrets: the metadata key the widget uses and the variable holding the secret.
TOKEN_METADATA_KEY = "customer_token"  # noqa: S105
SECRET_VARIABLE = "WIDGET_TOKEN_SECRET"  # noqa: S105
# HS256 wants at least 32 bytes of key (RFC 7518 §3.2); a shorter secret is guessable.
MIN_SECRET_LENGTH = 32
# A JWT with a customer id and an expiry is a few hundred bytes; refuse to parse novels.
MAX_TOKEN_LENGTH = 4096
# Tolerated difference between the shop's clock and ours.
CLOCK_SKEW_SECONDS = 10


def token_secret() -> str | None:
    """The shared secret, or None when tokens are off (unset, or too short to be safe)."""
    secret = os.environ.get(SECRET_VARIABLE, "")
    if not secret:
        return None
    if len(secret) < MIN_SECRET_LENGTH:
        logger.warning(
            "%s is shorter than %d characters: signed tokens are ignored", SECRET_VARIABLE, MIN_SECRET_LENGTH
        )
        return None
    return secret


def customer_from_token(token: object, secret: str | None) -> int | None:
    """The CRM customer id a valid token names, else None."""
    if secret is None or not isinstance(token, str) or not token or len(token) > MAX_TOKEN_LENGTH:
        return None
    try:
        claims = jwt.decode(
            token,
            secret,
            algorithms=["HS256"],
            options={"require": ["exp", "sub"]},
            leeway=CLOCK_SKEW_SECONDS,
        )
    except jwt.InvalidTokenError as exc:
        logger.info("ignoring a customer token: %s", exc)
        return None
    subject = claims.get("sub")
    if not isinstance(subject, str) or not subject.isdigit() or int(subject) <= 0:
        logger.info("ignoring a customer token whose subject is not a customer id")
        return None
    return int(subject)


def latest_token(tracker: Tracker) -> object:
    """The token the customer's latest message carried, if any."""
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            metadata: Any = event.get("metadata") or {}
            return metadata.get(TOKEN_METADATA_KEY) if isinstance(metadata, dict) else None
    return None


def token_customer_id(tracker: Tracker) -> int | None:
    """The customer the website vouches for in this conversation's latest message, if any."""
    return customer_from_token(latest_token(tracker), token_secret())
