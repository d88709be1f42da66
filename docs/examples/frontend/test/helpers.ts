// Shared by the tests: the backend's recorded output and a scriptable fake fetch.
import { readFileSync } from "node:fs";

export const fixture = (name: string): string =>
  readFileSync(new URL(`./fixtures/${name}`, import.meta.url), "utf8");

/** The recorded reply stream up to (not including) the event with this id. */
export function streamUntil(name: string, id: number): string {
  const text = fixture(name);
  const events = text.split("\n\n").filter((e) => e.trim() !== "");
  return events
    .filter((e) => Number(/^id: (\d+)$/m.exec(e)?.[1]) < id)
    .map((e) => `${e}\n\n`)
    .join("");
}

export interface Reply {
  status?: number;
  body?: string;
  headers?: Record<string, string>;
  /** Keep the body open after `body` (until the request is aborted). */
  hang?: boolean;
  /** Error the body after `body`, as a dropped connection does. */
  breakAfter?: boolean;
  /** Reject fetch itself, as a network failure does. */
  networkError?: boolean;
}

export interface Recorded {
  url: string;
  method: string;
  headers: Headers;
  body: string | null;
  signal: AbortSignal | undefined;
}

/** A fetch that answers each call with the next scripted reply, in 7-byte chunks. */
export function scriptedFetch(replies: Reply[]): { fetchImpl: typeof fetch; calls: Recorded[] } {
  const calls: Recorded[] = [];
  const fetchImpl: typeof fetch = async (input, init) => {
    const signal = init?.signal ?? undefined;
    calls.push({
      url: String(input),
      method: init?.method ?? "GET",
      headers: new Headers(init?.headers),
      body: typeof init?.body === "string" ? init.body : null,
      signal,
    });
    const reply = replies.shift();
    if (reply === undefined) throw new Error(`unexpected request ${String(input)}`);
    if (reply.networkError) throw new TypeError("fetch failed");
    const bytes = new TextEncoder().encode(reply.body ?? "");
    const chunks: Uint8Array<ArrayBuffer>[] = [];
    for (let i = 0; i < bytes.length; i += 7) chunks.push(bytes.slice(i, i + 7));
    // Pull-based, so a break comes after the reader has consumed the data, as on a real socket.
    const stream = new ReadableStream<Uint8Array<ArrayBuffer>>({
      start(controller) {
        // As a real fetch does, aborting errors the body being read.
        signal?.addEventListener("abort", () => controller.error(signal.reason));
      },
      pull(controller) {
        const next = chunks.shift();
        if (next !== undefined) return controller.enqueue(next);
        if (reply.breakAfter) return controller.error(new TypeError("network error"));
        if (!reply.hang) return controller.close();
        return new Promise<void>(() => {}); // stay open until aborted
      },
    });
    return new Response(stream, {
      status: reply.status ?? 200,
      headers: { "content-type": "text/event-stream", ...reply.headers },
    });
  };
  return { fetchImpl, calls };
}
