import { ChatContainer } from "@/components/chat/ChatContainer";

// A Server Component that renders the client-side chat; the HTML it sends is the
// skeleton, and the conversations appear once the browser has read localStorage.
export default function Page() {
  return <ChatContainer />;
}
