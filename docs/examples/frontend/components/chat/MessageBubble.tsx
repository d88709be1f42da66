"use client";

import { memo } from "react";

import { StreamingMarkdown } from "@/components/markdown/Markdown";
import type { Message } from "@/lib/chatStore";
import type { UrlPolicy } from "@/lib/safeUrl";

import { TypingIndicator } from "./TypingIndicator";

export interface MessageBubbleProps {
  message: Message;
  policy: UrlPolicy;
  onRetry: (id: string) => void;
  onDiscard: (id: string) => void;
}

const NOTES: Partial<Record<Message["status"], string>> = {
  sending: "Sending…",
  queued: "Queued: goes out after the current reply, or when you are back online",
};

// [start:message-bubble]
/** Memoised: the store replaces only the message that changed, so the others skip rendering. */
export const MessageBubble = memo(function MessageBubble({
  message,
  policy,
  onRetry,
  onDiscard,
}: MessageBubbleProps) {
  const mine = message.role === "user";
  // aria-busy: screen readers hold a busy region's changes until it is done, not per token.
  // The user's own words are plain text, as typed; a reply is Markdown. dir="auto": a
  // message in Arabic or Hebrew reads right to left, from its first letter.
  return (
    <article
      aria-label={mine ? "You" : "Assistant"}
      aria-busy={message.status === "streaming"}
      data-status={message.status}
      className={`max-w-[85%] rounded-2xl px-4 py-2 md:max-w-[70ch] ${
        mine ? "self-end bg-blue-600 text-white" : "self-start bg-zinc-100 dark:bg-zinc-900"
      }`}
    >
      {mine ? (
        <p dir="auto" className="break-words whitespace-pre-wrap">
          {message.content}
        </p>
      ) : message.status === "streaming" && message.content === "" ? (
        <TypingIndicator />
      ) : (
        <div dir="auto" className="prose-chat break-words">
          <StreamingMarkdown text={message.content} policy={policy} />
        </div>
      )}
      {NOTES[message.status] && <p className="mt-1 text-xs">{NOTES[message.status]}</p>}
      {message.error && (
        // Red on the blue user bubble is unreadable (1.3:1): there, the error stays white.
        <p className={`mt-1 text-xs ${mine ? "font-semibold" : "text-red-700 dark:text-red-300"}`}>
          {message.error}
        </p>
      )}
      {message.status === "failed" && (
        <div className="mt-2 flex gap-2 text-sm">
          <button
            type="button"
            onClick={() => onRetry(message.id)}
            className="min-h-11 rounded bg-white/20 px-3 underline"
          >
            Retry
          </button>
          <button
            type="button"
            onClick={() => onDiscard(message.id)}
            className="min-h-11 rounded px-3 underline"
          >
            Delete
          </button>
        </div>
      )}
    </article>
  );
});
// [end:message-bubble]
