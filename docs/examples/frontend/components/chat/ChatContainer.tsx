"use client";

import type { ErrorInfo } from "react";

import { ErrorBoundary } from "@/components/ErrorBoundary";
import { ThemeToggle } from "@/components/theme/ThemeToggle";
import { ConversationListSkeleton, MessageListSkeleton } from "@/components/ui/Skeleton";
import { type ChatEndpoints, useChat } from "@/hooks/useChat";
import { usePersistedChat } from "@/hooks/usePersistedChat";
import { useUrlPolicy } from "@/hooks/useUrlPolicy";
import { useChatStore } from "@/lib/chatStore";

import { ChatInput } from "./ChatInput";
import { ConversationList } from "./ConversationList";
import { MessageList } from "./MessageList";

function report(error: unknown, info: ErrorInfo): void {
  // Production: send to the error tracker with the component stack (chapter 12).
  console.error(error, info.componentStack);
}

// [start:chat-container]
export function ChatContainer({ endpoints }: { endpoints?: ChatEndpoints }) {
  const hydrated = usePersistedChat();
  const chat = useChat(endpoints);
  const policy = useUrlPolicy();
  const newConversation = useChatStore((s) => s.newConversation);

  const banner = !chat.online
    ? "You are offline. Messages you send will wait and go out when the connection returns."
    : chat.reconnecting
      ? "Connection lost. Reconnecting…"
      : null;

  return (
    // h-dvh, not h-screen: on phones 100vh includes the area under the browser's toolbars.
    <div className="flex h-dvh">
      <nav
        aria-label="Conversations"
        className="hidden w-64 shrink-0 border-r border-zinc-200 md:block dark:border-zinc-800"
      >
        {hydrated ? <ConversationList /> : <ConversationListSkeleton />}
      </nav>
      <main className="flex min-w-0 flex-1 flex-col">
        <header className="flex items-center justify-between gap-2 border-b border-zinc-200 px-4 py-2 dark:border-zinc-800">
          <h1 className="truncate font-semibold">{chat.conversation?.title ?? "New chat"}</h1>
          <div className="flex items-center gap-2">
            <button
              type="button"
              onClick={() => newConversation()}
              disabled={chat.streaming}
              className="min-h-9 rounded-lg px-3 text-sm hover:bg-zinc-100 dark:hover:bg-zinc-800"
            >
              New chat
            </button>
            <ThemeToggle />
          </div>
        </header>
        {banner && (
          <p
            role="status"
            className="bg-amber-100 px-4 py-2 text-sm text-amber-900 dark:bg-amber-950 dark:text-amber-100"
          >
            {banner}
          </p>
        )}
        <ErrorBoundary
          onError={report}
          resetKeys={[chat.conversation?.id]}
          fallback={({ reset }) => (
            <div
              role="alert"
              className="flex flex-1 flex-col items-center justify-center gap-3 p-6 text-center"
            >
              <p>The conversation could not be displayed.</p>
              <button type="button" onClick={reset} className="rounded-lg border px-4 py-2">
                Try again
              </button>
            </div>
          )}
        >
          {hydrated ? (
            <MessageList
              messages={chat.messages}
              policy={policy}
              onRetry={chat.retry}
              onDiscard={chat.discard}
            />
          ) : (
            <MessageListSkeleton />
          )}
        </ErrorBoundary>
        <ChatInput onSend={chat.send} onStop={chat.stop} streaming={chat.streaming} />
      </main>
    </div>
  );
}
// [end:chat-container]
