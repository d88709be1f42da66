"use client";

import { useEffect, useState } from "react";

// [start:typing-indicator]
// Shown while the reply is empty: from sending to the first token, which the book's
// target puts under 2.5 s at p95 end to end. Past `slowAfterMs` the wait is unusual
// (a tool call, a long retrieval, a provider queue) and the indicator says so, instead
// of bouncing on as if nothing were wrong.
export function TypingIndicator({ slowAfterMs = 8000 }: { slowAfterMs?: number }) {
  const [slow, setSlow] = useState(false);
  useEffect(() => {
    const timer = setTimeout(() => setSlow(true), slowAfterMs);
    return () => clearTimeout(timer);
  }, [slowAfterMs]);

  return (
    <div className="flex items-center gap-1 py-2">
      {[0, 150, 300].map((delay) => (
        <span
          key={delay}
          aria-hidden="true"
          style={{ animationDelay: `${delay}ms` }}
          className="size-2 animate-bounce rounded-full bg-zinc-400 motion-reduce:animate-none"
        />
      ))}
      {slow ? (
        <span role="status" className="ml-2 text-sm text-zinc-600 dark:text-zinc-400">
          Still working. Questions that need tools or documents take longer.
        </span>
      ) : (
        <span className="sr-only">The assistant is writing</span>
      )}
    </div>
  );
}
// [end:typing-indicator]
