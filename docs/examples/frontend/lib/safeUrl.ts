// Which URLs in model output may become links and images. Model output is untrusted:
// a prompt injection in a retrieved document can make the model write any URL it likes.
// Links need a click, so they pass when their scheme is harmless and show their real
// host; images load without a click, so they pass only from hosts on an allow-list.

// [start:url-policy]
export interface UrlPolicy {
  /** The page's origin: relative URLs resolve against it, and it may serve images. */
  origin: string;
  /** Hosts images may load from besides the origin; each also allows its subdomains. */
  imageHosts: readonly string[];
}

const LINK_SCHEMES = new Set(["http:", "https:", "mailto:"]);

/** Parse as the browser will, so the check and the navigation see the same URL. */
function parse(raw: string, base: string): URL | null {
  try {
    // The WHATWG parser strips tabs and newlines and trims controls, so
    // "java\tscript:" and " javascript:" are caught as javascript: here too.
    return new URL(raw, base);
  } catch {
    return null;
  }
}

export function hostAllowed(host: string, allowed: readonly string[]): boolean {
  const h = host.toLowerCase();
  // Exact or a true subdomain: "docs.example.com.attacker.example" does not end
  // with ".docs.example.com", so it fails; a startsWith or includes check would pass it.
  return allowed.some((a) => h === a.toLowerCase() || h.endsWith(`.${a.toLowerCase()}`));
}

/** An href that is safe to render, normalised; null when the link must lose its URL. */
export function safeLinkUrl(raw: string, policy: UrlPolicy): string | null {
  const url = parse(raw, policy.origin);
  if (url === null || !LINK_SCHEMES.has(url.protocol)) return null;
  // "https://docs.example.com@attacker.example/" goes to attacker.example: user info in
  // a link exists to mislead a reader, never for a legitimate answer.
  if (url.username !== "" || url.password !== "") return null;
  return url.href;
}

/** An image src that may load without a click; null blocks the image. */
export function safeImageUrl(raw: string, policy: UrlPolicy): string | null {
  const url = parse(raw, policy.origin);
  if (url === null || url.username !== "" || url.password !== "") return null;
  if (url.origin === new URL(policy.origin).origin) return url.href;
  if (url.protocol !== "https:" || !hostAllowed(url.hostname, policy.imageHosts)) return null;
  return url.href;
}
// [end:url-policy]

/** The host a reader should see next to an off-site link, or null for same-site links. */
export function externalHost(href: string, policy: UrlPolicy): string | null {
  const url = parse(href, policy.origin);
  if (url === null || url.protocol === "mailto:") return null;
  return url.origin === new URL(policy.origin).origin ? null : url.hostname;
}
