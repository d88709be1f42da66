"use client";

import { useCallback, useEffect, useLayoutEffect, useRef, useState } from "react";

import { isNearBottom } from "@/lib/scroll";

// [start:stick-to-bottom]
/**
 * Follow new content while the reader is at the bottom; stop following as soon as they
 * scroll up to read, and offer a way back. Scrolling on every token regardless of
 * where the reader is yanks the text out from under them.
 */
export function useStickToBottom<T extends HTMLElement>(contentVersion: unknown) {
  const ref = useRef<T>(null);
  const [pinned, setPinned] = useState(true);

  useEffect(() => {
    const el = ref.current;
    if (el === null) return;
    const onScroll = () => setPinned(isNearBottom(el));
    el.addEventListener("scroll", onScroll, { passive: true });
    return () => el.removeEventListener("scroll", onScroll);
  }, []);

  // Layout effect: scroll before the browser paints, so new text never flashes below the fold.
  useLayoutEffect(() => {
    const el = ref.current;
    if (el !== null && pinned) el.scrollTop = el.scrollHeight;
  }, [contentVersion, pinned]);

  const jumpToLatest = useCallback(() => {
    const el = ref.current;
    if (el === null) return;
    el.scrollTo({ top: el.scrollHeight, behavior: "smooth" });
    setPinned(true);
  }, []);

  return { ref, pinned, jumpToLatest };
}
// [end:stick-to-bottom]
