"use client";

import { useCallback, useEffect, useRef, useState } from "react";

import {
  type ClientFrame,
  ChatSocket,
  type ServerFrame,
  type SocketStatus,
  ticketUrl,
} from "@/lib/chatSocket";

export interface UseChatSocket {
  status: SocketStatus;
  /** False when the frame could not be sent (reconnecting, offline, refused). */
  send: (frame: ClientFrame) => boolean;
}

// [start:use-chat-socket]
export function useChatSocket(
  socketUrl: string, // e.g. wss://chat.example.com/v1/ws/chat: route handlers cannot proxy WebSockets
  onFrame: (frame: ServerFrame) => void,
  onTurnLost?: () => void,
  ticketEndpoint = "/api/ws-ticket",
): UseChatSocket {
  const [status, setStatus] = useState<SocketStatus>("idle");
  const socket = useRef<ChatSocket | null>(null);
  // The latest callbacks, without reconnecting every time the parent re-renders.
  const handlers = useRef({ onFrame, onTurnLost });
  useEffect(() => {
    handlers.current = { onFrame, onTurnLost };
  });

  useEffect(() => {
    const client = new ChatSocket({
      url: () => ticketUrl(socketUrl, ticketEndpoint),
      onStatus: setStatus,
      onFrame: (frame) => handlers.current.onFrame(frame),
      onTurnLost: () => handlers.current.onTurnLost?.(),
    });
    socket.current = client;
    const online = () => client.setOnline(true);
    const offline = () => client.setOnline(false);
    window.addEventListener("online", online);
    window.addEventListener("offline", offline);
    client.setOnline(navigator.onLine);
    client.connect();
    return () => {
      window.removeEventListener("online", online);
      window.removeEventListener("offline", offline);
      client.stop(); // Strict Mode mounts twice in development: the first socket closes here
      socket.current = null;
    };
  }, [socketUrl, ticketEndpoint]);

  const send = useCallback((frame: ClientFrame) => socket.current?.send(frame) ?? false, []);
  return { status, send };
}
// [end:use-chat-socket]
