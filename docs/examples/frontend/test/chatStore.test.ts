// The conversation store: optimistic turns, reconciliation with the server, persistence.
import "./dom";

import assert from "node:assert/strict";
import { beforeEach, test } from "node:test";

import {
  type ChatData,
  type Conversation,
  flushChatStorage,
  forStorage,
  KEEP_CONVERSATIONS,
  KEEP_MESSAGES,
  parseServerTime,
  PERSIST_KEY,
  reconcileConversation,
  type ServerConversation,
  useChatStore,
} from "../lib/chatStore";
import { createDeltaBuffer } from "../lib/deltaBuffer";
import { throttledStorage } from "../lib/persistStorage";
import { fixture } from "./helpers";

const initial = useChatStore.getState();
beforeEach(() => {
  useChatStore.setState(initial, true);
  flushChatStorage();
  localStorage.clear();
});

const store = () => useChatStore.getState();
const active = (): Conversation => {
  const { activeId, conversations } = store();
  assert.ok(activeId);
  const c = conversations[activeId];
  assert.ok(c);
  return c;
};
const shape = (c: Conversation) => c.messages.map((m) => [m.role, m.content, m.status]);

test("a turn: optimistic message, confirmed by meta, reply streamed and finished", () => {
  const cid = store().newConversation();
  const mid = store().addUserMessage(cid, "hello", "sending");
  const rid = store().startReply(cid);
  assert.deepEqual(shape(active()), [
    ["user", "hello", "sending"],
    ["assistant", "", "streaming"],
  ]);
  store().confirm(cid, mid, "srv-1");
  store().appendToReply(cid, rid, "Hel");
  store().appendToReply(cid, rid, "lo");
  store().finishReply(cid, rid, "done");
  assert.deepEqual(shape(active()), [
    ["user", "hello", "sent"],
    ["assistant", "Hello", "done"],
  ]);
  assert.equal(active().serverId, "srv-1");
  assert.equal(active().title, "hello");
});

test("updates keep the identity of untouched messages, so memoised rows skip rendering", () => {
  const cid = store().newConversation();
  store().addUserMessage(cid, "one", "sending");
  const rid = store().startReply(cid);
  const before = active().messages[0];
  store().appendToReply(cid, rid, "x");
  assert.equal(active().messages[0], before);
});

test("an unconfirmed message that fails is kept, marked failed, and its empty reply removed", () => {
  const cid = store().newConversation();
  const mid = store().addUserMessage(cid, "hello", "sending");
  const rid = store().startReply(cid);
  store().failMessage(cid, mid, rid, "Not sent.");
  assert.deepEqual(shape(active()), [["user", "hello", "failed"]]);
  assert.equal(active().messages[0]?.error, "Not sent.");
  store().resend(cid, mid);
  assert.deepEqual(shape(active()), [["user", "hello", "sending"]]);
  assert.equal(active().messages[0]?.error, undefined);
});

test("a confirmed message stays sent when its reply breaks; the partial reply is kept", () => {
  const cid = store().newConversation();
  const mid = store().addUserMessage(cid, "hello", "sending");
  const rid = store().startReply(cid);
  store().confirm(cid, mid, "srv-1");
  store().appendToReply(cid, rid, "Hel");
  store().failMessage(cid, mid, rid, "Stopped.");
  assert.deepEqual(shape(active()), [
    ["user", "hello", "sent"],
    ["assistant", "Hel", "interrupted"],
  ]);
});

// [start:reconcile-test]
test("reconciling with the stored conversation: the server's messages, then pending local ones", () => {
  const server = JSON.parse(fixture("conversation.json")) as ServerConversation;
  const cid = store().newConversation();
  const first = store().addUserMessage(cid, "hello", "sending");
  store().confirm(cid, first, server.id);
  const rid = store().startReply(cid);
  store().appendToReply(cid, rid, "Hello! You said: hel"); // this tab saw part of it
  store().finishReply(cid, rid, "interrupted");
  store().addUserMessage(cid, "typed offline", "queued");
  store().reconcile(cid, server);

  assert.deepEqual(shape(active()), [
    ["user", "hello", "sent"],
    ["assistant", "Hello! You said: hello", "done"],
    ["user", "and again", "sent"],
    ["assistant", "Hello! You said: and again", "done"],
    ["user", "typed offline", "queued"],
  ]);
  assert.equal(active().messages[0]?.id, first, "matching rows keep their local ids");
  assert.equal(active().messages[1]?.id, rid);
  assert.equal(
    active().messages[0]?.createdAt,
    Date.parse("2026-01-01T00:00:00Z"),
    "naive timestamps are UTC",
  );
});
// [end:reconcile-test]

test("a conversation is not reconciled while a reply streams into it", () => {
  const server = JSON.parse(fixture("conversation.json")) as ServerConversation;
  const cid = store().newConversation();
  store().addUserMessage(cid, "hello", "sending");
  store().startReply(cid);
  store().reconcile(cid, server);
  assert.equal(active().messages.length, 2);
});

test("server timestamps with and without a zone", () => {
  assert.equal(parseServerTime("2026-01-01T12:00:00"), Date.parse("2026-01-01T12:00:00Z"));
  assert.equal(parseServerTime("2026-01-01T12:00:00+02:00"), Date.parse("2026-01-01T10:00:00Z"));
  assert.equal(
    parseServerTime("2026-01-01T12:00:00.123456Z"),
    Date.parse("2026-01-01T12:00:00.123Z"),
  );
});

test("deleting is optimistic and rolls back when the server refuses", async () => {
  const cid = store().newConversation();
  const mid = store().addUserMessage(cid, "keep me", "sending");
  store().confirm(cid, mid, "srv-9");
  let resolve = () => {};
  const pending = store().deleteConversation(
    cid,
    () => new Promise<void>((_ok, fail) => (resolve = () => fail(new Error("HTTP 500")))),
  );
  assert.equal(store().conversations[cid], undefined, "gone from the list at once");
  resolve();
  await assert.rejects(pending, /HTTP 500/);
  assert.equal(store().conversations[cid]?.title, "keep me", "back after the failure");
  assert.equal(store().activeId, cid);

  const removed: string[] = [];
  await store().deleteConversation(cid, async (serverId) => void removed.push(serverId));
  assert.deepEqual(removed, ["srv-9"]);
  assert.equal(store().conversations[cid], undefined);
});

// [start:persistence-test]
test("persistence: one throttled write, recent conversations only, nothing in flight after a reload", async () => {
  for (let i = 0; i < KEEP_CONVERSATIONS + 5; i++) {
    const cid = store().newConversation();
    for (let j = 0; j < 3; j++) store().addUserMessage(cid, `m${j}`, "sending");
  }
  const cid = store().newConversation();
  store().addUserMessage(cid, "last", "sending");
  const rid = store().startReply(cid);
  for (let i = 0; i < 500; i++) store().appendToReply(cid, rid, "token ");
  assert.equal(localStorage.getItem(PERSIST_KEY), null, "nothing written per token");

  flushChatStorage(); // what hiding the page does
  const saved = JSON.parse(localStorage.getItem(PERSIST_KEY) ?? "null") as {
    version: number;
    state: ChatData;
  };
  assert.equal(saved.version, 1);
  assert.equal(Object.keys(saved.state.conversations).length, KEEP_CONVERSATIONS);

  // A reload: empty memory, then the store reads what the last page left in storage.
  const raw = localStorage.getItem(PERSIST_KEY) ?? "";
  useChatStore.setState(initial, true);
  flushChatStorage();
  localStorage.setItem(PERSIST_KEY, raw);
  await useChatStore.persist.rehydrate();
  const reloaded = store().conversations[cid];
  assert.deepEqual(
    reloaded?.messages.map((m) => m.status),
    ["failed", "interrupted"],
  );
  assert.equal(reloaded?.messages[1]?.content.length, 3000);
  assert.equal(store().activeId, cid);
});
// [end:persistence-test]

test("forStorage keeps the last messages of a long conversation", () => {
  const messages = Array.from({ length: KEEP_MESSAGES + 20 }, (_, i) => ({
    id: `m${i}`,
    role: "user" as const,
    content: String(i),
    status: "sent" as const,
    createdAt: i,
  }));
  const data: ChatData = {
    activeId: "c",
    conversations: { c: { id: "c", serverId: null, title: "t", updatedAt: 1, messages } },
  };
  const kept = forStorage(data).conversations.c?.messages ?? [];
  assert.equal(kept.length, KEEP_MESSAGES);
  assert.equal(kept[0]?.content, "20");
});

test("a full localStorage is reported, not thrown into the action that called set()", () => {
  const errors: unknown[] = [];
  const timers: (() => void)[] = [];
  const full = {
    getItem: () => null,
    setItem: () => {
      throw new DOMException("quota", "QuotaExceededError");
    },
    removeItem: () => {},
  } as unknown as Storage;
  const storage = throttledStorage<{ n: number }>(() => full, {
    onError: (e) => errors.push(e),
    setTimer: (fn) => timers.push(fn),
  });
  assert.ok(storage);
  storage.setItem("k", { state: { n: 1 }, version: 1 });
  storage.setItem("k", { state: { n: 2 }, version: 1 });
  assert.equal(timers.length, 1, "one timer for many writes");
  assert.deepEqual(
    storage.getItem("k"),
    { state: { n: 2 }, version: 1 },
    "reads see the pending value",
  );
  assert.doesNotThrow(() => timers[0]?.());
  assert.equal((errors[0] as DOMException).name, "QuotaExceededError");
});

test("a stored shape this release cannot read starts empty, and the page still hydrates", async () => {
  flushChatStorage();
  localStorage.setItem(
    PERSIST_KEY,
    JSON.stringify({ state: { conversations: { c: { id: "c" } } }, version: 1 }),
  );
  await useChatStore.persist.rehydrate();
  assert.equal(useChatStore.persist.hasHydrated(), true);
  assert.deepEqual(store().conversations, {});
});

test("corrupted storage starts empty instead of crashing the app", () => {
  const storage = throttledStorage<unknown>(
    () => ({ getItem: () => "{not json" }) as unknown as Storage,
  );
  assert.equal(storage?.getItem("k"), null);
  assert.equal(
    throttledStorage(() => {
      throw new Error("no storage on the server");
    }),
    undefined,
  );
});

test("the delta buffer applies one joined update per frame", () => {
  const applied: string[] = [];
  const frames: (() => void)[] = [];
  const buffer = createDeltaBuffer(
    (t) => applied.push(t),
    (cb) => (frames.push(cb), () => {}),
  );
  for (const d of ["Hel", "lo", ", ", "wor"]) buffer.push(d);
  assert.equal(frames.length, 1);
  frames[0]?.();
  buffer.push("ld");
  buffer.flush(); // the turn ended: no waiting for a frame that a hidden tab never gets
  assert.deepEqual(applied, ["Hello, wor", "ld"]);
  buffer.push("dropped");
  buffer.cancel();
  buffer.flush();
  assert.deepEqual(applied, ["Hello, wor", "ld"]);
});
