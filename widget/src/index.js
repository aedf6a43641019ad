// Entry point: one <script src=".../widget.js" data-server=...> tag embeds the widget.

import { Widget } from "./widget.js";

function configFrom(script) {
  const data = script?.dataset || {};
  const origin = script?.src ? new URL(script.src, location.href).origin : location.origin;
  return {
    server: (data.server || origin).replace(/\/+$/, ""),
    path: data.socketPath || "/socket.io/",
    title: data.title || "Customer support",
    color: data.color || "",
    greeting: data.greeting || "",
    customerToken: data.customerToken || "",
    open: data.open === "true",
  };
}

const script = document.currentScript;

function start() {
  if (globalThis.SupportWidget) return;
  const widget = new Widget(configFrom(script));
  // The host page's handle: sign a customer in or out, open the chat from its own button.
  globalThis.SupportWidget = {
    open: () => widget.open(),
    close: () => widget.close(),
    setCustomerToken: (token) => widget.setCustomerToken(token),
    reset: () => widget.reset(),
  };
}

if (document.body) start();
else document.addEventListener("DOMContentLoaded", start);
