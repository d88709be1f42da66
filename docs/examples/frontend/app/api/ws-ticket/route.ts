import { proxy } from "@/lib/server/backend";

/** POST /api/ws-ticket -> POST /v1/ws/tickets: a single-use ticket for one WebSocket handshake. */
export async function POST(request: Request): Promise<Response> {
  return proxy(request, "/v1/ws/tickets");
}
