"use client";

import { useState } from "react";
import { useShallow } from "zustand/shallow";

import { useChatStore } from "@/lib/chatStore";

/** DELETE through the BFF; a 404 means it is already gone, which is what we wanted. */
export async function deleteOnServer(
  serverId: string,
  fetchImpl: typeof fetch = fetch,
): Promise<void> {
  const response = await fetchImpl(`/api/conversations/${encodeURIComponent(serverId)}`, {
    method: "DELETE",
  });
  if (!response.ok && response.status !== 404)
    throw new Error(`delete failed: HTTP ${response.status}`);
}

// [start:conversation-list]
export function ConversationList() {
  // Ids and titles only, compared shallowly: a token streaming into one conversation
  // changes its messages, not this list, so the sidebar does not re-render per token.
  const items = useChatStore(
    useShallow((s) =>
      Object.values(s.conversations)
        .sort((a, b) => b.updatedAt - a.updatedAt)
        .flatMap((c) => [c.id, c.title]),
    ),
  );
  const activeId = useChatStore((s) => s.activeId);
  const { select, deleteConversation } = useChatStore(
    useShallow((s) => ({ select: s.select, deleteConversation: s.deleteConversation })),
  );
  const [problem, setProblem] = useState<string | null>(null);

  async function remove(id: string, title: string): Promise<void> {
    setProblem(null);
    try {
      await deleteConversation(id, (serverId) => deleteOnServer(serverId));
    } catch {
      setProblem(`"${title}" could not be deleted. It is back in the list.`);
    }
  }

  const rows: { id: string; title: string }[] = [];
  for (let i = 0; i + 1 < items.length; i += 2)
    rows.push({ id: items[i] ?? "", title: items[i + 1] ?? "" });

  return (
    <div className="p-2">
      {problem && (
        <p role="alert" className="mb-2 text-sm text-red-700 dark:text-red-400">
          {problem}
        </p>
      )}
      <ul className="flex flex-col gap-1">
        {rows.map(({ id, title }) => (
          <li key={id} className="group flex items-center">
            <button
              type="button"
              aria-current={id === activeId ? "page" : undefined}
              onClick={() => select(id)}
              className="min-w-0 flex-1 truncate rounded-md px-3 py-2 text-left text-sm hover:bg-zinc-100 aria-[current=page]:bg-zinc-200 dark:hover:bg-zinc-800 dark:aria-[current=page]:bg-zinc-800"
            >
              {title}
            </button>
            <button
              type="button"
              aria-label={`Delete ${title}`}
              onClick={() => void remove(id, title)}
              className="size-9 shrink-0 rounded-md text-zinc-500 hover:bg-zinc-100 focus-visible:opacity-100 pointer-fine:opacity-0 pointer-fine:group-hover:opacity-100 dark:hover:bg-zinc-800"
            >
              ×
            </button>
          </li>
        ))}
      </ul>
    </div>
  );
}
// [end:conversation-list]
