// One attempt at reading a chat turn over HTTP: either POST the message, or resume the
// turn with GET and Last-Event-ID. Parses the SSE reply and reports each event with the
// SSE fields it arrived with. React-free, tested with a fake fetch; the retry policy
// lives one level up, in chatTurn.ts.
import { type ChatStreamEvent, toChatEvent } from "./chatEvents";
import { readEventStream, type SSEEvent } from "./sse";

// [start:sources]
export type StreamSource =
  /** Start a turn: POST /api/chat -> POST /v1/chat/stream. */
  | {
      kind: "post";
      endpoint: string;
      message: string;
      conversationId: string | null;
      idempotencyKey: string;
    }
  /** Resume it: GET /api/conversations/{id}/stream -> the backend's replay buffer. */
  | { kind: "resume"; url: string; lastEventId: number };

function requestFor(source: StreamSource, signal: AbortSignal): [string, RequestInit] {
  if (source.kind === "resume") {
    const headers = { accept: "text/event-stream", "last-event-id": String(source.lastEventId) };
    return [source.url, { method: "GET", headers, signal }];
  }
  const headers = {
    "content-type": "application/json",
    accept: "text/event-stream",
    // The same key on every attempt of one turn, so a server that deduplicates can.
    "idempotency-key": source.idempotencyKey,
  };
  const body = JSON.stringify({ message: source.message, conversation_id: source.conversationId });
  return [source.endpoint, { method: "POST", headers, body, signal }];
}
// [end:sources]

/** "finished": the server sent done or error; "cut-off": the stream just ended. */
export type AttemptOutcome = "finished" | "cut-off";

/** A non-2xx answer, with Retry-After when the server sent one. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly retryAfterMs: number | null,
  ) {
    super(`chat request failed: HTTP ${status}`);
    this.name = "HttpError";
  }
}

export interface AttemptHandlers {
  onEvent: (event: ChatStreamEvent, sse: SSEEvent) => void;
  /** Any sign of life, keep-alive comments included: feeds the stall watchdog. */
  onActivity?: () => void;
}

/** `Retry-After` in seconds or as an HTTP date, in milliseconds from now. */
export function parseRetryAfter(value: string | null, now: number = Date.now()): number | null {
  if (value === null) return null;
  if (/^\d+$/.test(value.trim())) return Number(value) * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? null : Math.max(0, date - now);
}

// [start:stream-chat]
export async function streamChat(
  source: StreamSource,
  handlers: AttemptHandlers,
  signal: AbortSignal,
  fetchImpl: typeof fetch = fetch,
): Promise<AttemptOutcome> {
  const response = await fetchImpl(...requestFor(source, signal));
  if (!response.ok || response.body === null) {
    await response.body?.cancel();
    throw new HttpError(response.status, parseRetryAfter(response.headers.get("retry-after")));
  }
  let outcome: AttemptOutcome = "cut-off";
  await readEventStream(
    response.body,
    (sse) => {
      handlers.onActivity?.();
      const event = toChatEvent(sse);
      if (event === null) return; // an event type this client does not know yet
      if (event.type === "done" || event.type === "error") outcome = "finished";
      handlers.onEvent(event, sse);
    },
    () => handlers.onActivity?.(), // ": ping" comments
  );
  return outcome;
}
// [end:stream-chat]
