"use client";

import { useEffect } from "react";

// [start:route-error]
// The route's error boundary. Next.js 16 passes retry(), which re-fetches the segment
// and re-renders it; reset() only re-renders, which cannot fix a Server Component error.
export default function RouteError({ error, retry }: { error: unknown; retry: () => void }) {
  useEffect(() => {
    // In production a Server Component's message is replaced by a generic one; the
    // digest matches the server's log line.
    const digest = error instanceof Error && "digest" in error ? String(error.digest) : undefined;
    console.error("route error", digest ?? error);
  }, [error]);

  return (
    <div
      role="alert"
      className="flex h-dvh flex-col items-center justify-center gap-4 p-6 text-center"
    >
      <h1 className="text-lg font-semibold">Something went wrong</h1>
      <p className="text-zinc-600 dark:text-zinc-400">
        Your conversations are saved on this device.
      </p>
      <button
        type="button"
        onClick={() => retry()}
        className="rounded-lg bg-blue-600 px-4 py-2 text-white"
      >
        Try again
      </button>
    </div>
  );
}
// [end:route-error]
