// Same-origin proxy to the FastAPI backend, so the browser never needs CORS or the
// backend's address. The body is passed through unbuffered; aborting the browser's
// request aborts the upstream one.

const BACKEND_URL = process.env.BACKEND_URL ?? "http://127.0.0.1:8000";

// [start:route]
export async function POST(request: Request): Promise<Response> {
  const upstream = await fetch(`${BACKEND_URL}/v1/chat/stream`, {
    method: "POST",
    headers: { "content-type": "application/json", accept: "text/event-stream" },
    body: await request.text(),
    signal: request.signal,
  });
  return new Response(upstream.body, {
    status: upstream.status,
    headers: {
      "content-type": upstream.headers.get("content-type") ?? "text/event-stream",
      "cache-control": "no-cache, no-transform",
      "x-accel-buffering": "no",
    },
  });
}
// [end:route]
