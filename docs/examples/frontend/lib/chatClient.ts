// One chat turn over HTTP: POST the message, parse the SSE reply, report each event.
// Kept free of React so it can be tested with a fake fetch.
import { type ChatStreamEvent, toChatEvent } from "./chatEvents";
import { readEventStream } from "./sse";

export interface ChatTurn {
  message: string;
  conversationId: string | null;
}

/** "finished": the server sent done or error; "cut-off": the stream just ended. */
export type TurnOutcome = "finished" | "cut-off";

// [start:stream-chat]
export async function streamChat(
  endpoint: string,
  turn: ChatTurn,
  onEvent: (event: ChatStreamEvent) => void,
  signal: AbortSignal,
  fetchImpl: typeof fetch = fetch,
): Promise<TurnOutcome> {
  const response = await fetchImpl(endpoint, {
    method: "POST",
    headers: { "content-type": "application/json", accept: "text/event-stream" },
    body: JSON.stringify({ message: turn.message, conversation_id: turn.conversationId }),
    signal,
  });
  if (!response.ok || response.body === null) {
    throw new Error(`chat request failed: HTTP ${response.status}`);
  }
  let outcome: TurnOutcome = "cut-off";
  await readEventStream(response.body, (sse) => {
    const event = toChatEvent(sse);
    if (event === null) return;
    if (event.type === "done" || event.type === "error") outcome = "finished";
    onEvent(event);
  });
  return outcome;
}
// [end:stream-chat]
