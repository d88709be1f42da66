// Placeholders in the shape of what is loading, so the layout does not jump when it
// arrives. motion-reduce: the pulse stops for users who asked the OS for less motion.

// [start:skeleton]
export function Skeleton({ className = "" }: { className?: string }) {
  return (
    <div
      aria-hidden="true"
      className={`animate-pulse rounded-md bg-zinc-200 motion-reduce:animate-none dark:bg-zinc-800 ${className}`}
    />
  );
}

/** Fixed widths, not random ones: the server and client render the same HTML. */
const BUBBLES = [
  { side: "self-end", widths: ["w-48"] },
  { side: "self-start", widths: ["w-72", "w-64", "w-40"] },
  { side: "self-end", widths: ["w-56"] },
  { side: "self-start", widths: ["w-80", "w-60"] },
] as const;

export function MessageListSkeleton() {
  return (
    <div role="status" aria-label="Loading conversation" className="flex flex-1 flex-col gap-6 p-4">
      {BUBBLES.map((bubble, i) => (
        <div key={i} className={`flex max-w-full flex-col gap-2 ${bubble.side}`}>
          {bubble.widths.map((w, j) => (
            <Skeleton key={j} className={`h-4 max-w-[80vw] ${w}`} />
          ))}
        </div>
      ))}
      <span className="sr-only">Loading conversation</span>
    </div>
  );
}

export function ConversationListSkeleton({ rows = 6 }: { rows?: number }) {
  return (
    <ul role="status" aria-label="Loading conversations" className="flex flex-col gap-3 p-3">
      {Array.from({ length: rows }, (_, i) => (
        <li key={i}>
          <Skeleton className="h-5 w-full" />
        </li>
      ))}
    </ul>
  );
}
// [end:skeleton]
