// A Content-Security-Policy for the chat pages: the browser's own enforcement of the
// image allow-list that the Markdown renderer applies, so a bug in one layer is not a
// data leak. It leaves script-src alone: Next.js injects inline scripts, and a script
// policy needs per-request nonces from proxy.ts, which chapter 10 covers.

// [start:csp]
/** `socketUrl`: the WebSocket endpoint, on the backend's host (route handlers cannot proxy it). */
export function contentSecurityPolicy(imageHosts: readonly string[], socketUrl?: string): string {
  const images = imageHosts.flatMap((h) => [`https://${h}`, `https://*.${h}`]);
  const socket = socketUrl ? new URL(socketUrl).origin : ""; // wss://chat-api.example.com
  return [
    `img-src 'self' data: blob: ${images.join(" ")}`.trim(),
    // HTTP goes to this origin only (the BFF calls the API); the socket to its own host.
    `connect-src 'self' ${socket}`.trim(),
    "frame-ancestors 'none'", // no clickjacking of the chat inside another site
    "base-uri 'none'",
    "form-action 'self'",
    "object-src 'none'",
  ].join("; ");
}
// [end:csp]

/** Image hosts from the environment, comma-separated: one list for the CSP and the renderer. */
export function imageHostsFromEnv(value: string | undefined): string[] {
  return (value ?? "")
    .split(",")
    .map((h) => h.trim().toLowerCase())
    .filter((h) => /^[a-z0-9.-]+$/.test(h));
}
