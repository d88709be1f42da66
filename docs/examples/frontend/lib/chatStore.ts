// Conversation state shared by the chat components, in a Zustand store.
import { create } from "zustand";

export type Role = "user" | "assistant";
export type Status = "idle" | "streaming" | "error";

export interface Message {
  id: string;
  role: Role;
  content: string;
}

// [start:store]
interface ChatState {
  conversationId: string | null;
  messages: Message[];
  status: Status;
  error: string | null;
  addUserMessage: (content: string) => void;
  startAssistantMessage: () => void;
  appendToAssistant: (delta: string) => void;
  setConversation: (id: string) => void;
  finish: () => void;
  fail: (error: string) => void;
}

let nextId = 0;
const newId = (): string => `m${++nextId}`;

export const useChatStore = create<ChatState>()((set) => ({
  conversationId: null,
  messages: [],
  status: "idle",
  error: null,
  addUserMessage: (content) =>
    set((s) => ({ messages: [...s.messages, { id: newId(), role: "user", content }], error: null })),
  startAssistantMessage: () =>
    set((s) => ({
      messages: [...s.messages, { id: newId(), role: "assistant", content: "" }],
      status: "streaming",
    })),
  appendToAssistant: (delta) =>
    set((s) => {
      const last = s.messages.at(-1);
      if (last?.role !== "assistant") return {};
      return { messages: [...s.messages.slice(0, -1), { ...last, content: last.content + delta }] };
    }),
  setConversation: (id) => set({ conversationId: id }),
  finish: () => set({ status: "idle" }),
  fail: (error) => set({ status: "error", error }),
}));
// [end:store]
