import { proxy } from "@/lib/server/backend";

/** GET /api/conversations/{id}/stream -> the backend's replay buffer, after Last-Event-ID. */
export async function GET(
  request: Request,
  ctx: RouteContext<"/api/conversations/[id]/stream">,
): Promise<Response> {
  const { id } = await ctx.params;
  return proxy(request, `/v1/conversations/${encodeURIComponent(id)}/stream`);
}
