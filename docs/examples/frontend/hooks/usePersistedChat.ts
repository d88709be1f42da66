"use client";

import { useEffect, useSyncExternalStore } from "react";

import { flushChatStorage, PERSIST_KEY, useChatStore } from "@/lib/chatStore";

// [start:persisted-chat]
/** Load the stored conversations after the first render; true once they are in the store. */
export function usePersistedChat(): boolean {
  const hydrated = useSyncExternalStore(
    (onChange) => useChatStore.persist.onFinishHydration(onChange),
    () => useChatStore.persist.hasHydrated(),
    () => false, // the server has no localStorage: render the loading state
  );

  useEffect(() => {
    void useChatStore.persist.rehydrate();
    // Another tab wrote the key: reload it, unless this tab is streaming a reply.
    const onStorage = (event: StorageEvent) => {
      if (event.key !== PERSIST_KEY) return;
      const { conversations } = useChatStore.getState();
      const busy = Object.values(conversations).some((c) =>
        c.messages.some((m) => m.status === "streaming"),
      );
      if (!busy) void useChatStore.persist.rehydrate();
    };
    // Write pending changes when the page is hidden: a mobile browser may later discard a
    // background tab without firing another event, and beforeunload is unreliable there.
    const onHidden = () => document.visibilityState === "hidden" && flushChatStorage();
    document.addEventListener("visibilitychange", onHidden);
    window.addEventListener("pagehide", flushChatStorage);
    window.addEventListener("storage", onStorage);
    return () => {
      document.removeEventListener("visibilitychange", onHidden);
      window.removeEventListener("pagehide", flushChatStorage);
      window.removeEventListener("storage", onStorage);
    };
  }, []);

  return hydrated;
}
// [end:persisted-chat]
