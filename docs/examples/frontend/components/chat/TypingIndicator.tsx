// Shown while the reply is empty: from sending to the first token, which the book's
// target puts under 2.5 s at p95 end to end, longer when a tool call runs first.
export function TypingIndicator() {
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
      <span className="sr-only">The assistant is writing</span>
    </div>
  );
}
