"use client";

import { useCallback, useEffect, useRef } from "react";
import { useShallow } from "zustand/shallow";

import type { ChatStreamEvent } from "@/lib/chatEvents";
import { streamChat } from "@/lib/chatClient";
import { type Message, type Status, useChatStore } from "@/lib/chatStore";

export interface UseChat {
  messages: Message[];
  status: Status;
  error: string | null;
  send: (text: string) => Promise<void>;
  stop: () => void;
}

function apply(event: ChatStreamEvent): void {
  const state = useChatStore.getState();
  switch (event.type) {
    case "meta":
      return state.setConversation(event.conversationId);
    case "token":
      return state.appendToAssistant(event.delta);
    case "done":
      return state.finish();
    case "error":
      return state.fail(event.retryable ? "The model is busy; try again." : "Request refused.");
  }
}

// [start:use-chat]
export function useChat(endpoint = "/api/chat"): UseChat {
  const { messages, status, error } = useChatStore(
    useShallow((s) => ({ messages: s.messages, status: s.status, error: s.error })),
  );
  const controller = useRef<AbortController | null>(null);

  // Unmounting aborts the request; the server sees the disconnect and stops the model.
  useEffect(() => () => controller.current?.abort(), []);

  const stop = useCallback(() => controller.current?.abort(), []);

  const send = useCallback(
    async (text: string): Promise<void> => {
      const store = useChatStore.getState();
      if (store.status === "streaming") return;
      const abort = new AbortController();
      controller.current = abort;
      store.addUserMessage(text);
      store.startAssistantMessage();
      try {
        const turn = { message: text, conversationId: store.conversationId };
        const outcome = await streamChat(endpoint, turn, apply, abort.signal);
        if (outcome === "cut-off") useChatStore.getState().fail("Connection lost.");
      } catch (err) {
        if (abort.signal.aborted) useChatStore.getState().finish();
        else useChatStore.getState().fail(err instanceof Error ? err.message : String(err));
      } finally {
        if (controller.current === abort) controller.current = null;
      }
    },
    [endpoint],
  );

  return { messages, status, error, send, stop };
}
// [end:use-chat]
