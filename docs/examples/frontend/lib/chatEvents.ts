// The backend's chat protocol (chatbot/api/chat.py), typed. Unknown events are
// ignored so the server can add new ones without breaking older clients.
import type { SSEEvent } from "./sse";

export interface Usage {
  input_tokens: number;
  output_tokens: number;
  cached_input_tokens: number;
}

// [start:chat-events]
export type ChatStreamEvent =
  | { type: "meta"; conversationId: string }
  | { type: "token"; delta: string }
  | { type: "done"; finishReason: string; usage: Usage | null }
  | { type: "error"; code: string; retryable: boolean };

export function toChatEvent(event: SSEEvent): ChatStreamEvent | null {
  const payload: unknown = JSON.parse(event.data);
  if (typeof payload !== "object" || payload === null) return null;
  const p = payload as Record<string, unknown>;
  switch (event.event) {
    case "meta":
      return { type: "meta", conversationId: String(p.conversation_id) };
    case "token":
      return { type: "token", delta: String(p.delta) };
    case "done":
      return {
        type: "done",
        finishReason: String(p.finish_reason),
        usage: (p.usage as Usage | null) ?? null,
      };
    case "error":
      return { type: "error", code: String(p.code), retryable: p.retryable === true };
    default:
      return null;
  }
}
// [end:chat-events]
