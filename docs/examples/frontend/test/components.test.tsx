// The components in happy-dom: the chat end to end, the input, the error boundary,
// the theme, the skeletons.
import "./dom";

import assert from "node:assert/strict";
import { afterEach, test } from "node:test";
import { act, type ReactNode } from "react";
import { createRoot, type Root } from "react-dom/client";
import { renderToStaticMarkup } from "react-dom/server";

import { ChatContainer } from "../components/chat/ChatContainer";
import { ChatInput, submitsOnEnter } from "../components/chat/ChatInput";
import { TypingIndicator } from "../components/chat/TypingIndicator";
import { MessageList } from "../components/chat/MessageList";
import { ErrorBoundary } from "../components/ErrorBoundary";
import { ThemeProvider } from "../components/theme/ThemeProvider";
import { ThemeToggle } from "../components/theme/ThemeToggle";
import { MessageListSkeleton } from "../components/ui/Skeleton";
import type { Message } from "../lib/chatStore";
import { themeScript } from "../lib/theme";
import { fixture, scriptedFetch } from "./helpers";

let mounted: { root: Root; host: HTMLElement } | null = null;
async function mount(node: ReactNode): Promise<HTMLElement> {
  const host = document.createElement("div");
  document.body.append(host);
  const root = createRoot(host);
  await act(async () => root.render(node));
  mounted = { root, host };
  return host;
}
afterEach(async () => {
  if (mounted) await act(async () => mounted?.root.unmount());
  mounted?.host.remove();
  mounted = null;
  localStorage.clear();
});

/** Type into a React-controlled field as a user would. */
function type(field: HTMLTextAreaElement, text: string): void {
  Object.getOwnPropertyDescriptor(HTMLTextAreaElement.prototype, "value")?.set?.call(field, text);
  field.dispatchEvent(new Event("input", { bubbles: true }));
}
const wait = (ms: number) => act(() => new Promise<void>((resolve) => setTimeout(resolve, ms)));

test("the chat end to end: type, press Enter, read the streamed reply", async () => {
  globalThis.fetch = scriptedFetch([{ body: fixture("chat-stream.sse") }]).fetchImpl;
  const host = await mount(
    <ThemeProvider>
      <ChatContainer />
    </ThemeProvider>,
  );
  await wait(10); // the store reads localStorage after the first render
  const field = host.querySelector("textarea");
  assert.ok(field);
  await act(async () => type(field, "hello"));
  await act(async () => {
    field.dispatchEvent(new KeyboardEvent("keydown", { key: "Enter", bubbles: true }));
  });
  await wait(50);
  const log = host.querySelector('[role="log"]');
  assert.deepEqual(
    Array.from(log?.querySelectorAll("article") ?? []).map((a) => [
      a.getAttribute("aria-label"),
      a.textContent,
    ]),
    [
      ["You", "hello"],
      ["Assistant", "Hello! You said: hello"],
    ],
  );
  assert.equal(field.value, "", "the draft is cleared");
  assert.equal(host.querySelector("h1")?.textContent, "hello", "the conversation is titled");
  assert.match(
    host.querySelector('[role="status"].sr-only')?.textContent ?? "",
    /^Assistant: Hello! You said: hello$/,
  );
});

test("Enter sends, Shift+Enter and IME composition do not", () => {
  const key = { key: "Enter", shiftKey: false, isComposing: false, keyCode: 13 };
  assert.equal(submitsOnEnter(key), true);
  assert.equal(submitsOnEnter({ ...key, shiftKey: true }), false);
  assert.equal(submitsOnEnter({ ...key, isComposing: true }), false);
  assert.equal(
    submitsOnEnter({ ...key, keyCode: 229 }),
    false,
    "Safari's composition-ending Enter",
  );
});

test("attaching files: accepted ones become chips and go into the message, others are explained", async () => {
  const sent: string[] = [];
  const host = await mount(
    <ChatInput onSend={(m) => sent.push(m)} onStop={() => {}} streaming={false} />,
  );
  const picker = host.querySelector<HTMLInputElement>('input[type="file"]');
  assert.ok(picker);
  Object.defineProperty(picker, "files", {
    configurable: true,
    value: [new File(["a,b\n1,2\n"], "data.csv"), new File(["x"], "photo.png")],
  });
  await act(async () => picker.dispatchEvent(new Event("change", { bubbles: true })));
  await wait(10);
  assert.deepEqual(
    Array.from(host.querySelectorAll('[aria-label="Attached files"] li')).map(
      (li) => li.firstChild?.textContent,
    ),
    ["data.csv"],
  );
  assert.match(
    host.querySelector('[role="alert"]')?.textContent ?? "",
    /photo\.png: only text files/,
  );
  const field = host.querySelector("textarea");
  assert.ok(field);
  await act(async () => type(field, "Sum column b"));
  await act(async () => host.querySelector("form")?.requestSubmit());
  assert.deepEqual(sent, ["Sum column b\n\nAttached file `data.csv`:\n```csv\na,b\n1,2\n```"]);
  assert.equal(host.querySelectorAll('[aria-label="Attached files"] li').length, 0);
});

test("while a reply streams the input offers Stop instead of Send", async () => {
  let stopped = 0;
  const host = await mount(<ChatInput onSend={() => {}} onStop={() => stopped++} streaming />);
  const stop = Array.from(host.querySelectorAll("button")).find((b) => b.textContent === "Stop");
  await act(async () => stop?.click());
  assert.equal(stopped, 1);
});

test("the error boundary shows its fallback, reports, and recovers when its reset keys change", async () => {
  const reported: unknown[] = [];
  const quiet = console.error;
  console.error = () => {}; // React logs caught errors too
  function Fragile({ text }: { text: string }) {
    if (text === "bad") throw new Error("cannot render");
    return <p>{text}</p>;
  }
  const view = (text: string) => (
    <ErrorBoundary
      resetKeys={[text]}
      onError={(e) => reported.push(e)}
      fallback={({ error }) => <p role="alert">{String(error)}</p>}
    >
      <Fragile text={text} />
    </ErrorBoundary>
  );
  try {
    const host = await mount(view("bad"));
    assert.equal(host.textContent, "Error: cannot render");
    assert.equal(reported.length, 1);
    await act(async () => mounted?.root.render(view("good")));
    assert.equal(host.textContent, "good");
  } finally {
    console.error = quiet;
  }
});

test("a message that cannot render is replaced by its text, and the others still render", async () => {
  const quiet = console.error;
  console.error = () => {};
  const messages: Message[] = [
    { id: "1", role: "user", content: "fine", status: "sent", createdAt: 0 },
    // A status the bubble does not know is fine; a content that is not a string is not.
    {
      id: "2",
      role: "assistant",
      content: { broken: true } as unknown as string,
      status: "done",
      createdAt: 0,
    },
  ];
  try {
    const host = await mount(
      <MessageList
        messages={messages}
        policy={{ origin: "http://localhost", imageHosts: [] }}
        onRetry={() => {}}
        onDiscard={() => {}}
      />,
    );
    assert.equal(host.querySelectorAll("article").length, 1);
    assert.match(host.textContent ?? "", /This message could not be displayed/);
  } finally {
    console.error = quiet;
  }
});

test("the inline theme script applies the stored choice before React runs", () => {
  const root = document.documentElement;
  for (const [stored, dark] of [
    ["dark", true],
    ["light", false],
    [null, false],
  ] as const) {
    root.className = "";
    if (stored === null) localStorage.removeItem("theme");
    else localStorage.setItem("theme", stored);
    new Function(themeScript)();
    assert.equal(root.classList.contains("dark"), dark, String(stored));
    assert.equal(root.style.colorScheme, dark ? "dark" : "light");
  }
  localStorage.setItem("theme", "dark");
  const getItem = Storage.prototype.getItem;
  Storage.prototype.getItem = () => {
    throw new Error("blocked");
  };
  try {
    assert.doesNotThrow(
      () => new Function(themeScript)(),
      "blocked storage must not break the page",
    );
  } finally {
    Storage.prototype.getItem = getItem;
  }
});

test("the theme toggle switches, persists, and follows another tab's choice", async () => {
  const root = document.documentElement;
  root.className = "";
  const host = await mount(
    <ThemeProvider>
      <ThemeToggle />
    </ThemeProvider>,
  );
  const button = (label: string) =>
    Array.from(host.querySelectorAll("button")).find((b) => b.textContent === label);
  assert.equal(button("System")?.getAttribute("aria-pressed"), "true");
  await act(async () => button("Dark")?.click());
  assert.equal(root.classList.contains("dark"), true);
  assert.equal(localStorage.getItem("theme"), "dark");
  assert.equal(button("Dark")?.getAttribute("aria-pressed"), "true");
  localStorage.setItem("theme", "light"); // another tab
  await act(async () =>
    window.dispatchEvent(new StorageEvent("storage", { key: "theme", newValue: "light" })),
  );
  assert.equal(root.classList.contains("dark"), false);
  assert.equal(button("Light")?.getAttribute("aria-pressed"), "true");
});

test("skeletons are deterministic, announced once, and still for reduced motion", () => {
  const html = renderToStaticMarkup(<MessageListSkeleton />);
  assert.equal(html, renderToStaticMarkup(<MessageListSkeleton />));
  assert.match(html, /role="status" aria-label="Loading conversation"/);
  assert.match(html, /motion-reduce:animate-none/);
  assert.equal(
    (html.match(/aria-hidden="true"/g) ?? []).length,
    7,
    "the bars are hidden; the label speaks for them",
  );
});

test("Escape in the input stops a streaming reply", async () => {
  let stopped = 0;
  const host = await mount(<ChatInput onSend={() => {}} onStop={() => stopped++} streaming />);
  const field = host.querySelector("textarea");
  await act(async () => {
    field?.dispatchEvent(new KeyboardEvent("keydown", { key: "Escape", bubbles: true }));
  });
  assert.equal(stopped, 1);
});

test("a first token that takes unusually long is explained, not just animated", async () => {
  const host = await mount(<TypingIndicator slowAfterMs={20} />);
  assert.equal(host.querySelector('[role="status"]'), null);
  await wait(40);
  assert.match(host.querySelector('[role="status"]')?.textContent ?? "", /^Still working/);
});
