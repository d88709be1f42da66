"use client";

import { useEffect, useRef, useState } from "react";

type CopyState = "idle" | "copied" | "failed";

/** The Clipboard API needs a secure context (HTTPS or localhost) and a user gesture. */
export async function copyText(text: string): Promise<void> {
  if (typeof navigator === "undefined" || navigator.clipboard === undefined) {
    throw new Error("clipboard unavailable");
  }
  await navigator.clipboard.writeText(text);
}

// [start:code-block]
export function CodeBlock({ code, language }: { code: string; language: string | null }) {
  const [state, setState] = useState<CopyState>("idle");
  const pre = useRef<HTMLPreElement>(null);

  useEffect(() => {
    if (state === "idle") return;
    const timer = setTimeout(() => setState("idle"), 2000);
    return () => clearTimeout(timer);
  }, [state]);

  async function copy(): Promise<void> {
    try {
      await copyText(code);
      setState("copied");
    } catch {
      // No clipboard (plain HTTP, a locked-down browser): select the code instead,
      // so Ctrl+C or the context menu copies exactly it.
      const selection = window.getSelection();
      if (pre.current && selection) selection.selectAllChildren(pre.current);
      setState("failed");
    }
  }

  return (
    <figure className="my-3 overflow-hidden rounded-lg border border-zinc-200 dark:border-zinc-700">
      <figcaption className="flex items-center justify-between bg-zinc-100 px-3 py-1 text-xs text-zinc-600 dark:bg-zinc-800 dark:text-zinc-300">
        <span>{language ?? "text"}</span>
        <button
          type="button"
          onClick={() => void copy()}
          className="rounded px-2 py-1 hover:bg-zinc-200 focus-visible:outline-2 dark:hover:bg-zinc-700"
        >
          {state === "copied" ? "Copied" : state === "failed" ? "Press Ctrl+C" : "Copy"}
        </button>
      </figcaption>
      {/* tabIndex: a scrollable region must be reachable by keyboard (WCAG 2.1.1). */}
      <pre
        ref={pre}
        tabIndex={0}
        className="overflow-x-auto bg-zinc-50 p-3 text-sm dark:bg-zinc-900"
      >
        <code>{code}</code>
      </pre>
      <span role="status" className="sr-only">
        {state === "copied" ? "Code copied to the clipboard" : ""}
      </span>
    </figure>
  );
}
// [end:code-block]
