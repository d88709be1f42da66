// Tokens arrive 30 to 100 times a second; the screen repaints at most 60 times. The
// buffer joins the deltas that arrive within one frame and applies them in one store
// update, so React renders once per frame instead of once per token.

export type Schedule = (callback: () => void) => () => void;

/** requestAnimationFrame where there is one. Hidden tabs get no frames: flush() covers that. */
export const nextFrame: Schedule = (callback) => {
  if (typeof requestAnimationFrame === "function") {
    const handle = requestAnimationFrame(() => callback());
    return () => cancelAnimationFrame(handle);
  }
  const handle = setTimeout(callback, 16);
  return () => clearTimeout(handle);
};

export interface DeltaBuffer {
  push: (delta: string) => void;
  /** Apply what is pending now: call before the turn ends. */
  flush: () => void;
  /** Drop what is pending (the reply is being restarted). */
  cancel: () => void;
}

// [start:delta-buffer]
export function createDeltaBuffer(
  apply: (text: string) => void,
  schedule: Schedule = nextFrame,
): DeltaBuffer {
  let pending = "";
  let unschedule: (() => void) | null = null;
  const flush = () => {
    unschedule?.();
    unschedule = null;
    if (pending === "") return;
    const text = pending;
    pending = "";
    apply(text);
  };
  return {
    push(delta) {
      pending += delta;
      unschedule ??= schedule(flush);
    },
    flush,
    cancel() {
      unschedule?.();
      unschedule = null;
      pending = "";
    },
  };
}
// [end:delta-buffer]
