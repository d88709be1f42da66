// A WebSocket chat client for the backend's /v1/ws/chat endpoint
// (chatbot/architecture/websocket.py): reconnects with jittered backoff, detects
// half-open connections with a heartbeat, and never retries what a retry cannot fix.
// React-free: the clock and the socket are injected, so tests drive both.
import { type BackoffPolicy, RECONNECT_POLICY, backoffDelay } from "./backoff";
import type { Usage } from "./chatEvents";

// [start:frames]
export type ClientFrame =
  { type: "message"; content: string } | { type: "cancel" } | { type: "ping" };

export type ServerFrame =
  | { type: "token"; seq: number; delta: string }
  | { type: "done"; seq: number; finish_reason: string; usage: Usage | null }
  | { type: "cancelled"; seq: number }
  | { type: "error"; seq: number; code: string; detail?: string; retryable?: boolean }
  | { type: "pong"; seq: number };

export type SocketStatus =
  | "idle" // not connected, and no reason to be (the server closed an idle socket)
  | "connecting"
  | "open"
  | "reconnecting" // waiting out a backoff delay
  | "offline" // the browser says there is no network: wait for the online event
  | "refused"; // the server refused the handshake (origin, authentication): retrying cannot help
// [end:frames]

/** The part of the browser's WebSocket this client uses; tests provide a fake. */
export interface SocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((event: Event) => void) | null;
  onmessage: ((event: MessageEvent) => void) | null;
  onclose: ((event: CloseEvent) => void) | null;
  onerror: ((event: Event) => void) | null;
}

export interface Clock {
  setTimeout: (fn: () => void, ms: number) => unknown;
  clearTimeout: (handle: unknown) => void;
}

/** The server will not let this client in: retrying cannot help, signing in again can. */
export class SocketRefused extends Error {
  override name = "SocketRefused";
}

// [start:ticket]
/**
 * Browsers cannot put an Authorization header on a WebSocket handshake, so the backend
 * issues single-use tickets over ordinary HTTP (POST /v1/ws/tickets, via the BFF). A
 * ticket works once and expires in 30 s: every reconnect fetches a new one.
 */
export async function ticketUrl(
  socketUrl: string,
  ticketEndpoint: string,
  fetchImpl: typeof fetch = fetch,
): Promise<string> {
  const response = await fetchImpl(ticketEndpoint, { method: "POST" });
  if (response.status === 401 || response.status === 403)
    throw new SocketRefused(`ticket refused: ${response.status}`);
  if (!response.ok) throw new Error(`ticket request failed: HTTP ${response.status}`);
  const { ticket } = (await response.json()) as { ticket: string };
  return `${socketUrl}?ticket=${encodeURIComponent(ticket)}`;
}
// [end:ticket]

export interface ChatSocketOptions {
  /** The URL of the next handshake, ticket included; called once per connection attempt. */
  url: () => Promise<string>;
  onFrame: (frame: ServerFrame) => void;
  onStatus: (status: SocketStatus) => void;
  /** The connection dropped during a reply; the server cancels a turn whose socket closes. */
  onTurnLost?: () => void;
  open?: (url: string) => SocketLike;
  clock?: Clock;
  random?: () => number;
  policy?: BackoffPolicy;
  /** Send a ping this often while connected... */
  heartbeatMs?: number;
  /** ...and give up on the connection when nothing arrives for this long after it. */
  pongTimeoutMs?: number;
  /** Only a connection that stayed up this long resets the backoff. */
  stableMs?: number;
}

const OPEN = 1;
const NORMAL = 1000;
const ABNORMAL = 1006; // what the browser reports when the connection just died
const POLICY_VIOLATION = 1008; // the server's answer to a foreign origin or no session
const HEARTBEAT_TIMEOUT = 4000; // an application-defined code (4000-4999)

const realClock: Clock = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

// [start:chat-socket]
export class ChatSocket {
  private socket: SocketLike | null = null;
  private opening = false; // waiting for a ticket
  private status: SocketStatus = "idle";
  private attempt = 0;
  private online = true;
  private stopped = false;
  private turnInFlight = false;
  private pending: ClientFrame | null = null; // a message written while idle
  private timers = new Map<"reconnect" | "heartbeat" | "deadline" | "stable", unknown>();
  private readonly clock: Clock;

  constructor(private readonly options: ChatSocketOptions) {
    this.clock = options.clock ?? realClock;
  }

  connect(): void {
    if (this.stopped || this.socket !== null || this.opening) return;
    this.clear("reconnect");
    this.setStatus(this.attempt === 0 ? "connecting" : "reconnecting");
    this.opening = true;
    this.options.url().then(
      (url) => {
        this.opening = false;
        if (this.stopped) return;
        const socket = (this.options.open ?? ((u) => new WebSocket(u)))(url);
        this.socket = socket;
        socket.onopen = () => this.opened();
        socket.onmessage = (event) => this.received(event.data);
        socket.onclose = (event) => this.closed(event.code);
        socket.onerror = () => {}; // a close event always follows, with the code that matters
      },
      (error: unknown) => {
        this.opening = false;
        if (this.stopped) return;
        if (error instanceof SocketRefused) this.setStatus("refused");
        else this.closed(ABNORMAL); // no ticket (network, 5xx): back off like a failed handshake
      },
    );
  }

  /** False when the frame cannot go out now; the UI keeps the draft and says why. */
  send(frame: ClientFrame): boolean {
    if (this.socket?.readyState === OPEN && this.status === "open") {
      this.socket.send(JSON.stringify(frame));
      if (frame.type === "message") this.turnInFlight = true;
      return true;
    }
    if (this.status === "idle" && frame.type === "message") {
      this.pending = frame; // reconnect lazily after an idle close, then send
      this.connect();
      return true;
    }
    return false;
  }

  /** Wire to window "online"/"offline": retrying without a network only burns battery. */
  setOnline(online: boolean): void {
    this.online = online;
    if (!online && this.status === "reconnecting") {
      this.clear("reconnect");
      this.setStatus("offline");
    } else if (online && (this.status === "offline" || this.status === "reconnecting")) {
      this.attempt = 0; // the network just came back: try at once, not after a long delay
      this.connect();
    }
  }

  /** Close for good (the component unmounts). */
  stop(): void {
    this.stopped = true;
    for (const name of this.timers.keys()) this.clear(name);
    this.detach()?.close(NORMAL, "client closed");
    this.setStatus("idle");
  }

  private opened(): void {
    this.setStatus("open");
    this.later("stable", this.options.stableMs ?? 10_000, () => (this.attempt = 0));
    this.beat();
    if (this.pending !== null) {
      const frame = this.pending;
      this.pending = null;
      this.send(frame);
    }
  }

  private received(data: unknown): void {
    this.clear("deadline"); // any frame proves the connection is alive
    let frame: ServerFrame;
    try {
      frame = JSON.parse(String(data)) as ServerFrame;
    } catch {
      return;
    }
    if (frame.type === "pong") return;
    if (frame.type === "done" || frame.type === "cancelled" || frame.type === "error")
      this.turnInFlight = false;
    this.options.onFrame(frame);
  }

  // [start:socket-recovery]
  /** Ping on a timer; a connection that stays silent after a ping is presumed dead. */
  private beat(): void {
    this.later("heartbeat", this.options.heartbeatMs ?? 25_000, () => {
      if (!this.send({ type: "ping" })) return;
      this.later("deadline", this.options.pongTimeoutMs ?? 10_000, () => {
        // close() on a half-open socket can wait a long time for the closing handshake;
        // detach first and treat the connection as gone now.
        this.detach()?.close(HEARTBEAT_TIMEOUT, "heartbeat timeout");
        this.closed(HEARTBEAT_TIMEOUT);
      });
      this.beat();
    });
  }

  private closed(code: number): void {
    this.detach();
    for (const name of ["heartbeat", "deadline", "stable"] as const) this.clear(name);
    if (this.turnInFlight) {
      this.turnInFlight = false;
      this.options.onTurnLost?.();
    }
    if (this.stopped) return;
    if (code === POLICY_VIOLATION) return this.setStatus("refused");
    if (code === NORMAL) return this.setStatus("idle"); // the server closed an idle socket
    if (!this.online) return this.setStatus("offline");
    const delay = backoffDelay(
      this.attempt,
      this.options.policy ?? RECONNECT_POLICY,
      this.options.random,
    );
    this.attempt += 1;
    this.setStatus("reconnecting");
    this.later("reconnect", delay, () => this.connect());
  }

  // [end:socket-recovery]

  private detach(): SocketLike | null {
    const socket = this.socket;
    if (socket !== null) socket.onopen = socket.onmessage = socket.onclose = socket.onerror = null;
    this.socket = null;
    return socket;
  }

  private later(
    name: "reconnect" | "heartbeat" | "deadline" | "stable",
    ms: number,
    fn: () => void,
  ): void {
    this.clear(name);
    this.timers.set(
      name,
      this.clock.setTimeout(() => {
        this.timers.delete(name);
        fn();
      }, ms),
    );
  }

  private clear(name: "reconnect" | "heartbeat" | "deadline" | "stable"): void {
    if (this.timers.has(name)) this.clock.clearTimeout(this.timers.get(name));
    this.timers.delete(name);
  }

  private setStatus(status: SocketStatus): void {
    if (status === this.status) return;
    this.status = status;
    this.options.onStatus(status);
  }
}
// [end:chat-socket]
