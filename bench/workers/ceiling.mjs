// The ceiling: the same 302 edgelink answers for the benchmark link (same Location,
// Cache-Control and X-Robots-Tag, byte for byte), with no KV read. What the runtime costs for a
// request that does nothing.
export default {
  fetch(request, env) {
    return new Response(null, {
      status: 302,
      headers: { Location: env.LOCATION, "Cache-Control": "private, max-age=90", "X-Robots-Tag": "noindex" },
    });
  },
};
