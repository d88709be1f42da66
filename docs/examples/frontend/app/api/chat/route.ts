import { proxy } from "@/lib/server/backend";

// [start:route]
/** POST /api/chat -> POST /v1/chat/stream: one turn, streamed back as SSE. */
export async function POST(request: Request): Promise<Response> {
  return proxy(request, "/v1/chat/stream");
}
// [end:route]
