// The side panel: the customer's profile, orders and tickets.

import { api } from "./api.js";
import { CHANNELS, day, el, label, money, replace } from "./dom.js";

function field(name, value) {
  if (value === null || value === undefined || value === "") return null;
  return [el("dt", { text: name }), el("dd", { text: value })];
}

function section(title, ...content) {
  return el("section", { class: "panel-section" }, el("h3", { text: title }), ...content);
}

function orderList(orders) {
  if (orders.length === 0) return el("p", { class: "muted", text: "No orders." });
  return el(
    "ul",
    { class: "rows" },
    orders.map((o) =>
      el(
        "li",
        {},
        el("span", { class: "strong", text: o.number }),
        el("span", { class: `pill status-${o.status}`, text: label({}, o.status) }),
        el("span", { class: "muted", text: `${money(o.total_cents, o.currency)} · ${day(o.placed_at)}` }),
      ),
    ),
  );
}

function ticketList(tickets) {
  if (tickets.length === 0) return el("p", { class: "muted", text: "No tickets." });
  return el(
    "ul",
    { class: "rows" },
    tickets.map((t) =>
      el(
        "li",
        {},
        el("span", { class: "strong", text: t.number }),
        el("span", { class: `pill status-${t.status}`, text: label({}, t.status) }),
        el("span", { class: "subject", text: t.subject }),
        el("span", { class: "muted", text: `${label({}, t.priority)} priority · ${day(t.created_at)}` }),
      ),
    ),
  );
}

/** Fill the panel for a conversation's customer; returns the customer (or null if unknown). */
export async function renderCustomerPanel(panel, customerId) {
  if (!customerId) {
    replace(
      panel,
      section("Customer", el("p", { class: "muted", text: "Not identified yet: the customer has not verified an order or signed in." })),
    );
    return null;
  }
  replace(panel, el("p", { class: "muted", text: "Loading customer…" }));
  const [customer, orders, tickets] = await Promise.all([
    api("GET", `/api/customers/${customerId}`),
    api("GET", `/api/orders?customer_id=${customerId}&limit=10`),
    api("GET", `/api/tickets?customer_id=${customerId}&limit=10`),
  ]);
  const identities = (customer.identities ?? []).map((i) => label(CHANNELS, i.channel)).join(", ");
  replace(
    panel,
    section(
      "Customer",
      el("p", { class: "customer-name", text: customer.full_name }),
      el(
        "dl",
        { class: "fields" },
        field("Email", customer.email),
        field("Phone", customer.phone),
        field("Language", customer.language),
        field("Channels", identities),
        field("Customer since", day(customer.created_at)),
      ),
      customer.tags?.length ? el("p", {}, customer.tags.map((t) => el("span", { class: "pill", text: t }))) : null,
    ),
    section(`Orders (${orders.total})`, orderList(orders.items)),
    section(`Tickets (${tickets.total})`, ticketList(tickets.items)),
  );
  return customer;
}
