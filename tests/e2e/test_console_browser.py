"""The agent console and the customer widget in real Chromium, two browser contexts, one real stack.

A customer on the demo shop asks for a person; an agent signs in to /console, sees the queue
entry with the history, claims it and replies; the customer answers and the agent sees it
live; the agent hands back and the bot answers again. Then the same customer asks again, the
agent closes the conversation, and the customer's rating and comment are stored.
Screenshots land in data/test-artifacts/console/.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Locator, Page, expect

from tests.e2e.browser import build_widget, chromium, save_screenshot
from tests.e2e.conftest import RunningStack

AGENT = ("agent@example.com", "agent-demo-password")
# A bot turn on a busy two-core machine can take several seconds.
REPLY_MS = 30_000
HOSTILE = '<img src=x onerror="window.__pwned=1">'


@pytest.fixture(scope="module")
def crm_url(running_stack: RunningStack) -> str:
    """The CRM's address, with the widget built from the current sources for the demo page."""
    build_widget()
    return running_stack.config.crm_url


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as browser:
        yield browser


@pytest.fixture
def agent_context(browser: Browser) -> Iterator[BrowserContext]:
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    yield context
    context.close()


@pytest.fixture
def customer_context(browser: Browser) -> Iterator[BrowserContext]:
    context = browser.new_context(viewport={"width": 1100, "height": 800})
    yield context
    context.close()


def screenshot(page: Page, name: str) -> None:
    save_screenshot(page, "console", name)


class Shopper:
    """The customer in the widget on the demo shop page, signed in as the demo customer."""

    def __init__(self, page: Page, crm_url: str) -> None:
        self.page = page
        self.errors: list[str] = []
        page.on("pageerror", lambda error: self.errors.append(str(error)))
        page.goto(f"{crm_url}/demo")
        page.get_by_role("button", name="Sign in as Alice (demo)").click()
        expect(page.locator("#account-status")).not_to_have_text("Not signed in")
        page.locator(".sw-launcher").click()
        expect(page.locator(".sw[data-status=online]")).to_have_count(1, timeout=REPLY_MS)
        self.input = page.get_by_label("Your message")

    def say(self, text: str) -> None:
        self.input.fill(text)
        self.input.press("Enter")

    def sees(self, contains: str) -> Locator:
        """The latest message from the bot or an agent containing `contains`, once it arrived."""
        message = self.page.locator(".sw-msg-bot").filter(has_text=contains).last
        expect(message).to_be_visible(timeout=REPLY_MS)
        return message

    def say_and_see(self, text: str, contains: str) -> None:
        """Say `text`, then wait for a new answer containing `contains` (not an earlier one)."""
        answers = self.page.locator(".sw-msg-bot").filter(has_text=contains)
        before = answers.count()
        self.say(text)
        expect(answers).to_have_count(before + 1, timeout=REPLY_MS)

    def session_id(self) -> str:
        value: str = self.page.evaluate(
            "() => JSON.parse(Object.entries(localStorage).find(([k]) => k.endsWith(':session'))[1])"
        )
        return value


class Console:
    """The agent console in one browser context."""

    def __init__(self, page: Page, crm_url: str) -> None:
        self.page = page
        self.errors: list[str] = []
        page.on("pageerror", lambda error: self.errors.append(str(error)))
        page.goto(f"{crm_url}/console")

    def sign_in(self, email: str, password: str, *, live: bool = True) -> None:
        self.page.get_by_label("Email").fill(email)
        self.page.get_by_label("Password").fill(password)
        self.page.get_by_role("button", name="Sign in").click()
        status = "Live" if live else re.compile("Reconnecting")
        expect(self.page.locator("#live-status")).to_have_text(status, timeout=10_000)

    def entry(self, handoff_id: int) -> Locator:
        return self.page.locator(f'button[data-handoff="{handoff_id}"]')

    def messages(self) -> Locator:
        return self.page.get_by_role("log", name="Messages")

    def message(self, contains: str) -> Locator:
        item = self.messages().locator("li.message").filter(has_text=contains).last
        expect(item).to_be_visible(timeout=REPLY_MS)
        return item

    def notice(self) -> Locator:
        return self.page.locator("#notice")


def crm_get(stack: RunningStack, path: str, **params: Any) -> Any:
    with stack.crm() as crm:
        response = crm.get(path, params=params)
    response.raise_for_status()
    return response.json()


def open_handoff(stack: RunningStack, sender_id: str) -> dict[str, Any]:
    """The conversation's waiting handoff, as the CRM has it."""
    items = crm_get(stack, "/api/handoffs", sender_id=sender_id, status="waiting")["items"]
    assert len(items) == 1, items
    handoff: dict[str, Any] = items[0]
    return handoff


def queue_handoff(stack: RunningStack, sender_id: str, reason: str, channel: str) -> int:
    """A handoff the bot would have queued, created through the API."""
    with stack.crm() as crm:
        created = crm.post(
            "/api/handoffs", json={"sender_id": sender_id, "reason": reason, "channel": channel}
        )
    created.raise_for_status()
    handoff_id: int = created.json()["id"]
    return handoff_id


def sam_claims(stack: RunningStack, handoff_id: int) -> None:
    """Another agent (Sam) claims the handoff through the API."""
    with httpx.Client(base_url=stack.config.crm_url, timeout=10) as http:
        login = http.post(
            "/api/auth/login", json={"email": "sam@example.com", "password": "sam-demo-password"}
        )
        token = login.json()["access_token"]
        http.post(
            f"/api/handoffs/{handoff_id}/claim", headers={"Authorization": f"Bearer {token}"}
        ).raise_for_status()


def test_customer_and_agent_talk_through_the_console(
    running_stack: RunningStack, crm_url: str, agent_context: BrowserContext, customer_context: BrowserContext
):
    console = Console(agent_context.new_page(), crm_url)
    console.sign_in(*AGENT)  # online: the bot will queue the customer instead of opening a ticket
    shopper = Shopper(customer_context.new_page(), crm_url)

    # (1) The customer asks for a person.
    shopper.say("where is my parcel?")
    shopper.sees("order number")
    shopper.say("I want to talk to a person")
    shopper.sees("in the queue")
    handoff = open_handoff(running_stack, shopper.session_id())

    # (2) The agent sees it in the queue, live, with its reason and wait time, and the history.
    entry = console.entry(handoff["id"])
    expect(entry).to_be_visible(timeout=10_000)
    expect(entry).to_contain_text("Asked for a person")
    expect(entry.locator(".wait")).to_have_text(re.compile(r"waiting \d+ (s|min)"))
    entry.click()
    expect(console.page.locator("#conversation-title")).to_have_text("Alice Martin", timeout=10_000)
    console.message("where is my parcel?")
    console.message("I want to talk to a person")
    expect(console.messages().locator("li.message.bot").first).to_be_visible()
    expect(console.page.get_by_role("complementary", name="Customer")).to_contain_text("ORD-")
    console.page.get_by_role("button", name="Claim").click()
    expect(console.page.locator("#conversation-meta")).to_contain_text("Assigned to you")

    # (3) The agent picks a canned response, edits it and sends it; the customer sees it.
    console.page.get_by_label("Canned response").select_option(label="Greeting (greeting)")
    reply = console.page.get_by_label("Reply")
    expect(reply).to_have_value(re.compile("taking over"))
    reply.press("End")
    reply.type(" I can see your order here.")
    console.page.get_by_role("button", name="Send reply").click()
    expect(reply).to_have_value("")
    shopper.sees("I can see your order here.")

    # An internal note is shown to agents only.
    console.page.get_by_label("Internal note (never shown to the customer)").check()
    reply.fill("Customer is polite; parcel probably stuck at the depot.")
    console.page.get_by_role("button", name="Add internal note").click()
    note = console.message("stuck at the depot")
    expect(note.locator(".internal-badge")).to_have_text("Internal note")

    # (4) The customer answers and the agent sees it live, as text, markup and all.
    shopper.say("Thanks! It was due on Monday.")
    console.message("It was due on Monday.")
    shopper.say(f"Also {HOSTILE} here")
    hostile = console.message("onerror")
    expect(hostile.locator(".text")).to_have_text(f"Also {HOSTILE} here")
    expect(console.messages().locator("img")).to_have_count(0)
    assert console.page.evaluate("() => window.__pwned") is None
    screenshot(console.page, "conversation")
    assert not shopper.page.locator(".sw-msg-bot").filter(has_text="stuck at the depot").count()

    # (5) The agent hands back; the bot answers again.
    console.page.get_by_role("button", name="Hand back to bot").click()
    expect(console.page.locator("#conversation-meta")).to_contain_text("Handed back to the bot")
    expect(console.entry(handoff["id"])).to_have_count(0)
    shopper.say_and_see("hello", "support assistant")

    # Again, and this time the agent closes it: rating and comment are stored.
    shopper.say_and_see("can I talk to a human please", "in the queue")
    second = open_handoff(running_stack, shopper.session_id())
    console.entry(second["id"]).click()
    expect(console.page.get_by_role("button", name="Claim")).to_be_visible()
    console.message("It was due on Monday.")  # the whole conversation, the first handoff included
    console.page.get_by_role("button", name="Claim").click()
    expect(console.page.locator("#conversation-meta")).to_contain_text("Assigned to you")
    console.page.get_by_role("button", name="Close").click()
    expect(console.page.locator("#conversation-meta")).to_contain_text("Closed")

    rating = shopper.page.get_by_role("group", name=re.compile("Rate the help you got"))
    expect(rating.get_by_role("button")).to_have_count(5, timeout=REPLY_MS)
    rating.get_by_role("button", name="5 out of 5").click()
    shopper.sees("anything you'd like to tell us")
    # Stored at once: a customer who leaves now has still rated.
    scored = crm_get(running_stack, f"/api/handoffs/{second['id']}")
    assert (scored["csat_score"], scored["csat_comment"]) == (5, None)
    shopper.say("Quick and friendly, thank you")
    shopper.sees("Thanks for your feedback")
    rated = crm_get(running_stack, f"/api/handoffs/{second['id']}")
    assert (rated["csat_score"], rated["csat_comment"]) == (5, "Quick and friendly, thank you")
    expect(console.page.locator("#conversation-meta")).to_contain_text("Rated 5/5", timeout=10_000)
    screenshot(shopper.page, "customer-after-rating")

    assert console.errors == []
    assert shopper.errors == []


def test_a_handoff_another_agent_takes_leaves_the_queue_with_a_notice(
    running_stack: RunningStack, crm_url: str, agent_context: BrowserContext
):
    console = Console(agent_context.new_page(), crm_url)
    console.sign_in(*AGENT)
    handoff_id = queue_handoff(running_stack, "e2e-console-race", "complaint", "telegram")
    entry = console.entry(handoff_id)
    expect(entry).to_contain_text("Complaint", timeout=10_000)
    entry.click()
    expect(console.page.locator("#conversation-title")).to_contain_text("Visitor")
    screenshot(console.page, "queue")

    sam_claims(running_stack, handoff_id)

    expect(console.notice()).to_have_text("Another agent took it.", timeout=10_000)
    expect(console.entry(handoff_id)).to_have_count(0)
    expect(console.page.get_by_role("button", name="Claim")).to_be_hidden()

    # Signing out takes the agent offline.
    console.page.get_by_role("button", name="Sign out").click()
    expect(console.page.get_by_role("button", name="Sign in")).to_be_visible()
    agents = crm_get(running_stack, "/api/agents", is_online="true")["items"]
    assert AGENT[0] not in [a["email"] for a in agents]
    assert console.errors == []


def test_without_the_live_socket_the_console_polls_and_can_transfer(
    running_stack: RunningStack, crm_url: str, agent_context: BrowserContext
):
    page = agent_context.new_page()
    # Every /api/live connection is refused at once, as when a proxy drops WebSockets.
    page.route_web_socket(re.compile(r"/api/live"), lambda socket: socket.close())
    console = Console(page, crm_url)
    console.sign_in(*AGENT, live=False)

    handoff_id = queue_handoff(running_stack, "e2e-console-polled", "repeated_fallback", "whatsapp")

    entry = console.entry(handoff_id)
    expect(entry).to_contain_text("Bot could not help", timeout=15_000)  # the next poll finds it
    entry.click()
    page.get_by_role("button", name="Claim").click()
    expect(page.locator("#mine-list").locator(f'[data-handoff="{handoff_id}"]')).to_have_count(1)
    page.get_by_label("Transfer to").select_option(label="Sam Support")
    page.get_by_role("button", name="Transfer", exact=True).click()
    expect(page.locator("#conversation-meta")).to_contain_text("Assigned to Sam Support")
    expect(page.locator("#mine-list").locator(f'[data-handoff="{handoff_id}"]')).to_have_count(0)
    expect(page.get_by_label("Reply")).to_be_hidden()
    transferred = crm_get(running_stack, f"/api/handoffs/{handoff_id}")
    sam = next(a for a in crm_get(running_stack, "/api/agents")["items"] if a["email"] == "sam@example.com")
    assert transferred["assignee_id"] == sam["id"]
    assert console.errors == []


def test_claiming_what_another_agent_just_took_says_so(
    running_stack: RunningStack, crm_url: str, agent_context: BrowserContext
):
    page = agent_context.new_page()
    # A live socket that says it is ready and then stays silent: the console cannot know
    # that Sam claimed the handoff, so only the CRM's 409 can tell.
    page.route_web_socket(re.compile(r"/api/live"), lambda socket: socket.send('{"type": "live.ready"}'))
    handoff_id = queue_handoff(running_stack, "e2e-console-409", "customer_request", "messenger")
    console = Console(page, crm_url)
    console.sign_in(*AGENT)
    console.entry(handoff_id).click()
    claim = page.get_by_role("button", name="Claim")
    expect(claim).to_be_visible()

    sam_claims(running_stack, handoff_id)
    claim.click()

    expect(console.notice()).to_have_text("Another agent took it.")
    expect(console.entry(handoff_id)).to_have_count(0)
    expect(page.locator("#conversation-meta")).to_contain_text("Assigned to Sam Support")
    expect(claim).to_be_hidden()
    assert console.errors == []
