"use client";

import { useEffect, useRef, useState } from "react";

import type { Message } from "@/lib/chatStore";

/**
 * The text a polite live region should read: each reply once, when it is complete.
 * Announcing per token makes a screen reader stutter through fragments.
 */
export function useReplyAnnouncement(messages: readonly Message[]): string {
  const [announcement, setAnnouncement] = useState("");
  const streaming = useRef(new Set<string>());
  useEffect(() => {
    for (const m of messages) {
      if (m.status === "streaming") streaming.current.add(m.id);
      else if (streaming.current.delete(m.id) && m.role === "assistant") {
        const text = m.content.length > 500 ? `${m.content.slice(0, 500)}…` : m.content;
        setAnnouncement(
          m.status === "done" ? `Assistant: ${text}` : `Reply interrupted. ${m.error ?? ""}`,
        );
      }
    }
  }, [messages]);
  return announcement;
}
