// Conversation state shared by the chat components: a Zustand store, persisted to
// localStorage as a cache of what the server holds.
import { create } from "zustand";
import { persist } from "zustand/middleware";

import { uuidv7 } from "./ids";
import { throttledStorage } from "./persistStorage";

// [start:types]
export type Role = "user" | "assistant";

export type MessageStatus =
  | "queued" // written while offline; sent when the connection returns
  | "sending" // shown optimistically, not yet acknowledged by the server
  | "sent" // the server stored it: its `meta` event arrived
  | "failed" // never acknowledged; the user can retry it with the same id
  | "streaming" // an assistant reply arriving
  | "done"
  | "interrupted"; // a reply cut short: stopped, lost, refused, or the tab was closed

export interface Message {
  /** A UUIDv7 for messages created here; the idempotency key of the user's turn. */
  id: string;
  role: Role;
  content: string;
  status: MessageStatus;
  createdAt: number;
  error?: string;
}

export interface Conversation {
  id: string;
  /** The backend's conversation id, known once the first turn's `meta` event arrived. */
  serverId: string | null;
  title: string;
  updatedAt: number;
  messages: Message[];
}

/** GET /v1/conversations/{id}, as the backend returns it. */
export interface ServerConversation {
  id: string;
  title: string;
  messages: { role: string; content: string; finish_reason: string | null; created_at: string }[];
}
// [end:types]

export interface ChatData {
  conversations: Record<string, Conversation>;
  activeId: string | null;
}

export interface ChatActions {
  newConversation: () => string;
  select: (conversationId: string) => void;
  removeConversation: (conversationId: string) => void;
  addUserMessage: (conversationId: string, text: string, status: "sending" | "queued") => string;
  resend: (conversationId: string, messageId: string) => void;
  startReply: (conversationId: string) => string;
  confirm: (conversationId: string, messageId: string, serverId: string) => void;
  appendToReply: (conversationId: string, replyId: string, delta: string) => void;
  finishReply: (
    conversationId: string,
    replyId: string,
    status: "done" | "interrupted",
    error?: string,
  ) => void;
  failMessage: (
    conversationId: string,
    messageId: string,
    replyId: string | null,
    error: string,
  ) => void;
  removeMessage: (conversationId: string, messageId: string) => void;
  deleteConversation: (
    conversationId: string,
    remote: (serverId: string) => Promise<void>,
  ) => Promise<void>;
  reconcile: (conversationId: string, server: ServerConversation) => void;
}

export type ChatState = ChatData & ChatActions;

export const PERSIST_KEY = "chatbot:conversations";
export const KEEP_CONVERSATIONS = 20;
export const KEEP_MESSAGES = 100;
const PENDING: readonly MessageStatus[] = ["queued", "sending", "failed"];

// [start:pure-updates]
/** Apply `change` to one message; every other object keeps its identity, so memoised rows skip. */
function patchMessage(c: Conversation, id: string, change: (m: Message) => Message): Conversation {
  return { ...c, messages: c.messages.map((m) => (m.id === id ? change(m) : m)) };
}

/** The backend's timestamps; SQLite returns them without a zone, and they are UTC. */
export function parseServerTime(value: string): number {
  // Date.parse reads an ISO date-time without a zone as *local* time.
  return Date.parse(/(Z|[+-]\d\d:?\d\d)$/.test(value) ? value : `${value}Z`);
}

/** The server is the truth for acknowledged messages; pending local ones stay after them. */
export function reconcileConversation(
  local: Conversation,
  server: ServerConversation,
): Conversation {
  const acknowledged = local.messages.filter((m) => !PENDING.includes(m.status));
  const pending = local.messages.filter((m) => PENDING.includes(m.status));
  const confirmed: Message[] = server.messages.map((m, i) => {
    const role: Role = m.role === "user" ? "user" : "assistant";
    const previous = acknowledged[i];
    const finished =
      m.finish_reason === null || m.finish_reason === "cancelled" || m.finish_reason === "error";
    return {
      // Keeping the local id when the row matches spares React a remount.
      id: previous?.role === role ? previous.id : `${server.id}:${i}`,
      role,
      content: m.content,
      status: role === "user" ? "sent" : finished ? "interrupted" : "done",
      createdAt: parseServerTime(m.created_at),
    };
  });
  return {
    ...local,
    serverId: server.id,
    title: server.title,
    messages: [...confirmed, ...pending],
  };
}

/** What survives a reload: the open conversation and the most recent others. */
export function forStorage(data: ChatData): ChatData {
  const open = (c: Conversation) => (c.id === data.activeId ? 1 : 0);
  const recent = Object.values(data.conversations)
    .sort((a, b) => open(b) - open(a) || b.updatedAt - a.updatedAt)
    .slice(0, KEEP_CONVERSATIONS)
    .map((c) => ({ ...c, messages: c.messages.slice(-KEEP_MESSAGES) }));
  return {
    activeId: data.activeId,
    conversations: Object.fromEntries(recent.map((c) => [c.id, c])),
  };
}

/** Stored data is untrusted too: an old release or a hand edit may have left any shape. */
function isChatData(value: unknown): value is ChatData {
  if (typeof value !== "object" || value === null) return false;
  const { conversations } = value as { conversations?: unknown };
  if (typeof conversations !== "object" || conversations === null) return false;
  return Object.values(conversations).every(
    (c) => typeof c === "object" && c !== null && Array.isArray((c as Conversation).messages),
  );
}

/** After a reload nothing is in flight: replies were cut off, sends never confirmed. */
export function afterReload(stored: unknown): ChatData {
  // A shape this release cannot read starts empty; throwing here would leave the
  // store un-hydrated and the page on its skeleton for good.
  if (!isChatData(stored)) return { conversations: {}, activeId: null };
  const conversations = Object.fromEntries(
    Object.values(stored.conversations).map((c) => [
      c.id,
      {
        ...c,
        messages: c.messages.map((m): Message => {
          if (m.status === "streaming") return { ...m, status: "interrupted" };
          if (m.status === "sending")
            return { ...m, status: "failed", error: "Not sent: the page was closed." };
          return m;
        }),
      },
    ]),
  );
  return { activeId: stored.activeId ?? null, conversations };
}
// [end:pure-updates]

// [start:store]
export const useChatStore = create<ChatState>()(
  persist(
    (set, get) => {
      /** Update one conversation, bumping its recency. */
      const update = (id: string, change: (c: Conversation) => Conversation) =>
        set((s) => {
          const c = s.conversations[id];
          if (c === undefined) return {};
          return {
            conversations: { ...s.conversations, [id]: { ...change(c), updatedAt: Date.now() } },
          };
        });

      return {
        conversations: {},
        activeId: null,

        newConversation: () => {
          const id = uuidv7();
          const conversation: Conversation = {
            id,
            serverId: null,
            title: "New chat",
            updatedAt: Date.now(),
            messages: [],
          };
          set((s) => ({ conversations: { ...s.conversations, [id]: conversation }, activeId: id }));
          return id;
        },
        select: (id) => set({ activeId: id }),
        removeConversation: (id) =>
          set((s) => {
            const { [id]: _removed, ...rest } = s.conversations;
            return { conversations: rest, activeId: s.activeId === id ? null : s.activeId };
          }),

        // [start:optimistic-actions]
        // Optimistic: the message is on screen before the request leaves the browser.
        addUserMessage: (cid, text, status) => {
          const id = uuidv7();
          update(cid, (c) => ({
            ...c,
            title: c.messages.length === 0 ? text.slice(0, 60) : c.title,
            messages: [
              ...c.messages,
              { id, role: "user", content: text, status, createdAt: Date.now() },
            ],
          }));
          return id;
        },
        resend: (cid, id) =>
          update(cid, (c) =>
            patchMessage(c, id, ({ error: _e, ...m }) => ({ ...m, status: "sending" })),
          ),
        startReply: (cid) => {
          const id = uuidv7();
          update(cid, (c) => ({
            ...c,
            messages: [
              ...c.messages,
              { id, role: "assistant", content: "", status: "streaming", createdAt: Date.now() },
            ],
          }));
          return id;
        },
        // The `meta` event is the acknowledgement: the server has stored the message.
        confirm: (cid, id, serverId) =>
          update(cid, (c) => ({
            ...patchMessage(c, id, (m) => ({ ...m, status: "sent" })),
            serverId,
          })),
        appendToReply: (cid, id, delta) =>
          update(cid, (c) => patchMessage(c, id, (m) => ({ ...m, content: m.content + delta }))),
        finishReply: (cid, id, status, error) =>
          update(cid, (c) =>
            patchMessage(c, id, (m) => (error ? { ...m, status, error } : { ...m, status })),
          ),
        // Never roll back what the user typed: mark it failed so it can be retried or copied.
        failMessage: (cid, id, replyId, error) =>
          update(cid, (c) => {
            const marked = patchMessage(c, id, (m) =>
              m.status === "sent" ? m : { ...m, status: "failed", error },
            );
            const reply = marked.messages.find((m) => m.id === replyId);
            if (reply === undefined) return marked;
            if (reply.content === "")
              return { ...marked, messages: marked.messages.filter((m) => m !== reply) };
            return patchMessage(marked, reply.id, (m) => ({ ...m, status: "interrupted", error }));
          }),
        removeMessage: (cid, id) =>
          update(cid, (c) => ({ ...c, messages: c.messages.filter((m) => m.id !== id) })),
        // Optimistic with rollback: gone from the list at once, back where it was if the
        // server refuses, so a failed delete never looks like a successful one.
        deleteConversation: async (cid, remote) => {
          const snapshot = get();
          const doomed = snapshot.conversations[cid];
          if (doomed === undefined) return;
          get().removeConversation(cid);
          if (doomed.serverId === null) return; // never reached the server
          try {
            await remote(doomed.serverId);
          } catch (error) {
            set((s) => ({
              conversations: { ...s.conversations, [cid]: doomed },
              activeId: s.activeId ?? (snapshot.activeId === cid ? cid : s.activeId),
            }));
            throw error;
          }
        },
        // [end:optimistic-actions]
        reconcile: (cid, server) => {
          const c = get().conversations[cid];
          if (c === undefined || c.messages.some((m) => m.status === "streaming")) return;
          update(cid, (local) => reconcileConversation(local, server));
        },
      };
    },
    // [start:persist-options]
    {
      name: PERSIST_KEY,
      version: 1,
      storage: throttledStorage<ChatData>(() => localStorage),
      partialize: (s) => forStorage(s),
      merge: (persisted, current) =>
        persisted === undefined ? current : { ...current, ...afterReload(persisted) },
      // Read storage after hydration, never during the first render, or the HTML the
      // server rendered (no conversations) and the client's first render differ.
      skipHydration: true,
    },
    // [end:persist-options]
  ),
);
// [end:store]

/** Flush pending writes (when the page is hidden); a no-op where storage is unavailable. */
export function flushChatStorage(): void {
  const storage = useChatStore.persist.getOptions().storage;
  if (storage && "flush" in storage && typeof storage.flush === "function") storage.flush();
}
