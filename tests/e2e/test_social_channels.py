"""Messenger, Telegram, WhatsApp (Twilio) and Slack: real webhook payloads in, the bot's reply out.

Each connector gets the payload its platform documents, signed the way the platform signs
it; the reply must reach the platform's API (a local fake, tests/e2e/fake_platforms.py) in
that API's format. A call with a bad signature is refused and leaves no trace in the
conversation (Rasa's tracker, read over its HTTP API).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest

from tests.e2e.conftest import RunningStack
from tests.e2e.fake_platforms import FACEBOOK, SLACK, TELEGRAM, TWILIO, FakePlatforms, PlatformCall

GREETING = "support assistant"  # in the bot's answer to "hello"
PAGE_ID = "104857600000001"


def rasa(stack: RunningStack) -> httpx.Client:
    """The platforms' side of Rasa: its webhooks, which take no API token."""
    return httpx.Client(base_url=stack.config.rasa_url, timeout=60)


def user_turns(stack: RunningStack, sender: str) -> list[str]:
    """What the customer said in this conversation, as Rasa's tracker has it."""
    with stack.rasa() as http:
        events = http.get(f"/conversations/{sender}/tracker").json()["events"]
    return [event.get("text") for event in events if event["event"] == "user"]


# --- Messenger ------------------------------------------------------------------------


def messenger_event(psid: str, text: str) -> bytes:
    """A page webhook event with one text message (Messenger Platform, webhook 'messages')."""
    now = int(time.time() * 1000)
    event = {
        "object": "page",
        "entry": [
            {
                "id": PAGE_ID,
                "time": now,
                "messaging": [
                    {
                        "sender": {"id": psid},
                        "recipient": {"id": PAGE_ID},
                        "timestamp": now,
                        "message": {"mid": f"m_{secrets.token_hex(16)}", "text": text},
                    }
                ],
            }
        ],
    }
    return json.dumps(event).encode()


def messenger_signature(body: bytes, secret: str = FACEBOOK["FACEBOOK_APP_SECRET"]) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def post_messenger(stack: RunningStack, body: bytes, signature: str | None) -> httpx.Response:
    headers = {"Content-Type": "application/json"}
    if signature is not None:
        headers["X-Hub-Signature-256"] = signature
    with rasa(stack) as http:
        return http.post("/webhooks/facebook/webhook", content=body, headers=headers)


def new_psid() -> str:
    return str(secrets.randbelow(10**15) + 10**15)


def to_psid(psid: str) -> Any:
    """Send API calls with a message (not a typing indicator) for this recipient."""
    return lambda c: (
        c.platform == "facebook" and "message" in c.json() and c.json()["recipient"]["id"] == psid
    )


def messenger_text(call: PlatformCall) -> str:
    message = call.json()["message"]
    return str(message.get("text") or message.get("attachment", {}).get("payload", {}).get("text", ""))


def test_messenger_message_is_answered_through_the_send_api(
    running_stack: RunningStack, platforms: FakePlatforms
):
    psid = new_psid()

    response = post_messenger(
        running_stack, body := messenger_event(psid, "hello"), messenger_signature(body)
    )

    assert response.status_code == 200
    [reply] = platforms.wait_for(to_psid(psid))
    assert reply.method == "POST"
    assert reply.path.endswith("/me/messages")
    assert reply.query["access_token"] == [FACEBOOK["FACEBOOK_PAGE_ACCESS_TOKEN"]]
    assert reply.json()["messaging_type"] == "RESPONSE"
    assert GREETING in messenger_text(reply)
    assert user_turns(running_stack, psid) == ["hello"]


def test_messenger_legacy_sha1_signature_is_accepted(running_stack: RunningStack, platforms: FakePlatforms):
    psid = new_psid()
    body = messenger_event(psid, "hello")
    sha1 = "sha1=" + hmac.new(FACEBOOK["FACEBOOK_APP_SECRET"].encode(), body, hashlib.sha1).hexdigest()

    with rasa(running_stack) as http:
        response = http.post(
            "/webhooks/facebook/webhook", content=body,
            headers={"Content-Type": "application/json", "X-Hub-Signature": sha1},
        )  # fmt: skip

    assert response.status_code == 200
    assert GREETING in messenger_text(platforms.wait_for(to_psid(psid))[0])


@pytest.mark.parametrize(
    "signature",
    [None, "sha256=" + "0" * 64, messenger_signature(b"another body"), "md5=abc", "sha256"],
    ids=["missing", "zeros", "other-body", "unknown-algorithm", "malformed"],
)
def test_messenger_bad_signature_is_refused_without_a_bot_turn(
    running_stack: RunningStack, platforms: FakePlatforms, signature: str | None
):
    psid = new_psid()

    response = post_messenger(running_stack, messenger_event(psid, "hello"), signature)

    assert response.status_code == 403
    assert response.json()["error"] == "invalid_signature"
    assert user_turns(running_stack, psid) == []
    assert platforms.matching(lambda c: c.platform == "facebook" and psid in c.body.decode()) == []


def test_messenger_signed_with_another_secret_is_refused(running_stack: RunningStack):
    psid = new_psid()
    body = messenger_event(psid, "hello")

    response = post_messenger(running_stack, body, messenger_signature(body, "not-the-app-secret"))

    assert response.status_code == 403
    assert user_turns(running_stack, psid) == []


def test_messenger_webhook_subscription_check(running_stack: RunningStack):
    params = {"hub.mode": "subscribe", "hub.challenge": "1158201444"}
    with rasa(running_stack) as http:
        good = http.get(
            "/webhooks/facebook/webhook",
            params={**params, "hub.verify_token": FACEBOOK["FACEBOOK_VERIFY_TOKEN"]},
        )
        bad = http.get("/webhooks/facebook/webhook", params={**params, "hub.verify_token": "guess"})

    assert (good.status_code, good.text) == (200, "1158201444")
    assert bad.status_code == 403
    assert bad.json()["error"] == "invalid_verify_token"


def test_messenger_signed_garbage_is_a_400(running_stack: RunningStack):
    body = b'{"object": "instagram", "entry": []}'

    response = post_messenger(running_stack, body, messenger_signature(body))

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_payload"


# --- Telegram -------------------------------------------------------------------------


def telegram_update(chat_id: int, text: str) -> dict[str, Any]:
    """A private-chat text message Update (Bot API, getUpdates / webhook)."""
    person = {"id": chat_id, "is_bot": False, "first_name": "Lena", "language_code": "en"}
    return {
        "update_id": secrets.randbelow(10**9),
        "message": {
            "message_id": secrets.randbelow(10**6),
            "from": person,
            "chat": {"id": chat_id, "first_name": "Lena", "type": "private"},
            "date": int(time.time()),
            "text": text,
        },
    }


def post_telegram(stack: RunningStack, update: dict[str, Any], secret: str | None) -> httpx.Response:
    headers = {} if secret is None else {"X-Telegram-Bot-Api-Secret-Token": secret}
    with rasa(stack) as http:
        return http.post("/webhooks/telegram/webhook", json=update, headers=headers)


def telegram_messages_to(platforms: FakePlatforms, chat_id: int) -> Any:
    token = TELEGRAM["TELEGRAM_ACCESS_TOKEN"]

    def matches(call: PlatformCall) -> bool:
        return (
            call.platform == "telegram"
            and call.path == f"/bot{token}/sendMessage"
            and platforms._fields(call).get("chat_id") in (chat_id, str(chat_id))
        )

    return matches


def test_telegram_message_is_answered_with_send_message(
    running_stack: RunningStack, platforms: FakePlatforms
):
    chat_id = secrets.randbelow(10**9) + 10**9

    response = post_telegram(
        running_stack, telegram_update(chat_id, "hello"), TELEGRAM["TELEGRAM_SECRET_TOKEN"]
    )

    assert response.status_code == 200
    [reply] = platforms.wait_for(telegram_messages_to(platforms, chat_id))
    assert GREETING in platforms._fields(reply)["text"]
    assert user_turns(running_stack, str(chat_id)) == ["hello"]


@pytest.mark.parametrize("secret", [None, "wrong-secret"], ids=["missing", "wrong"])
def test_telegram_update_without_the_secret_token_is_refused(
    running_stack: RunningStack, platforms: FakePlatforms, secret: str | None
):
    chat_id = secrets.randbelow(10**9) + 10**9

    response = post_telegram(running_stack, telegram_update(chat_id, "hello"), secret)

    assert response.status_code == 403
    assert response.json()["error"] == "invalid_signature"
    assert user_turns(running_stack, str(chat_id)) == []
    assert platforms.matching(telegram_messages_to(platforms, chat_id)) == []


# --- WhatsApp via Twilio --------------------------------------------------------------


def twilio_signature(url: str, params: dict[str, str], token: str = TWILIO["TWILIO_AUTH_TOKEN"]) -> str:
    """Twilio's X-Twilio-Signature: base64 HMAC-SHA1 of the URL followed by the sorted fields."""
    signed = url + "".join(name + params[name] for name in sorted(params))
    return base64.b64encode(hmac.new(token.encode(), signed.encode(), hashlib.sha1).digest()).decode()


def whatsapp_message(phone: str, text: str) -> dict[str, str]:
    """The form fields of an incoming WhatsApp message webhook (Twilio Programmable Messaging)."""
    return {
        "SmsMessageSid": f"SM{secrets.token_hex(16)}", "NumMedia": "0", "ProfileName": "Lena",
        "MessageType": "text", "SmsSid": f"SM{secrets.token_hex(16)}", "WaId": phone.lstrip("+"),
        "SmsStatus": "received", "Body": text, "To": TWILIO["TWILIO_WHATSAPP_NUMBER"], "NumSegments": "1",
        "ReferralNumMedia": "0", "MessageSid": f"SM{secrets.token_hex(16)}",
        "AccountSid": TWILIO["TWILIO_ACCOUNT_SID"], "From": f"whatsapp:{phone}", "ApiVersion": "2010-04-01",
    }  # fmt: skip


def post_twilio(stack: RunningStack, fields: dict[str, str], signature: str | None) -> httpx.Response:
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    if signature is not None:
        headers["X-Twilio-Signature"] = signature
    with rasa(stack) as http:
        return http.post("/webhooks/twilio/webhook", content=urlencode(fields), headers=headers)


def twilio_url(stack: RunningStack) -> str:
    return f"{stack.config.rasa_url}/webhooks/twilio/webhook"


def whatsapp_messages_to(phone: str) -> Any:
    path = f"/2010-04-01/Accounts/{TWILIO['TWILIO_ACCOUNT_SID']}/Messages.json"
    return lambda c: c.platform == "twilio" and c.path == path and c.form().get("To") == f"whatsapp:{phone}"


def test_whatsapp_message_is_answered_through_the_messages_api(
    running_stack: RunningStack, platforms: FakePlatforms
):
    phone = f"+1555{secrets.randbelow(10**7):07d}"
    fields = whatsapp_message(phone, "hello")

    response = post_twilio(running_stack, fields, twilio_signature(twilio_url(running_stack), fields))

    assert response.status_code == 204
    [reply] = platforms.wait_for(whatsapp_messages_to(phone))
    form = reply.form()
    assert form["From"] == TWILIO["TWILIO_WHATSAPP_NUMBER"]
    assert GREETING in form["Body"]
    credentials = base64.b64encode(f"{TWILIO['TWILIO_ACCOUNT_SID']}:{TWILIO['TWILIO_AUTH_TOKEN']}".encode())
    assert reply.headers["Authorization"] == f"Basic {credentials.decode()}"
    assert user_turns(running_stack, f"whatsapp:{phone}") == ["hello"]


@pytest.mark.parametrize("tamper", ["missing", "other-token", "changed-body"])
def test_whatsapp_bad_signature_is_refused_without_a_bot_turn(
    running_stack: RunningStack, platforms: FakePlatforms, tamper: str
):
    phone = f"+1555{secrets.randbelow(10**7):07d}"
    fields = whatsapp_message(phone, "hello")
    signature: str | None = {
        "missing": None,
        "other-token": twilio_signature(twilio_url(running_stack), fields, "not-the-auth-token"),
        "changed-body": twilio_signature(twilio_url(running_stack), {**fields, "Body": "hi"}),
    }[tamper]

    response = post_twilio(running_stack, fields, signature)

    assert response.status_code == 403
    assert response.json()["error"] == "invalid_signature"
    assert user_turns(running_stack, f"whatsapp:{phone}") == []
    assert platforms.matching(whatsapp_messages_to(phone)) == []


def test_whatsapp_photo_reaches_the_bot_as_its_url(running_stack: RunningStack):
    phone = f"+1555{secrets.randbelow(10**7):07d}"
    photo = (
        f"https://api.twilio.com/2010-04-01/Accounts/{TWILIO['TWILIO_ACCOUNT_SID']}/Messages/MM1/Media/ME1"
    )
    fields = {
        **whatsapp_message(phone, ""),
        "NumMedia": "1",
        "MediaContentType0": "image/jpeg",
        "MediaUrl0": photo,
    }

    response = post_twilio(running_stack, fields, twilio_signature(twilio_url(running_stack), fields))

    assert response.status_code == 204
    assert user_turns(running_stack, f"whatsapp:{phone}") == [photo]


def test_whatsapp_delivery_status_callback_is_no_turn(running_stack: RunningStack, platforms: FakePlatforms):
    phone = f"+1555{secrets.randbelow(10**7):07d}"
    fields = {
        "MessageSid": f"SM{secrets.token_hex(16)}", "MessageStatus": "delivered", "SmsStatus": "delivered",
        "AccountSid": TWILIO["TWILIO_ACCOUNT_SID"], "From": TWILIO["TWILIO_WHATSAPP_NUMBER"],
        "To": f"whatsapp:{phone}", "ChannelPrefix": "whatsapp", "ApiVersion": "2010-04-01",
    }  # fmt: skip

    response = post_twilio(running_stack, fields, twilio_signature(twilio_url(running_stack), fields))

    assert response.status_code == 204
    assert user_turns(running_stack, TWILIO["TWILIO_WHATSAPP_NUMBER"]) == []
    assert platforms.matching(whatsapp_messages_to(phone)) == []


# --- Slack ----------------------------------------------------------------------------


def slack_dm(user: str, channel: str, text: str) -> bytes:
    """An Events API `message.im` event_callback: the customer wrote to the app's DM."""
    ts = f"{time.time():.6f}"
    event = {
        "token": "verification-token-unused", "team_id": "T0FAKETEAM", "api_app_id": "A0FAKEAPP",
        "event": {
            "type": "message", "channel": channel, "user": user, "text": text, "ts": ts,
            "event_ts": ts, "channel_type": "im",
        },
        "type": "event_callback", "event_id": f"Ev{secrets.token_hex(5).upper()}", "event_time": int(time.time()),
        "authorizations": [{"team_id": "T0FAKETEAM", "user_id": "U0FAKEBOT", "is_bot": True}],
    }  # fmt: skip
    return json.dumps(event).encode()


def slack_headers(
    body: bytes, *, secret: str = SLACK["SLACK_SIGNING_SECRET"], age: int = 0
) -> dict[str, str]:
    timestamp = str(int(time.time()) - age)
    digest = hmac.new(secret.encode(), f"v0:{timestamp}:".encode() + body, hashlib.sha256).hexdigest()
    return {
        "Content-Type": "application/json",
        "X-Slack-Request-Timestamp": timestamp,
        "X-Slack-Signature": f"v0={digest}",
    }


def post_slack(stack: RunningStack, body: bytes, headers: dict[str, str]) -> httpx.Response:
    with rasa(stack) as http:
        return http.post("/webhooks/slack/webhook", content=body, headers=headers)


def slack_posts_to(channel: str) -> Any:
    return lambda c: (
        c.platform == "slack" and c.path == "/chat.postMessage" and c.json().get("channel") == channel
    )


def new_slack_ids() -> tuple[str, str]:
    suffix = secrets.token_hex(4).upper()
    return f"U0{suffix}", f"D0{suffix}"


def test_slack_dm_is_answered_with_chat_post_message(running_stack: RunningStack, platforms: FakePlatforms):
    user, channel = new_slack_ids()

    response = post_slack(running_stack, body := slack_dm(user, channel, "hello"), slack_headers(body))

    assert response.status_code == 200
    [reply] = platforms.wait_for(slack_posts_to(channel))
    assert reply.headers["Authorization"] == f"Bearer {SLACK['SLACK_BOT_TOKEN']}"
    assert GREETING in reply.json()["text"]
    assert user_turns(running_stack, user) == ["hello"]


@pytest.mark.parametrize("tamper", ["missing", "other-secret", "stale-timestamp"])
def test_slack_bad_signature_is_refused_without_a_bot_turn(
    running_stack: RunningStack, platforms: FakePlatforms, tamper: str
):
    user, channel = new_slack_ids()
    body = slack_dm(user, channel, "hello")
    headers = {
        "missing": {"Content-Type": "application/json"},
        "other-secret": slack_headers(body, secret="not-the-signing-secret"),
        # Slack's replay guard: a correctly signed request older than five minutes.
        "stale-timestamp": slack_headers(body, age=6 * 60),
    }[tamper]

    response = post_slack(running_stack, body, headers)

    assert response.status_code == 403
    assert response.json()["error"] == "invalid_signature"
    time.sleep(1)  # Slack's turns run in the background: give a wrongly accepted one time to show
    assert user_turns(running_stack, user) == []
    assert platforms.matching(slack_posts_to(channel)) == []


def test_slack_url_verification_returns_the_challenge(running_stack: RunningStack):
    body = json.dumps(
        {
            "token": "unused",
            "challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P",
            "type": "url_verification",
        }
    ).encode()

    response = post_slack(running_stack, body, slack_headers(body))

    assert response.status_code == 200
    assert response.json() == {"challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"}


# --- agent replies go out on the customer's channel -------------------------------------


def agent_reply(stack: RunningStack, sender: str, text: str) -> None:
    """What the CRM does for an agent's message: a bot event, sent on the latest input channel."""
    with stack.rasa() as http:
        response = http.post(
            f"/conversations/{sender}/tracker/events",
            params={"execute_side_effects": "true", "output_channel": "latest"},
            json={"event": "bot", "text": text},
        )
    response.raise_for_status()


def test_an_agent_reply_reaches_each_platform(running_stack: RunningStack, platforms: FakePlatforms):
    psid = new_psid()
    post_messenger(running_stack, body := messenger_event(psid, "hello"), messenger_signature(body))
    chat_id = secrets.randbelow(10**9) + 10**9
    post_telegram(running_stack, telegram_update(chat_id, "hello"), TELEGRAM["TELEGRAM_SECRET_TOKEN"])
    phone = f"+1555{secrets.randbelow(10**7):07d}"
    fields = whatsapp_message(phone, "hello")
    post_twilio(running_stack, fields, twilio_signature(twilio_url(running_stack), fields))
    user, channel = new_slack_ids()
    post_slack(running_stack, body := slack_dm(user, channel, "hello"), slack_headers(body))
    platforms.wait_for(slack_posts_to(channel))  # the Slack turn runs in the background

    for sender in (psid, str(chat_id), f"whatsapp:{phone}", user):
        agent_reply(running_stack, sender, f"Hi, this is Sam from support ({sender}).")

    said = f"Sam from support ({psid})"
    assert any(said in messenger_text(c) for c in platforms.wait_for(to_psid(psid), count=2))
    said = f"Sam from support ({chat_id})"
    telegram = platforms.wait_for(telegram_messages_to(platforms, chat_id), count=2)
    assert any(said in platforms._fields(c)["text"] for c in telegram)
    said = f"Sam from support (whatsapp:{phone})"
    assert any(said in c.form()["Body"] for c in platforms.wait_for(whatsapp_messages_to(phone), count=2))
    # No event channel to answer in: Slack posts to the user, which opens the app's DM.
    [slack] = platforms.wait_for(lambda c: slack_posts_to(user)(c) and "Sam from support" in c.json()["text"])
    assert f"({user})" in slack.json()["text"]


# --- buttons, in each platform's own form --------------------------------------------

CATEGORIES = ["Order", "Delivery", "Return", "Refund", "Payment", "Account", "Something else"]


def test_messenger_seven_choices_become_quick_replies(running_stack: RunningStack, platforms: FakePlatforms):
    psid = new_psid()

    post_messenger(
        running_stack, body := messenger_event(psid, "I want to open a ticket"), messenger_signature(body)
    )

    # More than the button template's three: Rasa's connector would drop them.
    [asked] = platforms.wait_for(lambda c: to_psid(psid)(c) and "quick_replies" in c.json()["message"])
    message = asked.json()["message"]
    assert message["text"] == "What is it about?"
    assert [(q["title"], q["payload"], q["content_type"]) for q in message["quick_replies"]] == [
        (title, title, "text") for title in CATEGORIES
    ]


def test_whatsapp_choices_are_offered_as_text_to_type_back(
    running_stack: RunningStack, platforms: FakePlatforms
):
    phone = f"+1555{secrets.randbelow(10**7):07d}"
    fields = whatsapp_message(phone, "I want to open a ticket")

    post_twilio(running_stack, fields, twilio_signature(twilio_url(running_stack), fields))

    bodies = [c.form()["Body"] for c in platforms.wait_for(whatsapp_messages_to(phone))]
    assert bodies == ["What is it about?\n\n" + " · ".join(CATEGORIES)]


def test_telegram_button_press_is_a_message_and_is_acknowledged(
    running_stack: RunningStack, platforms: FakePlatforms
):
    chat_id = secrets.randbelow(10**9) + 10**9
    person = {"id": chat_id, "is_bot": False, "first_name": "Lena"}
    query_id = str(secrets.randbelow(10**18))
    update = {
        "update_id": secrets.randbelow(10**9),
        "callback_query": {
            "id": query_id, "from": person, "chat_instance": "-4455667788", "data": "/greet",
            "message": {
                "message_id": 7, "date": int(time.time()), "text": "Anything else?",
                "chat": {"id": chat_id, "first_name": "Lena", "type": "private"},
                "from": {"id": 123456789, "is_bot": True, "first_name": "Shop", "username": "shop_bot"},
            },
        },
    }  # fmt: skip

    response = post_telegram(running_stack, update, TELEGRAM["TELEGRAM_SECRET_TOKEN"])

    assert response.status_code == 200
    [reply] = platforms.wait_for(telegram_messages_to(platforms, chat_id))
    assert GREETING in platforms._fields(reply)["text"]
    token = TELEGRAM["TELEGRAM_ACCESS_TOKEN"]
    answered = platforms.matching(lambda c: c.path == f"/bot{token}/answerCallbackQuery")
    assert query_id in [platforms._fields(c).get("callback_query_id") for c in answered]
    assert user_turns(running_stack, str(chat_id)) == ["/greet"]


def test_slack_button_click_is_a_message(running_stack: RunningStack, platforms: FakePlatforms):
    user, channel = new_slack_ids()
    payload = {
        "type": "block_actions", "user": {"id": user, "username": "lena", "team_id": "T0FAKETEAM"},
        "api_app_id": "A0FAKEAPP", "container": {"type": "message", "channel_id": channel},
        "channel": {"id": channel, "name": "directmessage"},
        "message": {"type": "message", "text": "Anything else?", "ts": f"{time.time():.6f}"},
        "actions": [{"type": "button", "action_id": "a1", "block_id": "b1", "text": {"type": "plain_text", "text": "Hi"},
                     "value": "/greet", "action_ts": f"{time.time():.6f}"}],
    }  # fmt: skip
    body = urlencode({"payload": json.dumps(payload)}).encode()
    headers = {**slack_headers(body), "Content-Type": "application/x-www-form-urlencoded"}

    response = post_slack(running_stack, body, headers)

    assert response.status_code == 200
    [reply] = platforms.wait_for(slack_posts_to(channel))
    assert GREETING in reply.json()["text"]
    assert user_turns(running_stack, user) == ["/greet"]
