// The useChat hook rendered by React into happy-dom, with fetch faked.
import "./dom";

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { beforeEach, test } from "node:test";
import { act, createElement } from "react";
import { createRoot } from "react-dom/client";

import { type UseChat, useChat } from "../hooks/useChat";
import { useChatStore } from "../lib/chatStore";

const initial = useChatStore.getState();
beforeEach(() => useChatStore.setState(initial, true));

/** A fetch that answers with *body*, then either ends or stays open until aborted. */
function fakeFetch(body: string, { end }: { end: boolean }) {
  const signals: AbortSignal[] = [];
  const fetchImpl: typeof fetch = async (_input, init) => {
    const signal = init?.signal ?? new AbortController().signal;
    signals.push(signal);
    const stream = new ReadableStream<Uint8Array<ArrayBuffer>>({
      start(controller) {
        controller.enqueue(new TextEncoder().encode(body));
        if (end) controller.close();
        // As a real fetch does, aborting errors the body being read.
        signal.addEventListener("abort", () => controller.error(signal.reason));
      },
    });
    return new Response(stream, { headers: { "content-type": "text/event-stream" } });
  };
  return { fetchImpl, signals };
}

async function mount(): Promise<{ hook: () => UseChat; unmount: () => Promise<void> }> {
  let latest: UseChat | undefined;
  function Probe() {
    latest = useChat("/api/chat");
    return null;
  }
  const root = createRoot(document.createElement("div"));
  await act(async () => root.render(createElement(Probe)));
  return {
    hook: () => latest as UseChat,
    unmount: () => act(async () => root.unmount()),
  };
}

test("a reply streams into the assistant message", async () => {
  const stream = readFileSync(new URL("./fixtures/chat-stream.sse", import.meta.url), "utf8");
  globalThis.fetch = fakeFetch(stream, { end: true }).fetchImpl;
  const { hook, unmount } = await mount();
  await act(() => hook().send("hello"));
  assert.deepEqual(
    hook().messages.map((m) => [m.role, m.content]),
    [["user", "hello"], ["assistant", "Hello! You said: hello"]],
  );
  assert.equal(hook().status, "idle");
  assert.equal(useChatStore.getState().conversationId, "00000000-0000-0000-0000-000000000000");
  await unmount();
});

test("unmounting aborts the request in flight", async () => {
  const { fetchImpl, signals } = fakeFetch("event: token\ndata: {\"delta\": \"Hi\"}\n\n", { end: false });
  globalThis.fetch = fetchImpl;
  const { hook, unmount } = await mount();
  let pending: Promise<void> = Promise.resolve();
  await act(async () => {
    pending = hook().send("hello");
  });
  assert.equal(signals[0]?.aborted, false);
  assert.equal(useChatStore.getState().status, "streaming");
  await unmount();
  assert.equal(signals[0]?.aborted, true, "the request outlived the component");
  await pending;
  assert.equal(useChatStore.getState().status, "idle");
});

test("a stream that ends without done is reported as lost", async () => {
  globalThis.fetch = fakeFetch("event: token\ndata: {\"delta\": \"Hi\"}\n\n", { end: true }).fetchImpl;
  const { hook, unmount } = await mount();
  await act(() => hook().send("hello"));
  assert.equal(hook().status, "error");
  assert.equal(hook().error, "Connection lost.");
  await unmount();
});
