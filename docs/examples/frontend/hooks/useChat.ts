"use client";

import { useCallback, useEffect, useRef, useState } from "react";

import {
  type ServerConversation,
  type Conversation,
  type Message,
  useChatStore,
} from "@/lib/chatStore";
import { type TurnResult, runTurn } from "@/lib/chatTurn";
import { createDeltaBuffer } from "@/lib/deltaBuffer";

import { useOnline } from "./useOnline";

export interface UseChat {
  conversation: Conversation | null;
  messages: Message[];
  /** A reply is streaming in the active conversation. */
  streaming: boolean;
  /** The connection dropped and a retry is scheduled or running. */
  reconnecting: boolean;
  online: boolean;
  send: (text: string) => void;
  stop: () => void;
  /** Send a failed message again, with the same id (and so the same idempotency key). */
  retry: (messageId: string) => void;
  discard: (messageId: string) => void;
}

export interface ChatEndpoints {
  chat?: string;
  conversations?: string;
}

const NO_MESSAGES: Message[] = [];

/** What the user reads when a turn ends without a complete answer. */
export function describeFailure(result: TurnResult): string {
  switch (result.kind) {
    case "error":
      if (result.code === "stream_cut_off")
        return "The answer was cut off. Ask again to get the rest.";
      return result.retryable
        ? "The model is unavailable right now. Try again in a minute."
        : "The request was refused.";
    case "failed":
      if (result.status === 429) {
        const seconds = Math.ceil((result.retryAfterMs ?? 60_000) / 1000);
        return `Too many messages. Try again in ${seconds} s.`;
      }
      if (result.status === 413 || result.status === 422) return "The message is too long.";
      if (result.status === 404) return "The answer could not be resumed.";
      if (!result.sent) return "Not sent. Check your connection and retry.";
      return result.status ? `The server answered ${result.status}.` : result.reason;
    case "aborted":
      return "Stopped.";
    case "done":
      return result.finishReason === "length" ? "The answer reached the length limit." : "";
  }
}

/** Replace the local copy of a conversation with what the server stored. */
async function reload(endpoint: string, cid: string, serverId: string, signal?: AbortSignal) {
  try {
    const response = await fetch(`${endpoint}/${encodeURIComponent(serverId)}`, { signal });
    if (response.ok) {
      useChatStore.getState().reconcile(cid, (await response.json()) as ServerConversation);
    }
  } catch {
    // offline or aborted: the local copy stays on screen
  }
}

// [start:use-chat]
export function useChat({
  chat = "/api/chat",
  conversations = "/api/conversations",
}: ChatEndpoints = {}): UseChat {
  const conversation = useChatStore((s) =>
    s.activeId ? (s.conversations[s.activeId] ?? null) : null,
  );
  const online = useOnline();
  const [reconnecting, setReconnecting] = useState(false);
  const controller = useRef<AbortController | null>(null);

  // Unmounting aborts the request; the server sees the disconnect and stops the model.
  useEffect(() => () => controller.current?.abort(), []);

  /** One turn for an existing user message: stream the reply into the store. */
  const run = useCallback(
    async (cid: string, messageId: string): Promise<void> => {
      const store = useChatStore.getState();
      const message = store.conversations[cid]?.messages.find((m) => m.id === messageId);
      if (message === undefined) return;
      const abort = new AbortController();
      controller.current = abort;
      const replyId = store.startReply(cid);
      const buffer = createDeltaBuffer((text) =>
        useChatStore.getState().appendToReply(cid, replyId, text),
      );
      const request = {
        message: message.content,
        conversationId: store.conversations[cid]?.serverId ?? null,
        idempotencyKey: message.id,
      };
      const result = await runTurn(
        request,
        {
          onEvent: (event) => {
            setReconnecting(false);
            if (event.type === "meta")
              useChatStore.getState().confirm(cid, messageId, event.conversationId);
            if (event.type === "token") buffer.push(event.delta);
          },
          onRetry: () => setReconnecting(true),
        },
        {
          endpoint: chat,
          resumeUrl: (id) => `${conversations}/${encodeURIComponent(id)}/stream`,
          signal: abort.signal,
        },
      );
      buffer.flush();
      setReconnecting(false);
      if (controller.current === abort) controller.current = null;
      const state = useChatStore.getState();
      if (result.kind === "done") {
        state.finishReply(cid, replyId, "done", describeFailure(result) || undefined);
      } else if (result.kind === "error") {
        state.finishReply(cid, replyId, "interrupted", describeFailure(result));
      } else {
        // A confirmed message stays sent and its reply is marked interrupted; an
        // unconfirmed one is marked failed, to be retried with the same id.
        state.failMessage(cid, messageId, replyId, describeFailure(result));
        // 404 on a resume: the buffer has let the turn go; show what the server stored.
        const serverId = useChatStore.getState().conversations[cid]?.serverId;
        if (result.kind === "failed" && result.status === 404 && serverId) {
          await reload(conversations, cid, serverId);
        }
      }
    },
    [chat, conversations],
  );
  // [end:use-chat]

  // [start:use-chat-queue]
  const busy = () => controller.current !== null;

  /** Send messages typed while offline, oldest first, one turn at a time. */
  const drainQueue = useCallback(async (): Promise<void> => {
    for (;;) {
      if (busy() || !navigator.onLine) return;
      const queued = Object.values(useChatStore.getState().conversations)
        .flatMap((c) =>
          c.messages.filter((m) => m.status === "queued").map((m) => ({ cid: c.id, m })),
        )
        .sort((a, b) => a.m.createdAt - b.m.createdAt)[0];
      if (queued === undefined) return;
      useChatStore.getState().resend(queued.cid, queued.m.id);
      await run(queued.cid, queued.m.id);
    }
  }, [run]);

  useEffect(() => {
    if (online) void drainQueue();
  }, [online, drainQueue]);

  const send = useCallback(
    (text: string) => {
      const store = useChatStore.getState();
      const cid = store.activeId ?? store.newConversation();
      const offline = !navigator.onLine;
      // Optimistic: the message shows at once, marked as sending (or queued) until `meta`.
      const id = useChatStore
        .getState()
        .addUserMessage(cid, text, offline || busy() ? "queued" : "sending");
      if (!offline && !busy()) void run(cid, id).then(drainQueue);
    },
    [run, drainQueue],
  );

  const retry = useCallback(
    (messageId: string) => {
      const cid = useChatStore.getState().activeId;
      if (cid === null || busy()) return;
      useChatStore.getState().resend(cid, messageId);
      void run(cid, messageId).then(drainQueue);
    },
    [run, drainQueue],
  );

  const stop = useCallback(() => controller.current?.abort(), []);
  const discard = useCallback((messageId: string) => {
    const cid = useChatStore.getState().activeId;
    if (cid !== null) useChatStore.getState().removeMessage(cid, messageId);
  }, []);

  // Opening a conversation shows the local copy at once, then the server's version.
  const serverId = conversation?.serverId ?? null;
  const cid = conversation?.id ?? null;
  useEffect(() => {
    if (serverId === null || cid === null || busy()) return;
    const abort = new AbortController();
    void reload(conversations, cid, serverId, abort.signal);
    return () => abort.abort();
  }, [cid, serverId, conversations]);

  const messages = conversation?.messages ?? NO_MESSAGES;
  const streaming = messages.some((m) => m.status === "streaming");
  return { conversation, messages, streaming, reconnecting, online, send, stop, retry, discard };
  // [end:use-chat-queue]
}
