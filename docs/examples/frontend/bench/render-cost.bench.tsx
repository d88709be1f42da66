// What a streaming reply costs the main thread: re-parsing the whole Markdown per update
// versus only its last block, and serialising the persisted store per update versus once
// a second. Run with `npm run bench`; the numbers in chapter 4 come from here.
import { performance } from "node:perf_hooks";
import { renderToStaticMarkup } from "react-dom/server";

import { Markdown } from "../components/markdown/Markdown";
import { forStorage, type ChatData, type Conversation } from "../lib/chatStore";
import { splitBlocks } from "../lib/markdownBlocks";

const policy = { origin: "https://chat.example.com", imageHosts: [] };

/** A long technical answer: headings, prose, lists, code, a table; about 4 characters a token. */
function reply(targetChars: number): string {
  const section = [
    "## Configuring the connection pool",
    "",
    "The pool keeps **warm connections** to the database so a request does not pay the TCP and TLS handshake. Size it from the number of concurrent requests a pod serves, not from the number of users.",
    "",
    "1. Measure the p99 of concurrent queries per pod.",
    "2. Add headroom for background jobs.",
    "3. Keep the total below the server's `max_connections`.",
    "",
    "```python",
    "engine = create_async_engine(url, pool_size=20, max_overflow=10)",
    "",
    "async with engine.connect() as conn:",
    "    await conn.execute(text('select 1'))",
    "```",
    "",
    "| Setting | Value |",
    "|---|---|",
    "| pool_size | 20 |",
    "| max_overflow | 10 |",
    "",
  ].join("\n");
  let text = "";
  while (text.length < targetChars) text += `${section}\n`;
  return text.slice(0, targetChars);
}

function time(fn: () => void): number {
  const start = performance.now();
  fn();
  return performance.now() - start;
}

const tokens = 4000;
const full = reply(tokens * 4);
const step = full.length / tokens;
render(full.slice(0, 2000)); // warm up
function render(text: string): void {
  renderToStaticMarkup(<Markdown text={text} policy={policy} />);
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
let whole = 0;
let last = 0;
const endWhole: number[] = [];
const endLast: number[] = [];
for (let i = 1; i <= tokens; i += 10) {
  const prefix = full.slice(0, Math.round(i * step));
  const w = time(() => render(prefix));
  const l = time(() => render(splitBlocks(prefix).at(-1) ?? ""));
  whole += w * 10; // every tenth update is measured; the others cost about the same
  last += l * 10;
  if (i > tokens * 0.9) {
    endWhole.push(w);
    endLast.push(l);
  }
}
console.log(
  `reply: ${full.length} characters, ~${tokens} tokens, ${splitBlocks(full).length} blocks`,
);
console.log(
  `re-parse whole reply per token: ${(whole / 1000).toFixed(1)} s in all, median ${median(endWhole).toFixed(1)} ms per update near the end`,
);
console.log(
  `re-parse last block per token:  ${(last / 1000).toFixed(1)} s in all, median ${median(endLast).toFixed(2)} ms per update near the end`,
);

const message = (i: number) => ({
  id: `m${i}`,
  role: "assistant" as const,
  content: reply(1000),
  status: "done" as const,
  createdAt: i,
});
const conversations: Record<string, Conversation> = {};
for (let c = 0; c < 20; c++) {
  conversations[`c${c}`] = {
    id: `c${c}`,
    serverId: null,
    title: "t",
    updatedAt: c,
    messages: Array.from({ length: 100 }, (_, i) => message(i)),
  };
}
const data: ChatData = { activeId: "c0", conversations };
const json = JSON.stringify({ state: forStorage(data), version: 1 });
const runs = 50;
const serialise =
  time(() => {
    for (let i = 0; i < runs; i++) JSON.stringify({ state: forStorage(data), version: 1 });
  }) / runs;
console.log(
  `persisted state: ${(json.length / 1e6).toFixed(1)} MB of JSON, ${serialise.toFixed(1)} ms per serialisation`,
);
console.log(
  `at 50 tokens/s: ${(serialise * 50).toFixed(0)} ms of every second per-token, ${serialise.toFixed(1)} ms throttled to 1/s`,
);
