// Jittered backoff, abortable sleep and client-side UUIDv7 ids.
import assert from "node:assert/strict";
import { test } from "node:test";

import { backoffDelay, RECONNECT_POLICY, sleep } from "../lib/backoff";
import { uuidv7 } from "../lib/ids";

test("ceilings double from the base up to the cap; delays stay below them", () => {
  const ceilings = [0, 1, 2, 3, 4, 5, 6, 7].map((n) =>
    backoffDelay(n, RECONNECT_POLICY, () => 0.999999),
  );
  assert.deepEqual(ceilings, [499, 999, 1999, 3999, 7999, 15999, 29999, 29999]);
  assert.equal(
    backoffDelay(3, RECONNECT_POLICY, () => 0),
    0,
  );
});

test("full jitter spreads 10,000 simultaneous reconnects over the whole window", () => {
  // A seeded generator, so the test is deterministic.
  let seed = 42;
  const random = () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
  const perWindow = new Map<number, number>();
  for (let client = 0; client < 10_000; client++) {
    const at = backoffDelay(2, RECONNECT_POLICY, random); // the third retry: ceiling 2 s
    const window = Math.floor(at / 100);
    perWindow.set(window, (perWindow.get(window) ?? 0) + 1);
  }
  // Without jitter all 10,000 land in one 100 ms window; with it, about 500 in each of 20.
  assert.equal(perWindow.size, 20);
  assert.ok(Math.max(...perWindow.values()) < 600, `peak ${Math.max(...perWindow.values())}`);
});

test("sleep resolves after its delay and rejects at once when aborted", async () => {
  const started = Date.now();
  await sleep(20);
  assert.ok(Date.now() - started >= 15);
  const controller = new AbortController();
  const pending = sleep(10_000, controller.signal);
  controller.abort(new Error("stopped"));
  await assert.rejects(pending, /stopped/);
});

test("UUIDv7: version and variant bits, sortable by creation time", () => {
  const id = uuidv7(Date.parse("2026-01-01T00:00:00Z"));
  assert.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  assert.equal(id.slice(0, 13), "019b76da-a800", "48-bit millisecond timestamp first");
  const ids = [1, 2, 3, 1000].map((ms) => uuidv7(1_767_225_600_000 + ms));
  assert.deepEqual([...ids].sort(), ids);
  assert.notEqual(uuidv7(0), uuidv7(0), "random bits differ");
});
