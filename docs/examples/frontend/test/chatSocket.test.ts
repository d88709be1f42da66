// The WebSocket client against a fake socket and a manual clock, replaying the frames
// the backend's /v1/ws/chat really sent (tests/examples/test_frontend_fixtures.py).
import assert from "node:assert/strict";
import { test } from "node:test";

import {
  ChatSocket,
  type Clock,
  type ServerFrame,
  type SocketLike,
  SocketRefused,
  type SocketStatus,
  ticketUrl,
} from "../lib/chatSocket";
import { fixture, scriptedFetch } from "./helpers";

class FakeSocket implements SocketLike {
  readyState = 0;
  sent: string[] = [];
  closedWith: number | null = null;
  onopen: SocketLike["onopen"] = null;
  onmessage: SocketLike["onmessage"] = null;
  onclose: SocketLike["onclose"] = null;
  onerror: SocketLike["onerror"] = null;
  constructor(readonly url: string) {}
  send(data: string): void {
    this.sent.push(data);
  }
  close(code?: number): void {
    this.closedWith = code ?? 1005;
    this.readyState = 3;
  }
  accept(): void {
    this.readyState = 1;
    this.onopen?.(new Event("open"));
  }
  deliver(frame: unknown): void {
    this.onmessage?.({ data: JSON.stringify(frame) } as MessageEvent);
  }
  drop(code = 1006): void {
    this.readyState = 3;
    this.onclose?.({ code, reason: "" } as CloseEvent);
  }
}

class ManualClock implements Clock {
  now = 0;
  private timers = new Map<number, { at: number; fn: () => void }>();
  private nextId = 1;
  setTimeout = (fn: () => void, ms: number): number => {
    this.timers.set(this.nextId, { at: this.now + ms, fn });
    return this.nextId++;
  };
  clearTimeout = (id: unknown): void => void this.timers.delete(id as number);
  advance(ms: number): void {
    const until = this.now + ms;
    for (;;) {
      const due = [...this.timers]
        .filter(([, t]) => t.at <= until)
        .sort((a, b) => a[1].at - b[1].at)[0];
      if (due === undefined) break;
      this.timers.delete(due[0]);
      this.now = due[1].at;
      due[1].fn();
    }
    this.now = until;
  }
  get pending(): number {
    return this.timers.size;
  }
}

const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

function setup(options: { tickets?: () => Promise<string> } = {}) {
  const sockets: FakeSocket[] = [];
  const frames: ServerFrame[] = [];
  const statuses: SocketStatus[] = [];
  const clock = new ManualClock();
  let lost = 0;
  let ticket = 0;
  const client = new ChatSocket({
    url: options.tickets ?? (async () => `ws://chat/v1/ws/chat?ticket=t${++ticket}`),
    onFrame: (f) => frames.push(f),
    onStatus: (s) => statuses.push(s),
    onTurnLost: () => lost++,
    open: (url) => {
      const socket = new FakeSocket(url);
      sockets.push(socket);
      return socket;
    },
    clock,
    random: () => 0.5,
  });
  const last = () => {
    const socket = sockets.at(-1);
    assert.ok(socket, "no socket opened");
    return socket;
  };
  return { client, sockets, frames, statuses, clock, last, lost: () => lost };
}

test("a turn over the socket: the recorded frames arrive in order, pongs are swallowed", async () => {
  const { client, frames, statuses, last } = setup();
  client.connect();
  await settle();
  last().accept();
  assert.equal(client.send({ type: "message", content: "hello" }), true);
  assert.deepEqual(JSON.parse(last().sent[0] ?? ""), { type: "message", content: "hello" });
  for (const line of fixture("chat-socket.jsonl").trim().split("\n"))
    last().deliver(JSON.parse(line));
  assert.equal(
    frames.map((f) => (f.type === "token" ? f.delta : "")).join(""),
    "Hello! You said: hello",
  );
  assert.deepEqual(
    frames.map((f) => f.type),
    ["token", "token", "token", "token", "done"],
  );
  assert.deepEqual(statuses, ["connecting", "open"]);
});

// [start:reconnect-test]
test("a dropped connection reports the lost turn and reconnects with a fresh ticket after a jittered delay", async () => {
  const { client, sockets, statuses, clock, last, lost } = setup();
  client.connect();
  await settle();
  last().accept();
  client.send({ type: "message", content: "hello" });
  last().drop(1006);
  assert.equal(lost(), 1, "the server cancels a turn whose socket closed");
  assert.equal(statuses.at(-1), "reconnecting");
  clock.advance(249);
  await settle();
  assert.equal(sockets.length, 1, "not before the delay: 0.5 x 500 ms");
  clock.advance(1);
  await settle();
  assert.equal(sockets.length, 2);
  assert.equal(last().url, "ws://chat/v1/ws/chat?ticket=t2", "tickets are single-use");
});

test("backoff doubles across failed handshakes and resets only after a stable connection", async () => {
  const { client, sockets, clock, last } = setup();
  client.connect();
  await settle();
  const opened: number[] = [];
  for (let i = 0; i < 4; i++) {
    const before = clock.now;
    last().drop(1006); // the handshake fails
    while (sockets.length < i + 2) {
      clock.advance(10);
      await settle();
    }
    opened.push(clock.now - before);
  }
  assert.deepEqual(opened, [250, 500, 1000, 2000]);
  last().accept();
  clock.advance(5_000);
  last().drop(1006); // up for 5 s only: not stable, the backoff continues
  let before = clock.now;
  while (sockets.length < 6) {
    clock.advance(10);
    await settle();
  }
  assert.equal(clock.now - before, 4000);
  last().accept();
  clock.advance(10_000); // stable: the next failure starts from the base again
  last().drop(1006);
  before = clock.now;
  while (sockets.length < 7) {
    clock.advance(10);
    await settle();
  }
  assert.equal(clock.now - before, 250);
});
// [end:reconnect-test]

test("a silent connection is detected by the heartbeat and replaced", async () => {
  const { client, sockets, clock, last } = setup();
  client.connect();
  await settle();
  last().accept();
  clock.advance(25_000);
  assert.deepEqual(JSON.parse(last().sent.at(-1) ?? ""), { type: "ping" });
  last().deliver({ type: "pong", seq: 1 }); // alive
  clock.advance(24_999);
  assert.equal(last().closedWith, null);
  clock.advance(1); // second ping, and this time no answer
  clock.advance(10_000);
  assert.equal(sockets[0]?.closedWith, 4000, "closed without waiting for a closing handshake");
  clock.advance(250);
  await settle();
  assert.equal(sockets.length, 2);
});

test("refusals are final: a 1008 close, or a ticket the server will not issue", async () => {
  const refused = setup();
  refused.client.connect();
  await settle();
  refused.last().drop(1008);
  refused.clock.advance(60_000);
  await settle();
  assert.equal(refused.statuses.at(-1), "refused");
  assert.equal(refused.sockets.length, 1);

  const { fetchImpl } = scriptedFetch([{ status: 401 }]);
  const noTicket = setup({
    tickets: () => ticketUrl("ws://chat/v1/ws/chat", "/api/ws-ticket", fetchImpl),
  });
  noTicket.client.connect();
  await settle();
  await settle();
  assert.equal(noTicket.statuses.at(-1), "refused");
  assert.equal(noTicket.sockets.length, 0);
});

test("offline pauses the retries; online reconnects at once", async () => {
  const { client, sockets, statuses, clock, last } = setup();
  client.connect();
  await settle();
  last().accept();
  client.setOnline(false);
  last().drop(1006);
  assert.equal(statuses.at(-1), "offline");
  clock.advance(120_000);
  await settle();
  assert.equal(sockets.length, 1, "no attempts while offline");
  client.setOnline(true);
  await settle();
  assert.equal(sockets.length, 2);
});

test("after the server closes an idle socket, the next message reconnects and is sent", async () => {
  const { client, statuses, last } = setup();
  client.connect();
  await settle();
  last().accept();
  last().drop(1000);
  assert.equal(statuses.at(-1), "idle");
  assert.equal(client.send({ type: "cancel" }), false, "nothing to cancel on a closed socket");
  assert.equal(client.send({ type: "message", content: "still there?" }), true);
  await settle();
  last().accept();
  assert.deepEqual(JSON.parse(last().sent[0] ?? ""), { type: "message", content: "still there?" });
});

test("stop closes the socket and cancels every timer", async () => {
  const { client, clock, last, sockets } = setup();
  client.connect();
  await settle();
  last().accept();
  client.stop();
  assert.equal(last().closedWith, 1000);
  assert.equal(clock.pending, 0);
  clock.advance(60_000);
  await settle();
  assert.equal(sockets.length, 1);
});

test("ticketUrl asks the BFF for a ticket and puts it in the query", async () => {
  const { fetchImpl, calls } = scriptedFetch([
    {
      body: '{"ticket": "a b", "expires_in": 30}',
      headers: { "content-type": "application/json" },
    },
  ]);
  assert.equal(
    await ticketUrl("wss://x/v1/ws/chat", "/api/ws-ticket", fetchImpl),
    "wss://x/v1/ws/chat?ticket=a%20b",
  );
  assert.equal(calls[0]?.method, "POST");
  await assert.rejects(
    ticketUrl("wss://x", "/t", scriptedFetch([{ status: 403 }]).fetchImpl),
    SocketRefused,
  );
});
