// Shown while the reply is empty: between sending and the first token, usually 0.3 to
// 2 s, longer when retrieval or a tool call runs first.
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
