// An incremental Server-Sent Events parser, following the WHATWG "event stream
// interpretation" rules. EventSource cannot POST, so chat clients read the stream
// from fetch() and feed it here chunk by chunk.

// [start:types]
export interface SSEEvent {
  /** The `event:` field; "message" when the server sent none. */
  event: string;
  /** Every `data:` line of the event, joined with "\n". */
  data: string;
  /** The last `id:` seen on the stream, as a reconnecting client would send it. */
  id: string;
  /** The `retry:` delay in milliseconds, when this event carried one. */
  retry?: number;
}

export interface SSEParser {
  /** Feed the next decoded chunk; chunks may split lines anywhere. */
  feed(chunk: string): void;
  /** The stream ended: finish a last line ended by a lone CR, drop any unfinished event. */
  end(): void;
}
// [end:types]

// [start:parser]
export function createSSEParser(
  onEvent: (event: SSEEvent) => void,
  onComment: (comment: string) => void = () => {},
): SSEParser {
  let buffer = "";
  let started = false;
  let lastEventId = "";
  let eventType = "";
  let data: string[] = [];
  let retry: number | undefined;

  function dispatch(): void {
    if (data.length > 0) {
      const event: SSEEvent = {
        event: eventType || "message",
        data: data.join("\n"),
        id: lastEventId,
      };
      if (retry !== undefined) event.retry = retry;
      onEvent(event);
    }
    eventType = "";
    data = [];
    retry = undefined;
  }

  function processLine(line: string): void {
    if (line === "") return dispatch();
    if (line.startsWith(":")) return onComment(line.slice(1).trimStart());
    const colon = line.indexOf(":");
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    switch (field) {
      case "event":
        eventType = value;
        break;
      case "data":
        data.push(value);
        break;
      case "id":
        if (!value.includes("\0")) lastEventId = value;
        break;
      case "retry":
        if (/^\d+$/.test(value)) retry = Number(value);
        break;
      // Unknown fields are ignored, as the specification requires.
    }
  }

  return {
    feed(chunk: string): void {
      buffer += chunk;
      if (!started && buffer.length > 0) {
        started = true;
        if (buffer.startsWith("\uFEFF")) buffer = buffer.slice(1);
      }
      // A line ends at CRLF, LF or CR. A CR at the very end may be the first half of
      // a CRLF split across chunks, so it waits for the next chunk.
      const ending = /\r\n|\n|\r(?!$)/g;
      let start = 0;
      for (let match = ending.exec(buffer); match !== null; match = ending.exec(buffer)) {
        processLine(buffer.slice(start, match.index));
        start = match.index + match[0].length;
      }
      buffer = buffer.slice(start);
    },
    end(): void {
      if (buffer.endsWith("\r")) processLine(buffer.slice(0, -1));
      buffer = "";
      data = [];
    },
  };
}
// [end:parser]

// [start:read-stream]
/** Decode a fetch() body as UTF-8 and parse it; resolves when the stream ends. */
export async function readEventStream(
  body: ReadableStream<Uint8Array<ArrayBuffer>>,
  onEvent: (event: SSEEvent) => void,
  onComment?: (comment: string) => void,
): Promise<void> {
  const parser = createSSEParser(onEvent, onComment);
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return parser.end();
      parser.feed(value);
    }
  } finally {
    reader.releaseLock();
  }
}
// [end:read-stream]
