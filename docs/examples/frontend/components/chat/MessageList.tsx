"use client";

import { ErrorBoundary } from "@/components/ErrorBoundary";
import { useReplyAnnouncement } from "@/hooks/useReplyAnnouncement";
import { useStickToBottom } from "@/hooks/useStickToBottom";
import type { Message } from "@/lib/chatStore";
import type { UrlPolicy } from "@/lib/safeUrl";

import { MessageBubble } from "./MessageBubble";

export interface MessageListProps {
  messages: readonly Message[];
  policy: UrlPolicy;
  onRetry: (id: string) => void;
  onDiscard: (id: string) => void;
}

// [start:message-list]
export function MessageList({ messages, policy, onRetry, onDiscard }: MessageListProps) {
  const last = messages.at(-1);
  const { ref, pinned, jumpToLatest } = useStickToBottom<HTMLDivElement>(
    `${last?.id}:${last?.content.length}`,
  );
  const announcement = useReplyAnnouncement(messages);

  return (
    <div className="relative min-h-0 flex-1">
      <div ref={ref} className="h-full overflow-y-auto overscroll-contain">
        {/* aria-live off: the status region below announces each reply once, complete. */}
        <div
          role="log"
          aria-label="Conversation"
          aria-live="off"
          className="mx-auto flex max-w-3xl flex-col gap-4 p-4"
        >
          {messages.length === 0 && (
            <p className="mt-24 text-center text-zinc-500 dark:text-zinc-400">
              Ask a question to start.
            </p>
          )}
          {messages.map((m) => (
            // One boundary per message: a message that cannot render does not take the others down.
            <ErrorBoundary
              key={m.id}
              resetKeys={[m.content]}
              fallback={() => (
                <p className="self-start rounded-2xl border border-red-300 px-4 py-2 text-sm whitespace-pre-wrap">
                  This message could not be displayed.
                  {/* Stored data may be corrupt: show the raw text only if it is text. */}
                  {typeof m.content === "string" && ` Its text: ${m.content}`}
                </p>
              )}
            >
              <MessageBubble message={m} policy={policy} onRetry={onRetry} onDiscard={onDiscard} />
            </ErrorBoundary>
          ))}
        </div>
      </div>
      {!pinned && (
        <button
          type="button"
          onClick={jumpToLatest}
          className="absolute bottom-3 left-1/2 -translate-x-1/2 rounded-full bg-zinc-800 px-4 py-2 text-sm text-white shadow dark:bg-zinc-200 dark:text-zinc-900"
        >
          Jump to latest
        </button>
      )}
      <p role="status" className="sr-only">
        {announcement}
      </p>
    </div>
  );
}
// [end:message-list]
