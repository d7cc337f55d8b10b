// Renders /api/openapi.json with Swagger UI (loaded only by openapi.html, never by the list page).
// "Try it out" runs with the session cookie; its state-changing calls carry the CSRF header.
declare const SwaggerUIBundle: (opts: Record<string, unknown>) => unknown;

SwaggerUIBundle({
  url: "/api/openapi.json",
  dom_id: "#swagger-ui",
  deepLinking: true,
  withCredentials: true,
  requestInterceptor: (req: { method?: string; headers: Record<string, string> }) => {
    if (req.method && !["GET", "HEAD"].includes(req.method.toUpperCase())) req.headers["X-Edgelink-Csrf"] = "1";
    return req;
  },
});
