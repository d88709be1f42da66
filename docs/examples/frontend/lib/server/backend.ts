// The backend-for-frontend: route handlers forward the browser's requests to the
// FastAPI service, so the browser talks to one origin (no CORS, one cookie) and never
// learns the backend's address. Server-only: never imported by a client component.

const BACKEND_URL = process.env.BACKEND_URL ?? "http://127.0.0.1:8000";

/** Request headers the backend reads; nothing else crosses. */
const FORWARDED = [
  "authorization",
  "cookie",
  "idempotency-key",
  "last-event-id",
  "content-type",
  "accept",
];
/** Response headers the browser needs back. */
const RETURNED = ["content-type", "retry-after"];

// [start:proxy]
export async function proxy(
  request: Request,
  path: string,
  method = request.method,
): Promise<Response> {
  const headers = new Headers();
  for (const name of FORWARDED) {
    const value = request.headers.get(name);
    if (value !== null) headers.set(name, value);
  }
  const upstream = await fetch(`${BACKEND_URL}${path}`, {
    method,
    headers,
    body: method === "GET" || method === "DELETE" ? undefined : await request.text(),
    // The browser going away aborts the upstream request, which stops the model.
    signal: request.signal,
  });
  const back = new Headers({ "cache-control": "no-store" });
  for (const name of RETURNED) {
    const value = upstream.headers.get(name);
    if (value !== null) back.set(name, value);
  }
  if (back.get("content-type")?.startsWith("text/event-stream")) {
    back.set("cache-control", "no-cache, no-transform"); // no compression buffering the stream
    back.set("x-accel-buffering", "no"); // nor NGINX
  }
  // The body is passed on as a stream, chunk by chunk, never buffered here.
  return new Response(upstream.body, { status: upstream.status, headers: back });
}
// [end:proxy]
