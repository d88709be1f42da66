// A whole chat turn: the POST, then as many resumptions as it takes, with backoff and a
// watchdog for streams that go silent. React-free, so every path is unit-tested with a
// fake fetch.
//
// The rule that decides what may be retried: until the `meta` event arrives, the client
// cannot tell whether the server stored the message, and the reference backend does not
// deduplicate a repeated POST; so a POST is repeated only when a gateway answered 502 or
// 503, which means the request never reached the chat service. Once `meta` has arrived,
// the turn has an id, and every later attempt is a GET that resumes it from the replay
// buffer after the last event applied, which is safe to repeat.
import { backoffDelay, sleep as realSleep } from "./backoff";
import type { ChatStreamEvent, Usage } from "./chatEvents";
import { HttpError, type StreamSource, streamChat } from "./chatClient";

export type TurnResult =
  | { kind: "done"; finishReason: string; usage: Usage | null }
  | { kind: "error"; code: string; retryable: boolean } // the server ended the turn
  | { kind: "aborted" } // the user pressed stop, or the component unmounted
  | {
      kind: "failed";
      reason: string;
      status?: number;
      retryAfterMs?: number | null;
      sent: boolean;
    };

export interface TurnRequest {
  message: string;
  conversationId: string | null;
  idempotencyKey: string;
}

export interface TurnCallbacks {
  /** `meta` and `token` events, in order, each exactly once across attempts. */
  onEvent: (event: ChatStreamEvent) => void;
  /** A retry is scheduled; the UI can say "reconnecting". */
  onRetry?: (attempt: number, delayMs: number) => void;
}

export interface TurnOptions {
  endpoint: string;
  /** Where a turn of this conversation is resumed from. */
  resumeUrl: (conversationId: string) => string;
  signal: AbortSignal;
  /** Attempts in all, the first one included. */
  maxAttempts?: number;
  /** Abort an attempt after this long without a byte; the server pings every 15 s. */
  stallMs?: number;
  fetchImpl?: typeof fetch;
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  random?: () => number;
}

class StallError extends Error {
  constructor() {
    super("the stream went silent");
    this.name = "StallError";
  }
}

const gatewayFailure = (e: unknown) =>
  e instanceof HttpError && (e.status === 502 || e.status === 503);
const transient = (e: unknown) =>
  // fetch() rejects with a TypeError when the network fails; so does a body cut mid-read.
  e instanceof TypeError ||
  e instanceof StallError ||
  (e instanceof HttpError && [502, 503, 504].includes(e.status));

// [start:run-turn]
export async function runTurn(
  request: TurnRequest,
  callbacks: TurnCallbacks,
  options: TurnOptions,
): Promise<TurnResult> {
  const { signal, maxAttempts = 4, stallMs = 35_000, fetchImpl = fetch } = options;
  const sleep = options.sleep ?? realSleep;
  let turnOf = null as string | null; // the conversation id from `meta`: the turn exists
  let lastId = 0; // the last event applied, sent back as Last-Event-ID
  let retryMs = 1000; // until the server's `retry:` field says otherwise
  let hint: number | null = null; // Retry-After from the last failure

  for (let attempt = 0; attempt < maxAttempts; attempt++) {
    if (attempt > 0) {
      const delay =
        hint ?? backoffDelay(attempt - 1, { baseMs: retryMs, capMs: 15_000 }, options.random);
      callbacks.onRetry?.(attempt, delay);
      try {
        await sleep(delay, signal);
      } catch {
        return { kind: "aborted" };
      }
    }
    const source: StreamSource =
      turnOf === null
        ? { kind: "post", endpoint: options.endpoint, ...request }
        : { kind: "resume", url: options.resumeUrl(turnOf), lastEventId: lastId };

    // One controller per attempt: the watchdog aborts the attempt, not the turn.
    const attemptAbort = new AbortController();
    const forward = () => attemptAbort.abort(signal.reason);
    signal.addEventListener("abort", forward, { once: true });
    let watchdog = setTimeout(() => attemptAbort.abort(new StallError()), stallMs);
    const alive = () => {
      clearTimeout(watchdog);
      watchdog = setTimeout(() => attemptAbort.abort(new StallError()), stallMs);
    };

    let result = null as TurnResult | null; // set in the callback; the cast stops narrowing
    try {
      const outcome = await streamChat(
        source,
        {
          onActivity: alive,
          onEvent: (event, sse) => {
            const id = Number(sse.id);
            if (id <= lastId) return; // replayed: applied already
            lastId = id;
            if (sse.retry !== undefined) retryMs = sse.retry;
            if (event.type === "meta") turnOf = event.conversationId;
            if (event.type === "done")
              result = { kind: "done", finishReason: event.finishReason, usage: event.usage };
            else if (event.type === "error")
              result = { kind: "error", code: event.code, retryable: event.retryable };
            else callbacks.onEvent(event);
          },
        },
        attemptAbort.signal,
        fetchImpl,
      );
      if (outcome === "finished" && result !== null) return result;
      if (turnOf === null)
        return { kind: "failed", reason: "The server closed the connection.", sent: false };
      hint = null; // cut off after meta: resume
    } catch (error) {
      if (signal.aborted) return { kind: "aborted" };
      const cause = attemptAbort.signal.aborted ? attemptAbort.signal.reason : error;
      const retry = turnOf === null ? gatewayFailure(cause) : transient(cause);
      if (!retry) {
        const reason = cause instanceof Error ? cause.message : String(cause);
        if (cause instanceof HttpError) {
          return {
            kind: "failed",
            reason,
            status: cause.status,
            retryAfterMs: cause.retryAfterMs,
            sent: turnOf !== null,
          };
        }
        return { kind: "failed", reason, sent: turnOf !== null };
      }
      hint = cause instanceof HttpError ? cause.retryAfterMs : null;
    } finally {
      clearTimeout(watchdog);
      signal.removeEventListener("abort", forward);
    }
  }
  return { kind: "failed", reason: "Connection lost.", sent: turnOf !== null };
}
// [end:run-turn]
