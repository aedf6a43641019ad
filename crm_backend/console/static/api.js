// The CRM's HTTP API as the console uses it: the agent's token, JSON in and out, one error type.

const SESSION_KEY = "support-console.session";

/** The signed-in agent and token, kept for this browser tab only (sessionStorage). */
export const session = {
  get() {
    try {
      return JSON.parse(sessionStorage.getItem(SESSION_KEY) || "null");
    } catch {
      return null;
    }
  },
  set(value) {
    sessionStorage.setItem(SESSION_KEY, JSON.stringify(value));
  },
  clear() {
    sessionStorage.removeItem(SESSION_KEY);
  },
};

/** A refused request: HTTP status plus the CRM's {"error", "detail"}. */
export class ApiError extends Error {
  constructor(status, error, detail) {
    super(typeof detail === "string" ? detail : error);
    this.status = status;
    this.error = error;
    this.detail = detail;
  }
}

let onUnauthorized = () => {};

/** What to do when the token stops working (expired, agent deactivated): back to the login. */
export function whenUnauthorized(handler) {
  onUnauthorized = handler;
}

/** Call the API; resolves to the JSON body (null for 204), rejects with ApiError. */
export async function api(method, path, body, { keepalive = false, auth = true } = {}) {
  const headers = { Accept: "application/json" };
  const current = session.get();
  if (auth && current) headers.Authorization = `Bearer ${current.token}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let response;
  try {
    response = await fetch(path, {
      method,
      headers,
      keepalive,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new ApiError(0, "network_error", "The CRM cannot be reached. Check your connection.");
  }
  if (response.status === 204) return null;
  let data = null;
  try {
    data = await response.json();
  } catch {
    data = null;
  }
  if (!response.ok) {
    if (response.status === 401 && auth && current) onUnauthorized();
    throw new ApiError(response.status, data?.error ?? "http_error", data?.detail ?? response.statusText);
  }
  return data;
}

/** Every item of a paginated list (the API caps a page at 200). */
export async function allPages(path, params = {}, { max = 2000 } = {}) {
  const items = [];
  for (let offset = 0; offset < max; offset += 200) {
    const query = new URLSearchParams({ ...params, limit: "200", offset: String(offset) });
    const page = await api("GET", `${path}?${query}`);
    items.push(...page.items);
    if (items.length >= page.total || page.items.length === 0) break;
  }
  return items;
}

/** A query string from the given (non-empty) parameters. */
export function query(params) {
  const clean = Object.entries(params).filter(([, v]) => v !== null && v !== undefined && v !== "");
  return new URLSearchParams(clean).toString();
}
