// streamChat against a fake fetch serving the backend's recorded streams.
import assert from "node:assert/strict";
import { test } from "node:test";

import type { ChatStreamEvent } from "../lib/chatEvents";
import { HttpError, parseRetryAfter, streamChat } from "../lib/chatClient";
import { fixture, scriptedFetch, streamUntil } from "./helpers";

const post = {
  kind: "post",
  endpoint: "/api/chat",
  message: "hello",
  conversationId: null,
  idempotencyKey: "k1",
} as const;

test("a turn posts JSON with an idempotency key and reports every event in order", async () => {
  const { fetchImpl, calls } = scriptedFetch([{ body: fixture("chat-stream.sse") }]);
  const events: ChatStreamEvent[] = [];
  const ids: string[] = [];
  const outcome = await streamChat(
    post,
    { onEvent: (e, sse) => (events.push(e), ids.push(sse.id)) },
    new AbortController().signal,
    fetchImpl,
  );

  assert.equal(outcome, "finished");
  assert.equal(calls[0]?.method, "POST");
  assert.equal(calls[0]?.headers.get("idempotency-key"), "k1");
  assert.equal(calls[0]?.headers.get("last-event-id"), null);
  assert.deepEqual(JSON.parse(calls[0]?.body ?? ""), { message: "hello", conversation_id: null });
  assert.deepEqual(
    events.map((e) => e.type),
    ["meta", "token", "token", "token", "token", "done"],
  );
  assert.deepEqual(ids, ["1", "2", "3", "4", "5", "6"]);
});

test("a resume is a GET carrying Last-Event-ID", async () => {
  const { fetchImpl, calls } = scriptedFetch([{ body: fixture("chat-resume.sse") }]);
  const deltas: string[] = [];
  const source = { kind: "resume", url: "/api/conversations/c1/stream", lastEventId: 3 } as const;
  const onEvent = (e: ChatStreamEvent) => e.type === "token" && deltas.push(e.delta);
  assert.equal(
    await streamChat(source, { onEvent }, new AbortController().signal, fetchImpl),
    "finished",
  );
  assert.equal(calls[0]?.method, "GET");
  assert.equal(calls[0]?.headers.get("last-event-id"), "3");
  assert.deepEqual(deltas, [" said:", " hello"]);
});

test("a stream that stops before done is reported as cut off", async () => {
  const { fetchImpl } = scriptedFetch([{ body: streamUntil("chat-stream.sse", 6) }]);
  assert.equal(
    await streamChat(post, { onEvent: () => {} }, new AbortController().signal, fetchImpl),
    "cut-off",
  );
});

test("keep-alive comments count as activity", async () => {
  const { fetchImpl } = scriptedFetch([{ body: `: ping\n\n${fixture("chat-stream.sse")}` }]);
  let activity = 0;
  await streamChat(
    post,
    { onEvent: () => {}, onActivity: () => activity++ },
    new AbortController().signal,
    fetchImpl,
  );
  assert.equal(activity, 7); // one comment, six events
});

test("an HTTP error is thrown with its Retry-After, not parsed", async () => {
  const { fetchImpl } = scriptedFetch([
    { status: 429, body: '{"detail":"rate limit exceeded"}', headers: { "retry-after": "12" } },
  ]);
  await assert.rejects(
    streamChat(post, { onEvent: () => {} }, new AbortController().signal, fetchImpl),
    (e: unknown) => {
      assert.ok(e instanceof HttpError);
      assert.equal(e.status, 429);
      assert.equal(e.retryAfterMs, 12_000);
      return true;
    },
  );
});

test("Retry-After as seconds or as an HTTP date", () => {
  const now = Date.parse("2026-01-01T00:00:00Z");
  assert.equal(parseRetryAfter("3", now), 3000);
  assert.equal(parseRetryAfter("Thu, 01 Jan 2026 00:00:30 GMT", now), 30_000);
  assert.equal(parseRetryAfter("soon", now), null);
  assert.equal(parseRetryAfter(null, now), null);
});
