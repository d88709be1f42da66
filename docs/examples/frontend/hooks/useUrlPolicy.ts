"use client";

import { useMemo, useSyncExternalStore } from "react";

import { imageHostsFromEnv } from "@/lib/csp";
import type { UrlPolicy } from "@/lib/safeUrl";

// NEXT_PUBLIC_ variables are inlined at build time; next.config.ts reads the same one for the CSP.
const IMAGE_HOSTS = imageHostsFromEnv(process.env.NEXT_PUBLIC_IMAGE_HOSTS);
const never = () => () => {};

/** One stable policy object, so memoised Markdown blocks are not re-rendered by a new one. */
export function useUrlPolicy(): UrlPolicy {
  const origin = useSyncExternalStore(
    never,
    () => window.location.origin,
    () => "http://localhost",
  );
  return useMemo(() => ({ origin, imageHosts: IMAGE_HOSTS }), [origin]);
}
