// Retry delays with "full jitter": a uniformly random wait between zero and an
// exponentially growing ceiling. Without the randomness, every client cut off by the
// same event (a deploy, a load balancer restart) retries at the same instants, and the
// retries arrive at the servers as synchronised waves.

export interface BackoffPolicy {
  /** Ceiling of the first retry's delay, in milliseconds. */
  baseMs: number;
  /** No delay ever exceeds this. */
  capMs: number;
}

// [start:backoff]
/** WebSocket reconnects: 0.5 s, 1 s, 2 s, ... ceilings, never more than 30 s. */
export const RECONNECT_POLICY: BackoffPolicy = { baseMs: 500, capMs: 30_000 };

/** The wait before retry number `attempt` (0 for the first retry). */
export function backoffDelay(
  attempt: number,
  policy: BackoffPolicy,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(policy.capMs, policy.baseMs * 2 ** attempt);
  return Math.floor(random() * ceiling);
}
// [end:backoff]

/** A wait that an AbortSignal cuts short; rejects with the signal's reason. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    function onAbort(): void {
      clearTimeout(timer);
      reject(signal?.reason);
    }
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
