// Unit tests for lib/sse.ts and lib/chatEvents.ts, run by Node's test runner via tsx.
// The fixtures are the backend's real output, written and checked by
// tests/examples/test_backend_chat.py, so the two ends cannot drift apart.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";

import { type ChatStreamEvent, toChatEvent } from "../lib/chatEvents";
import { createSSEParser, readEventStream, type SSEEvent } from "../lib/sse";

const fixture = (name: string): string =>
  readFileSync(new URL(`./fixtures/${name}`, import.meta.url), "utf8");

function parseAll(chunks: string[]): { events: SSEEvent[]; comments: string[] } {
  const events: SSEEvent[] = [];
  const comments: string[] = [];
  const parser = createSSEParser(
    (e) => events.push(e),
    (c) => comments.push(c),
  );
  for (const chunk of chunks) parser.feed(chunk);
  parser.end();
  return { events, comments };
}

function splitEvery(text: string, size: number): string[] {
  const parts: string[] = [];
  for (let i = 0; i < text.length; i += size) parts.push(text.slice(i, i + size));
  return parts;
}

function chatEvents(events: SSEEvent[]): ChatStreamEvent[] {
  return events.map(toChatEvent).filter((e): e is ChatStreamEvent => e !== null);
}

test("the backend's reply stream parses into meta, tokens and done", () => {
  const { events } = parseAll([fixture("chat-stream.sse")]);
  const chat = chatEvents(events);
  assert.deepEqual(chat[0], {
    type: "meta",
    conversationId: "00000000-0000-0000-0000-000000000000",
  });
  const text = chat.map((e) => (e.type === "token" ? e.delta : "")).join("");
  assert.equal(text, "Hello! You said: hello");
  const last = chat.at(-1);
  assert.equal(last?.type, "done");
  assert.equal(last?.type === "done" && last.finishReason, "stop");
  assert.deepEqual(
    events.map((e) => e.id),
    ["1", "2", "3", "4", "5", "6"],
  );
  assert.equal(events[0]?.retry, 3000);
  assert.equal(events[1]?.retry, undefined);
});

test("the backend's error stream parses into an error event", () => {
  const chat = chatEvents(parseAll([fixture("chat-error.sse")]).events);
  assert.deepEqual(chat.at(-1), { type: "error", code: "provider_unavailable", retryable: true });
});

test("any chunking gives the same events", () => {
  const whole = fixture("chat-stream.sse");
  const expected = parseAll([whole]).events;
  for (const size of [1, 2, 3, 7, 64]) {
    assert.deepEqual(parseAll(splitEvery(whole, size)).events, expected, `chunks of ${size}`);
  }
});

test("CRLF and CR streams parse like LF, however they are chunked", () => {
  const lf = fixture("chat-stream.sse");
  const expected = parseAll([lf]).events;
  for (const ending of ["\r\n", "\r"]) {
    const text = lf.replaceAll("\n", ending);
    for (const size of [1, 2, 5]) {
      assert.deepEqual(
        parseAll(splitEvery(text, size)).events,
        expected,
        `${JSON.stringify(ending)} / ${size}`,
      );
    }
  }
});

test("an event the stream cuts off is never dispatched", () => {
  assert.deepEqual(parseAll(["data: complete\n\n", "data: cut off\n"]).events, [
    { event: "message", data: "complete", id: "" },
  ]);
});

test("a CRLF split between chunks is one line ending, not two", () => {
  const { events } = parseAll(["data: a\r", "\ndata: b\r", "\n\r\n"]);
  assert.deepEqual(events, [{ event: "message", data: "a\nb", id: "" }]);
});

test("CRLF and CR line endings, split CRLF, comments and multi-line data", () => {
  const { events, comments } = parseAll([
    "\uFEFF: ping\r",
    "\nevent: token\r\ndata: a\rdata: b\r",
    "\n\r\n",
    "data: no space\n\n",
  ]);
  assert.deepEqual(comments, ["ping"]);
  assert.deepEqual(events, [
    { event: "token", data: "a\nb", id: "" },
    { event: "message", data: "no space", id: "" },
  ]);
});

test("ids persist, bad retry values and unknown fields are ignored, empty events dropped", () => {
  const { events } = parseAll([
    "id: 7\nretry: soon\nfoo: bar\ndata: x\n\n",
    "event: lonely\n\n",
    "data: y\n\n",
  ]);
  assert.deepEqual(events, [
    { event: "message", data: "x", id: "7" },
    { event: "message", data: "y", id: "7" },
  ]);
});

test("readEventStream decodes UTF-8 split across byte chunks", async () => {
  const bytes = new TextEncoder().encode('event: token\ndata: {"delta": "h\u00e9llo \u2603"}\n\n');
  const body = new ReadableStream<Uint8Array<ArrayBuffer>>({
    start(controller) {
      for (const byte of bytes) controller.enqueue(new Uint8Array([byte]));
      controller.close();
    },
  });
  const events: SSEEvent[] = [];
  await readEventStream(body, (e) => events.push(e));
  assert.deepEqual(chatEvents(events), [{ type: "token", delta: "h\u00e9llo \u2603" }]);
});
