// The useChat hook rendered by React into happy-dom, with fetch faked.
import "./dom";

import assert from "node:assert/strict";
import { beforeEach, test } from "node:test";
import { act, createElement } from "react";
import { createRoot } from "react-dom/client";

import { type UseChat, useChat } from "../hooks/useChat";
import { flushChatStorage, useChatStore } from "../lib/chatStore";
import { fixture, type Reply, scriptedFetch, streamUntil } from "./helpers";

const initial = useChatStore.getState();
let online = true;
Object.defineProperty(navigator, "onLine", { configurable: true, get: () => online });

beforeEach(() => {
  useChatStore.setState(initial, true);
  flushChatStorage();
  online = true;
});

function serve(replies: Reply[]) {
  const scripted = scriptedFetch(replies);
  globalThis.fetch = scripted.fetchImpl;
  return scripted.calls;
}

async function mount(): Promise<{ hook: () => UseChat; unmount: () => Promise<void> }> {
  let latest: UseChat | undefined;
  function Probe() {
    latest = useChat();
    return null;
  }
  const root = createRoot(document.createElement("div"));
  await act(async () => root.render(createElement(Probe)));
  return { hook: () => latest as UseChat, unmount: () => act(async () => root.unmount()) };
}

/** Run `fn` in act() and wait until the turn it started has finished. */
async function settled(fn: () => void): Promise<void> {
  await act(async () => {
    fn();
    for (
      let i = 0;
      i < 200 &&
      Object.values(useChatStore.getState().conversations).some((c) =>
        c.messages.some((m) => m.status === "streaming" || m.status === "sending"),
      );
      i++
    ) {
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  });
}

const shape = (hook: UseChat) => hook.messages.map((m) => [m.role, m.content, m.status]);

test("a reply streams into the assistant message", async () => {
  const calls = serve([{ body: fixture("chat-stream.sse") }]);
  const { hook, unmount } = await mount();
  await settled(() => hook().send("hello"));
  assert.deepEqual(shape(hook()), [
    ["user", "hello", "sent"],
    ["assistant", "Hello! You said: hello", "done"],
  ]);
  assert.equal(hook().conversation?.serverId, "00000000-0000-0000-0000-000000000000");
  assert.equal(calls.length, 1);
  assert.equal(
    calls[0]?.headers.get("idempotency-key"),
    hook().messages[0]?.id,
    "the message id is the key",
  );
  await unmount();
});

test("a broken stream resumes through /api/conversations/{id}/stream", async () => {
  const calls = serve([
    { body: streamUntil("chat-stream.sse", 4), breakAfter: true },
    { body: fixture("chat-resume.sse") },
  ]);
  const { hook, unmount } = await mount();
  const random = Math.random;
  Math.random = () => 0; // no backoff wait
  try {
    await settled(() => hook().send("hello"));
  } finally {
    Math.random = random;
  }
  assert.deepEqual(shape(hook()), [
    ["user", "hello", "sent"],
    ["assistant", "Hello! You said: hello", "done"],
  ]);
  assert.equal(calls[1]?.url, "/api/conversations/00000000-0000-0000-0000-000000000000/stream");
  await unmount();
});

test("unmounting aborts the request in flight", async () => {
  const calls = serve([{ body: streamUntil("chat-stream.sse", 3), hang: true }]);
  const { hook, unmount } = await mount();
  await act(async () => hook().send("hello"));
  await act(() => new Promise((resolve) => setTimeout(resolve, 20)));
  assert.equal(calls[0]?.signal?.aborted, false);
  await unmount();
  assert.equal(calls[0]?.signal?.aborted, true, "the request outlived the component");
});

test("a message that could not be sent is marked failed and retried with the same id", async () => {
  const calls = serve([{ networkError: true }, { body: fixture("chat-stream.sse") }]);
  const { hook, unmount } = await mount();
  await settled(() => hook().send("hello"));
  assert.deepEqual(shape(hook()), [["user", "hello", "failed"]]);
  assert.equal(hook().messages[0]?.error, "Not sent. Check your connection and retry.");
  const id = hook().messages[0]?.id ?? "";
  await settled(() => hook().retry(id));
  assert.deepEqual(shape(hook()), [
    ["user", "hello", "sent"],
    ["assistant", "Hello! You said: hello", "done"],
  ]);
  assert.equal(calls[1]?.headers.get("idempotency-key"), id);
  await unmount();
});

test("offline messages wait in the outbox and go out when the connection returns", async () => {
  online = false;
  const calls = serve([{ body: fixture("chat-stream.sse") }]);
  const { hook, unmount } = await mount();
  await act(async () => hook().send("hello"));
  assert.deepEqual(shape(hook()), [["user", "hello", "queued"]]);
  assert.equal(calls.length, 0);
  online = true;
  await settled(() => window.dispatchEvent(new Event("online")));
  assert.deepEqual(shape(hook()), [
    ["user", "hello", "sent"],
    ["assistant", "Hello! You said: hello", "done"],
  ]);
  await unmount();
});

test("a rate-limited turn tells the user when to try again", async () => {
  serve([{ status: 429, headers: { "retry-after": "20" } }]);
  const { hook, unmount } = await mount();
  await settled(() => hook().send("hello"));
  assert.equal(hook().messages[0]?.status, "failed");
  assert.equal(hook().messages[0]?.error, "Too many messages. Try again in 20 s.");
  await unmount();
});

test("when the buffer no longer holds the turn, the stored conversation is shown", async () => {
  const calls = serve([
    { body: streamUntil("chat-stream.sse", 4), breakAfter: true },
    { status: 404, body: '{"detail": "no turn to resume"}' },
    { body: fixture("conversation.json"), headers: { "content-type": "application/json" } },
  ]);
  const { hook, unmount } = await mount();
  const random = Math.random;
  Math.random = () => 0;
  try {
    await settled(() => hook().send("hello"));
    await act(() => new Promise((resolve) => setTimeout(resolve, 20)));
  } finally {
    Math.random = random;
  }
  assert.equal(calls[2]?.url, "/api/conversations/00000000-0000-0000-0000-000000000000");
  assert.deepEqual(shape(hook()).slice(0, 2), [
    ["user", "hello", "sent"],
    ["assistant", "Hello! You said: hello", "done"],
  ]);
  await unmount();
});

test("a provider failure keeps the question and says what to do", async () => {
  serve([{ body: fixture("chat-error.sse") }]);
  const { hook, unmount } = await mount();
  await settled(() => hook().send("hello"));
  assert.deepEqual(shape(hook()), [
    ["user", "hello", "sent"],
    ["assistant", "", "interrupted"],
  ]);
  assert.equal(
    hook().messages[1]?.error,
    "The model is unavailable right now. Try again in a minute.",
  );
  await unmount();
});

test("a message the server rejects as too long is marked failed with the reason", async () => {
  serve([{ status: 422, body: '{"detail": "message too long"}' }]);
  const { hook, unmount } = await mount();
  await settled(() => hook().send("x"));
  assert.equal(hook().messages[0]?.status, "failed");
  assert.equal(hook().messages[0]?.error, "The message is too long.");
  await unmount();
});
