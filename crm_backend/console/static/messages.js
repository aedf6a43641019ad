// The conversation's messages: who wrote them, when, and internal notes set apart.

import { allPages, api } from "./api.js";
import { CHANNELS, clock, day, el, label, replace } from "./dom.js";

const AUTHORS = { customer: "Customer", bot: "Assistant", agent: "Agent", system: "System" };

/** Every message of a conversation, oldest first (agents also get the internal notes). */
export function loadMessages(senderId) {
  return allPages(`/api/conversations/${encodeURIComponent(senderId)}/messages`);
}

function authorName(message, context) {
  if (message.author === "agent") {
    if (message.agent_id === context.me) return "You";
    return context.agentNames.get(message.agent_id) ?? AUTHORS.agent;
  }
  if (message.author === "customer") return context.customerName ?? AUTHORS.customer;
  return label(AUTHORS, message.author);
}

/** Buttons the bot offered, shown by their titles (what the customer saw). */
function offeredButtons(payload) {
  const buttons = Array.isArray(payload?.buttons) ? payload.buttons : [];
  if (buttons.length === 0) return null;
  return el(
    "ul",
    { class: "offered", "aria-label": "Buttons offered" },
    buttons.map((b) => el("li", { text: b?.title ?? b?.payload ?? "" })),
  );
}

/** One message as a list item. */
export function messageItem(message, context) {
  const kind = message.is_internal ? "internal" : message.author;
  const who = authorName(message, context);
  return el(
    "li",
    { class: `message ${kind}`, "data-id": message.id, "data-author": message.author },
    el(
      "div",
      { class: "message-head" },
      el("span", { class: "who", text: who }),
      message.is_internal ? el("span", { class: "badge internal-badge", text: "Internal note" }) : null,
      el("time", { datetime: message.sent_at, title: new Date(message.sent_at).toLocaleString(), text: clock(message.sent_at) }),
    ),
    message.text ? el("p", { class: "text", text: message.text }) : null,
    offeredButtons(message.payload),
  );
}

/** Renders one conversation into a list, adding new messages once each (live and polled). */
export class MessageList {
  constructor(list, context) {
    this.list = list;
    this.context = context;
    this.seen = new Set();
  }

  reset(messages) {
    this.seen = new Set();
    replace(this.list, el("li", { class: "muted no-messages", text: "No messages yet." }));
    this.add(messages);
  }

  add(messages) {
    if (messages.length) this.list.querySelector(".no-messages")?.remove();
    const nearBottom = this.list.scrollHeight - this.list.scrollTop - this.list.clientHeight < 80;
    for (const message of messages) {
      if (this.seen.has(message.id)) continue;
      this.seen.add(message.id);
      this.list.append(messageItem(message, this.context));
    }
    if (nearBottom || messages.length > 1) this.list.scrollTop = this.list.scrollHeight;
  }
}

/** The same customer's other conversations, any channel, each loaded when opened. */
export async function renderEarlier(container, { customerId, senderId, context }) {
  replace(container);
  if (!customerId) return;
  const page = await api("GET", `/api/conversations?customer_id=${customerId}&limit=20`);
  const others = page.items.filter((c) => c.sender_id !== senderId);
  if (others.length === 0) return;
  container.append(el("h3", { text: `Earlier conversations (${others.length})` }));
  for (const conversation of others) {
    const list = el("ol", { class: "messages earlier-messages", "aria-label": "Earlier messages" });
    const details = el(
      "details",
      { class: "earlier-conversation" },
      el(
        "summary",
        {},
        `${label(CHANNELS, conversation.channel)} · ${day(conversation.started_at)} · ${conversation.message_count} messages`,
      ),
      list,
    );
    details.addEventListener("toggle", async () => {
      if (!details.open || list.childElementCount > 0) return;
      list.append(el("li", { class: "muted", text: "Loading…" }));
      try {
        const messages = await loadMessages(conversation.sender_id);
        replace(list, messages.map((m) => messageItem(m, context)));
      } catch (error) {
        replace(list, el("li", { class: "error", text: `Could not load: ${error.message}` }));
      }
    });
    container.append(details);
  }
}
