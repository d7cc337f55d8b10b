// The API client: same-origin fetches carrying the session cookie. Every state-changing request
// sends the CSRF header the Worker requires with the cookie; a cross-site page cannot add it.

export type Role = "user" | "admin";

export interface Session {
  role: Role;
  user: { id: string; email: string } | null;
  expires_at: string;
}

export interface Link {
  slug: string;
  url: string;
  short_url: string;
  title: string | null;
  owner: string;
  owner_email?: string;
  is_active: boolean;
  flag_reason: string | null;
  created_at: string;
  updated_at: string;
  version: number;
  expires_at: string | null;
  archived: boolean;
  redirect_type: number;
  forward_query: boolean;
  max_clicks?: number | null;
  tags?: string[];
  state: "active" | "disabled" | "flagged";
  expired: boolean;
  clicks?: number | null;
  // Absent when unset (in reads and lists alike).
  valid_since?: string;
  has_password?: boolean;
  targets?: { ios?: string; android?: string; desktop?: string; countries?: Record<string, string> };
  variants?: { url: string; weight: number }[];
  preview?: { title?: string; description?: string; image?: string };
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/// Called when the session is gone (401 on a signed-in page): the app shows the sign-in form.
let onSignedOut: () => void = () => {};
export function setSignedOutHandler(f: () => void) {
  onSignedOut = f;
}

const CSRF_HEADER = "X-Edgelink-Csrf";

export async function request(
  method: string,
  path: string,
  body?: unknown,
  raw?: BodyInit,
  extra?: Record<string, string>,
): Promise<Response> {
  const headers: Record<string, string> = { ...extra };
  if (method !== "GET" && method !== "HEAD") headers[CSRF_HEADER] = "1";
  let payload: BodyInit | undefined = raw;
  if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    payload = JSON.stringify(body);
  }
  let resp: Response;
  try {
    resp = await fetch(path, { method, headers, body: payload, credentials: "same-origin" });
  } catch (e) {
    throw new ApiError(0, "network", `The server could not be reached (${String(e)}).`);
  }
  if (resp.ok) return resp;
  let code = `http_${resp.status}`;
  let message = `${method} ${path} answered ${resp.status}`;
  try {
    const err = (await resp.json()) as { error?: { code?: string; message?: string } };
    if (err.error?.code) code = err.error.code;
    if (err.error?.message) message = err.error.message;
  } catch {
    // Not a JSON error envelope: keep the status line.
  }
  if (resp.status === 401 && path !== "/api/session") onSignedOut();
  throw new ApiError(resp.status, code, message);
}

/// `headers`: more request headers, such as `If-Match`.
export async function api<T>(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<T> {
  const resp = await request(method, path, body, undefined, headers);
  if (resp.status === 204) return undefined as T;
  return (await resp.json()) as T;
}

export const get = <T>(path: string) => api<T>("GET", path);

/// Which form field an API error code concerns, so the page shows it next to that field.
const FIELD_OF: Record<string, string> = {
  invalid_url: "url",
  blocked_destination: "url",
  invalid_slug: "slug",
  slug_taken: "slug",
  invalid_title: "title",
  invalid_tags: "tags",
  invalid_expiry: "expires_at",
  invalid_redirect_type: "redirect_type",
  invalid_max_clicks: "max_clicks",
  invalid_state: "state",
  invalid_password: "password",
  invalid_targets: "targets",
  invalid_variants: "variants",
  invalid_preview: "preview",
  invalid_email: "email",
  email_taken: "email",
  invalid_host: "host",
  invalid_reason: "reason",
  invalid_search: "q",
  invalid_sort: "sort",
  invalid_name: "name",
  invalid_import: "file",
  payload_too_large: "file",
};

/// A finer field where the API's message names one: `valid_since` shares `invalid_expiry` with
/// `expires_at`, and the smart options' messages start with the part at fault
/// (`targets.ios: …`, `targets.countries: …`, `preview.image …`).
const FIELD_OF_MESSAGE: [string, RegExp, string][] = [
  ["invalid_expiry", /^valid_since\b/, "valid_since"],
  ["invalid_targets", /^targets\.ios\b/, "ios"],
  ["invalid_targets", /^targets\.android\b/, "android"],
  ["invalid_targets", /^targets\.desktop\b/, "desktop"],
  ["invalid_targets", /^targets\.countries\b/, "countries"],
  ["invalid_preview", /^preview\.title\b/, "preview_title"],
  ["invalid_preview", /^preview\.description\b/, "preview_description"],
  ["invalid_preview", /^preview\.image\b/, "preview_image"],
];

/// Destinations a link body can carry; `blocked_destination` does not say which one was blocked.
const DESTINATIONS = ["url", "targets", "variants"];

/// `sent` is the body that got the error: a blocked destination is put under the one destination
/// field it carried, and left to the form as a whole when it carried several (better no field
/// than the wrong one).
export function fieldOf(err: unknown, sent?: Record<string, unknown>): string | undefined {
  if (!(err instanceof ApiError)) return undefined;
  for (const [code, re, field] of FIELD_OF_MESSAGE) if (err.code === code && re.test(err.message)) return field;
  if (err.code === "blocked_destination" && sent) {
    const carried = DESTINATIONS.filter((k) => sent[k] != null);
    return carried.length === 1 ? carried[0] : undefined;
  }
  return FIELD_OF[err.code];
}

export function messageOf(err: unknown): string {
  if (err instanceof ApiError) return `${err.message} (${err.code})`;
  return String(err);
}

export function qs(params: Record<string, string | string[] | undefined | null>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v === undefined || v === null || v === "") continue;
    for (const one of Array.isArray(v) ? v : [v]) q.append(k, one);
  }
  const s = q.toString();
  return s ? `?${s}` : "";
}

export const enc = encodeURIComponent;
