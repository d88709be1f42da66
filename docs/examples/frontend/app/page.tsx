import { Chat } from "@/components/Chat";

export default function Page() {
  return (
    <main>
      <h1>Chatbot</h1>
      <Chat />
    </main>
  );
}
