// Storage for Zustand's persist middleware that writes at most once per interval.
//
// persist() saves on every set(). A streaming reply calls set() per token, and the stock
// createJSONStorage() runs JSON.stringify over the whole persisted state each time, so a
// long history costs milliseconds per token on the main thread. This storage keeps the
// latest value in memory and serialises it once per interval, on flush() and when the
// page is hidden. A full localStorage (QuotaExceededError) is reported, never thrown:
// thrown from setItem it would surface inside whichever action called set().
import type { PersistStorage, StorageValue } from "zustand/middleware";

export interface ThrottledStorage<S> extends PersistStorage<S> {
  /** Write the pending value now (call on pagehide). */
  flush: () => void;
}

export interface ThrottleOptions {
  waitMs?: number;
  onError?: (error: unknown) => void;
  setTimer?: (fn: () => void, ms: number) => unknown;
  clearTimer?: (timer: unknown) => void;
}

// [start:throttled-storage]
export function throttledStorage<S>(
  getStorage: () => Storage,
  {
    waitMs = 1000,
    onError = console.error,
    setTimer = setTimeout,
    clearTimer,
  }: ThrottleOptions = {},
): ThrottledStorage<S> | undefined {
  let storage: Storage;
  try {
    storage = getStorage(); // throws on the server, and in some privacy modes
  } catch {
    return undefined;
  }
  const cancel =
    clearTimer ?? ((timer: unknown) => clearTimeout(timer as ReturnType<typeof setTimeout>));
  const pending = new Map<string, StorageValue<S>>();
  let timer: unknown = null;

  function flush(): void {
    if (timer !== null) cancel(timer);
    timer = null;
    for (const [name, value] of pending) {
      try {
        storage.setItem(name, JSON.stringify(value));
      } catch (error) {
        onError(error); // QuotaExceededError: keep running on the in-memory state
      }
    }
    pending.clear();
  }

  return {
    getItem(name) {
      const value = pending.get(name);
      if (value !== undefined) return value;
      const raw = storage.getItem(name);
      if (raw === null) return null;
      try {
        return JSON.parse(raw) as StorageValue<S>;
      } catch {
        return null; // corrupted by hand or by an old version: start empty
      }
    },
    setItem(name, value) {
      pending.set(name, value);
      timer ??= setTimer(flush, waitMs);
    },
    removeItem(name) {
      pending.delete(name);
      storage.removeItem(name);
    },
    flush,
  };
}
// [end:throttled-storage]
