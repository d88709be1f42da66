"use client";

import { type FormEvent, useState } from "react";

import { useChat } from "@/hooks/useChat";

export function Chat() {
  const { messages, status, error, send, stop } = useChat();
  const [draft, setDraft] = useState("");

  function submit(event: FormEvent<HTMLFormElement>): void {
    event.preventDefault();
    const text = draft.trim();
    if (!text) return;
    setDraft("");
    void send(text);
  }

  return (
    <section aria-label="Chat">
      <ol aria-live="polite">
        {messages.map((m) => (
          <li key={m.id} data-role={m.role}>
            {m.content}
          </li>
        ))}
      </ol>
      {error && <p role="alert">{error}</p>}
      <form onSubmit={submit}>
        <label htmlFor="message">Message</label>
        <input id="message" value={draft} onChange={(e) => setDraft(e.target.value)} />
        {status === "streaming" ? (
          <button type="button" onClick={stop}>
            Stop
          </button>
        ) : (
          <button type="submit">Send</button>
        )}
      </form>
    </section>
  );
}
