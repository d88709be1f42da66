// streamChat against a fake fetch that serves the backend's recorded stream.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";

import type { ChatStreamEvent } from "../lib/chatEvents";
import { streamChat } from "../lib/chatClient";
import { useChatStore } from "../lib/chatStore";

const fixture = (name: string): Uint8Array<ArrayBuffer> =>
  new Uint8Array(readFileSync(new URL(`./fixtures/${name}`, import.meta.url)));

function serve(body: Uint8Array<ArrayBuffer>, status = 200) {
  const requests: { url: string; init: RequestInit | undefined }[] = [];
  const fakeFetch: typeof fetch = async (input, init) => {
    requests.push({ url: String(input), init });
    const stream = new ReadableStream<Uint8Array<ArrayBuffer>>({
      start(controller) {
        for (let i = 0; i < body.length; i += 5) controller.enqueue(body.slice(i, i + 5));
        controller.close();
      },
    });
    return new Response(stream, { status, headers: { "content-type": "text/event-stream" } });
  };
  return { fakeFetch, requests };
}

test("a turn posts JSON and reports every event in order", async () => {
  const { fakeFetch, requests } = serve(fixture("chat-stream.sse"));
  const events: ChatStreamEvent[] = [];
  const turn = { message: "hello", conversationId: null };
  const outcome = await streamChat("/api/chat", turn, (e) => events.push(e), new AbortController().signal, fakeFetch);

  assert.equal(outcome, "finished");
  assert.equal(requests[0]?.url, "/api/chat");
  assert.equal(requests[0]?.init?.method, "POST");
  assert.deepEqual(JSON.parse(String(requests[0]?.init?.body)), { message: "hello", conversation_id: null });
  assert.deepEqual(
    events.map((e) => e.type),
    ["meta", "token", "token", "token", "token", "done"],
  );
});

test("a stream that stops before done is reported as cut off", async () => {
  const whole = new TextDecoder().decode(fixture("chat-stream.sse"));
  const { fakeFetch } = serve(new TextEncoder().encode(whole.slice(0, whole.indexOf("event: done"))));
  const outcome = await streamChat("/c", { message: "x", conversationId: "c1" }, () => {}, new AbortController().signal, fakeFetch);
  assert.equal(outcome, "cut-off");
});

test("an HTTP error is thrown, not parsed", async () => {
  const { fakeFetch } = serve(new TextEncoder().encode('{"detail":"rate limit exceeded"}'), 429);
  await assert.rejects(
    streamChat("/c", { message: "x", conversationId: null }, () => {}, new AbortController().signal, fakeFetch),
    /HTTP 429/,
  );
});

test("the store appends deltas to the assistant message being streamed", () => {
  const store = useChatStore.getState();
  store.addUserMessage("hi");
  store.startAssistantMessage();
  useChatStore.getState().appendToAssistant("Hel");
  useChatStore.getState().appendToAssistant("lo");
  const { messages, status } = useChatStore.getState();
  assert.deepEqual(
    messages.map((m) => [m.role, m.content]),
    [["user", "hi"], ["assistant", "Hello"]],
  );
  assert.equal(status, "streaming");
});
