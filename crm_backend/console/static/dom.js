// DOM helpers. Text always goes in as text nodes (textContent), never as markup: customers
// and bots write whatever they like, and the console must show it, not run it.

/** An element with attributes, listeners ("on<event>") and children (strings become text). */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = String(value);
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

/** Replace every child of `node`. */
export function replace(node, ...children) {
  node.replaceChildren(...children.flat().filter((c) => c !== null && c !== undefined && c !== false));
}

/** "45 s", "3 min", "1 h 05 min". */
export function duration(seconds) {
  const s = Math.max(0, Math.floor(seconds));
  if (s < 60) return `${s} s`;
  const minutes = Math.floor(s / 60);
  if (minutes < 60) return `${minutes} min`;
  return `${Math.floor(minutes / 60)} h ${String(minutes % 60).padStart(2, "0")} min`;
}

/** Seconds since an ISO timestamp. */
export function secondsSince(iso) {
  return (Date.now() - Date.parse(iso)) / 1000;
}

const timeFormat = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit" });
const dateFormat = new Intl.DateTimeFormat(undefined, { dateStyle: "medium" });

export function clock(iso) {
  return timeFormat.format(new Date(iso));
}

export function day(iso) {
  return dateFormat.format(new Date(iso));
}

export function money(cents, currency) {
  try {
    return new Intl.NumberFormat(undefined, { style: "currency", currency }).format(cents / 100);
  } catch {
    return `${(cents / 100).toFixed(2)} ${currency}`;
  }
}

export const REASONS = {
  customer_request: "Asked for a person",
  repeated_fallback: "Bot could not help",
  complaint: "Complaint",
  verification_lockout: "Verification locked",
  frustration: "Frustrated with the bot",
  other: "Other",
};

export const CHANNELS = {
  web: "Web chat",
  messenger: "Messenger",
  telegram: "Telegram",
  whatsapp: "WhatsApp",
  slack: "Slack",
  email: "Email",
  phone: "Phone",
  api: "API",
};

/** A label for an enum value: the known name, else the value with spaces. */
export function label(names, value) {
  return names[value] ?? String(value ?? "").replaceAll("_", " ");
}
