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
): Promise<Response> {
  const headers: Record<string, string> = {};
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

export async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  const resp = await request(method, path, body);
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

export function fieldOf(err: unknown): string | undefined {
  return err instanceof ApiError ? FIELD_OF[err.code] : undefined;
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
