// runTurn: what is retried, how a turn resumes, and what the user is told.
import assert from "node:assert/strict";
import { test } from "node:test";

import type { ChatStreamEvent } from "../lib/chatEvents";
import { runTurn, type TurnOptions } from "../lib/chatTurn";
import { fixture, type Reply, scriptedFetch, streamUntil } from "./helpers";

const CONVERSATION = "00000000-0000-0000-0000-000000000000";
const request = { message: "hello", conversationId: null, idempotencyKey: "0190-key" };

async function turn(replies: Reply[], options: Partial<TurnOptions> = {}) {
  const { fetchImpl, calls } = scriptedFetch(replies);
  const events: ChatStreamEvent[] = [];
  const delays: number[] = [];
  const result = await runTurn(
    request,
    { onEvent: (e) => events.push(e), onRetry: (_attempt, ms) => delays.push(ms) },
    {
      endpoint: "/api/chat",
      resumeUrl: (id) => `/api/conversations/${id}/stream`,
      signal: new AbortController().signal,
      fetchImpl,
      sleep: async () => {},
      random: () => 0.5,
      ...options,
    },
  );
  const text = events.map((e) => (e.type === "token" ? e.delta : "")).join("");
  return { result, calls, text, delays, events };
}

test("an uninterrupted turn is one POST", async () => {
  const { result, calls, text } = await turn([{ body: fixture("chat-stream.sse") }]);
  assert.equal(result.kind, "done");
  assert.equal(calls.length, 1);
  assert.equal(text, "Hello! You said: hello");
});

// [start:resume-test]
test("a stream cut after event 3 resumes from the replay buffer with Last-Event-ID: 3", async () => {
  const { result, calls, text, delays } = await turn([
    { body: streamUntil("chat-stream.sse", 4), breakAfter: true }, // meta and two tokens, then the network drops
    { body: fixture("chat-resume.sse") }, // what the backend's GET .../stream sent after Last-Event-ID: 3
  ]);
  assert.deepEqual(result, {
    kind: "done",
    finishReason: "stop",
    usage: {
      input_tokens: 7,
      output_tokens: 4,
      cached_input_tokens: 0,
      cache_write_input_tokens: 0,
      reasoning_tokens: 0,
    },
  });
  assert.equal(text, "Hello! You said: hello", "every token once, in order");
  assert.equal(calls[1]?.method, "GET");
  assert.equal(calls[1]?.url, `/api/conversations/${CONVERSATION}/stream`);
  assert.equal(calls[1]?.headers.get("last-event-id"), "3");
  assert.deepEqual(delays, [1500], "half of the server's retry: 3000 ceiling, with random() = 0.5");
});
// [end:resume-test]

test("events replayed a second time are applied once", async () => {
  const again = streamUntil("chat-stream.sse", 7).split("\n\n").slice(1).join("\n\n"); // ids 2..6
  const { text } = await turn([{ body: streamUntil("chat-stream.sse", 4) }, { body: again }]);
  assert.equal(text, "Hello! You said: hello");
});

test("a turn the server cut off ends with its retryable error", async () => {
  const cut = 'event: error\ndata: {"code": "stream_cut_off", "retryable": true}\nid: 4\n\n';
  const { result } = await turn([
    { body: streamUntil("chat-stream.sse", 4), breakAfter: true },
    { body: cut },
  ]);
  assert.deepEqual(result, { kind: "error", code: "stream_cut_off", retryable: true });
});

test("a network failure before meta is not retried: the message may have been stored", async () => {
  const { result, calls } = await turn([{ networkError: true }]);
  assert.equal(calls.length, 1);
  assert.deepEqual(result, { kind: "failed", reason: "fetch failed", sent: false });
});

test("a gateway's 503 before meta is retried, honouring Retry-After", async () => {
  const { result, calls, delays } = await turn([
    { status: 503, headers: { "retry-after": "2" } },
    { body: fixture("chat-stream.sse") },
  ]);
  assert.equal(result.kind, "done");
  assert.deepEqual(
    calls.map((c) => c.method),
    ["POST", "POST"],
  );
  assert.equal(
    calls[1]?.headers.get("idempotency-key"),
    "0190-key",
    "the same key on every attempt",
  );
  assert.deepEqual(delays, [2000]);
});

test("a 502 before meta is retried like a 503", async () => {
  const { result, calls } = await turn([{ status: 502 }, { body: fixture("chat-stream.sse") }]);
  assert.equal(result.kind, "done");
  assert.equal(calls.length, 2);
});

test("429 and 4xx fail at once with what the UI needs", async () => {
  const { result, calls } = await turn([{ status: 429, headers: { "retry-after": "30" } }]);
  assert.equal(calls.length, 1);
  assert.deepEqual(result, {
    kind: "failed",
    reason: "chat request failed: HTTP 429",
    status: 429,
    retryAfterMs: 30_000,
    sent: false,
  });
});

test("a resume the buffer no longer holds fails as sent", async () => {
  const { result } = await turn([{ body: streamUntil("chat-stream.sse", 3) }, { status: 404 }]);
  assert.equal(result.kind === "failed" && result.status, 404);
  assert.equal(result.kind === "failed" && result.sent, true);
});

test("a stream silent for stallMs is abandoned and resumed", async () => {
  const { result, calls } = await turn(
    [{ body: streamUntil("chat-stream.sse", 3), hang: true }, { body: fixture("chat-resume.sse") }],
    { stallMs: 50 },
  );
  assert.equal(result.kind, "done");
  assert.equal(calls[0]?.signal?.aborted, true, "the silent attempt was aborted");
  assert.equal(calls[1]?.headers.get("last-event-id"), "2");
});

test("attempts are bounded", async () => {
  const cut = { body: streamUntil("chat-stream.sse", 3) };
  const { result, calls, delays } = await turn([cut, cut, cut, cut], { random: () => 1 });
  assert.deepEqual(result, { kind: "failed", reason: "Connection lost.", sent: true });
  assert.equal(calls.length, 4);
  assert.deepEqual(delays, [3000, 6000, 12000], "ceilings from the server's retry: 3000, doubling");
});

test("stop aborts the request and the backoff wait", async () => {
  const controller = new AbortController();
  const { fetchImpl, calls } = scriptedFetch([
    { body: streamUntil("chat-stream.sse", 3), hang: true },
  ]);
  const pending = runTurn(
    request,
    { onEvent: () => controller.abort() },
    {
      endpoint: "/api/chat",
      resumeUrl: (id) => id,
      signal: controller.signal,
      fetchImpl,
    },
  );
  assert.deepEqual(await pending, { kind: "aborted" });
  assert.equal(calls[0]?.signal?.aborted, true);
});
