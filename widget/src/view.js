// The widget's DOM: launcher, panel, transcript, composer. Text goes in through
// textContent or the Markdown renderer, never through innerHTML.

import { renderMarkdown, safeUrl } from "./markdown.js";

const CHAT_ICON =
  "M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H8l-4 4V6a2 2 0 0 1 2-2z";
const SEND_ICON = "M3 20.5 21 12 3 3.5v6.6l12 1.9-12 1.9z";

function el(doc, tag, attributes = {}, children = []) {
  const node = doc.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === false || value === null || value === undefined) continue;
    if (name === "text") node.textContent = value;
    else node.setAttribute(name, value === true ? "" : value);
  }
  node.append(...children);
  return node;
}

function icon(doc, path) {
  const svg = doc.createElementNS("http://www.w3.org/2000/svg", "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("aria-hidden", "true");
  const shape = doc.createElementNS("http://www.w3.org/2000/svg", "path");
  shape.setAttribute("d", path);
  svg.append(shape);
  return svg;
}

function clock(ts) {
  return new Date(ts).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
}

/** Build the widget's elements under `root` (a shadow root); returns the parts we update. */
export function buildView(doc, root, { title }) {
  const launcher = el(doc, "button", {
    class: "sw-launcher",
    type: "button",
    "aria-expanded": "false",
    "aria-controls": "sw-panel",
    "aria-label": `Open chat: ${title}`,
  }, [icon(doc, CHAT_ICON)]);
  const subtitle = el(doc, "p", { class: "sw-subtitle", "aria-live": "polite", text: "Connecting…" });
  const close = el(doc, "button", { class: "sw-close", type: "button", "aria-label": "Close chat", text: "×" });
  const banner = el(doc, "div", { class: "sw-banner", role: "status", hidden: true });
  const log = el(doc, "ol", {
    class: "sw-log",
    role: "log",
    "aria-live": "polite",
    "aria-label": "Conversation",
    tabindex: "0",
  });
  const typingLabel = el(doc, "span", { class: "sw-sr", text: "The assistant is typing" });
  const typing = el(doc, "div", { class: "sw-typing", hidden: true }, [
    el(doc, "span"), el(doc, "span"), el(doc, "span"), typingLabel,
  ]);
  const input = el(doc, "textarea", {
    id: "sw-input",
    class: "sw-input",
    rows: "1",
    maxlength: "2000",
    placeholder: "Type your message…",
    autocomplete: "off",
  });
  const send = el(doc, "button", { class: "sw-send", type: "submit", "aria-label": "Send" }, [icon(doc, SEND_ICON)]);
  const form = el(doc, "form", { class: "sw-composer" }, [
    el(doc, "label", { for: "sw-input", class: "sw-sr", text: "Your message" }),
    input,
    send,
  ]);
  const panel = el(doc, "section", { id: "sw-panel", class: "sw-panel", role: "dialog", "aria-label": title, hidden: true }, [
    el(doc, "header", { class: "sw-header" }, [
      el(doc, "div", { class: "sw-heading" }, [el(doc, "h2", { class: "sw-title", text: title }), subtitle]),
      close,
    ]),
    banner,
    log,
    typing,
    form,
  ]);
  const container = el(doc, "div", { class: "sw", "data-status": "connecting" }, [launcher, panel]);
  root.append(container);
  return { container, launcher, panel, subtitle, close, banner, log, typing, typingLabel, input, form };
}

function isRating(replies) {
  return replies.length > 0 && replies.every((r) => String(r.payload).startsWith("/rate_service"));
}

/** The quick-reply buttons of a bot message; `onPick(reply)` runs on a click. */
export function repliesElement(doc, replies, onPick) {
  const rating = isRating(replies);
  const group = el(doc, "div", {
    class: rating ? "sw-replies sw-rating" : "sw-replies",
    role: "group",
    "aria-label": rating ? "Rate the help you got, from 1 (not at all satisfied) to 5 (very satisfied)" : "Suggested replies",
  });
  for (const reply of replies) {
    const button = el(doc, "button", {
      type: "button",
      text: reply.title,
      "aria-label": rating ? `${reply.title} out of 5` : null,
    });
    button.addEventListener("click", () => onPick(reply));
    group.append(button);
  }
  return group;
}

/** One transcript entry as a list item. `agentName` labels bot messages during a handoff. */
export function entryElement(doc, entry) {
  if (entry.from === "notice") {
    return el(doc, "li", { class: "sw-notice", "data-entry": entry.id, text: entry.text });
  }
  const fromUser = entry.from === "user";
  const bubble = el(doc, "div", { class: "sw-bubble" });
  const speaker = fromUser ? "You" : entry.agentName || "Assistant";
  bubble.append(el(doc, "span", { class: "sw-sr", text: `${speaker} said: ` }));
  const content = el(doc, "div", { class: "sw-text" });
  if (fromUser) {
    content.textContent = entry.text;
  } else {
    const message = entry.message || {};
    if (message.text) content.append(renderMarkdown(doc, message.text));
    const src = message.image && safeUrl(message.image);
    if (src) content.append(el(doc, "img", { src, alt: message.imageAlt || "Image from the assistant", loading: "lazy" }));
  }
  bubble.append(content);
  const meta = el(doc, "div", { class: "sw-meta" }, [
    el(doc, "time", { datetime: new Date(entry.ts).toISOString(), text: clock(entry.ts) }),
  ]);
  if (!fromUser && entry.agentName) meta.prepend(doc.createTextNode(`${entry.agentName} · `));
  if (entry.pending) meta.append(doc.createTextNode(" · waiting for the connection"));
  return el(doc, "li", {
    class: `sw-msg sw-msg-${fromUser ? "user" : "bot"}${entry.pending ? " sw-pending" : ""}`,
    "data-entry": entry.id,
  }, [bubble, meta]);
}
