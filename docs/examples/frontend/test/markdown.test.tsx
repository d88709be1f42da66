// Model output is untrusted. The renderer is fed hostile Markdown, including the
// exfiltration attacks of the guardrail corpus (tests/examples/data/attacks.jsonl), and
// the HTML it produces is parsed and inspected.
import "./dom";

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { act } from "react";
import { createRoot } from "react-dom/client";
import { renderToStaticMarkup } from "react-dom/server";

import { CodeBlock } from "../components/markdown/CodeBlock";
import { Markdown, StreamingMarkdown } from "../components/markdown/Markdown";
import { contentSecurityPolicy, imageHostsFromEnv } from "../lib/csp";
import { splitBlocks } from "../lib/markdownBlocks";
import { hostAllowed, safeImageUrl, safeLinkUrl, type UrlPolicy } from "../lib/safeUrl";

const policy: UrlPolicy = { origin: "https://chat.example.com", imageHosts: ["cdn.example.com"] };

function render(markdown: string): Document {
  const html = renderToStaticMarkup(<Markdown text={markdown} policy={policy} />);
  return new DOMParser().parseFromString(
    `<!doctype html><body>${html}</body>`,
    "text/html",
  ) as unknown as Document;
}

/** The properties every rendering of model output must have, whatever the input. */
function assertSafe(doc: Document, input: string): void {
  const forbidden = "script, iframe, object, embed, style, link, meta, form, svg, math, base";
  assert.equal(doc.querySelectorAll(forbidden).length, 0, `element from ${JSON.stringify(input)}`);
  for (const el of Array.from(doc.querySelectorAll("*"))) {
    for (const attr of Array.from(el.attributes)) {
      assert.ok(!attr.name.startsWith("on"), `${attr.name} from ${JSON.stringify(input)}`);
    }
  }
  for (const a of Array.from(doc.querySelectorAll("a[href]"))) {
    const href = new URL(a.getAttribute("href") ?? "", policy.origin);
    assert.ok(
      ["https:", "http:", "mailto:"].includes(href.protocol),
      `${href.href} from ${JSON.stringify(input)}`,
    );
    assert.equal(href.username, "");
  }
  for (const img of Array.from(doc.querySelectorAll("img"))) {
    const src = new URL(img.getAttribute("src") ?? "", policy.origin);
    assert.ok(
      src.origin === policy.origin || hostAllowed(src.hostname, policy.imageHosts),
      `image ${src.href}`,
    );
  }
}

// [start:hostile-inputs]
const HOSTILE = [
  "[x](javascript:alert(1))",
  "[x](JaVaScRiPt:alert(1))",
  "[x](java\tscript:alert(1))",
  "[x](&#106;avascript:alert(1))",
  "[x](javascript&colon;alert(1))",
  "[x]( javascript:alert(1))",
  "<javascript:alert(1)>",
  "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
  "[x](vbscript:msgbox(1))",
  "[x][r]\n\n[r]: javascript:alert(1)",
  "<script>alert(1)</script>",
  "<img src=x onerror=alert(1)>",
  '<a href="javascript:alert(1)">x</a>',
  "<iframe src=https://attacker.example></iframe>",
  "<svg onload=alert(1)>",
  "<style>body{display:none}</style>",
  "![x](https://attacker.example/p.png)",
  "![x](//attacker.example/p.png)",
  "![x](https://cdn.example.com.attacker.example/p.png)",
  "![x](https://cdn.example.com@attacker.example/p.png)",
  "![x](http://cdn.example.com/p.png)", // allowed host, but not over HTTPS
  "![x](data:image/svg+xml,<svg onload=alert(1)>)",
  "[docs](https://docs.example.com@attacker.example/)",
  "```html\n<script>alert(1)</script>\n```",
  "| a |\n|---|\n| <img src=x onerror=alert(1)> |",
];
// [end:hostile-inputs]

test("hostile Markdown never yields scripts, handlers, dangerous links or foreign images", () => {
  for (const input of HOSTILE) assertSafe(render(input), input);
});

test("the exfiltration attacks of the guardrail corpus load nothing and hide no destination", () => {
  const corpus = readFileSync(
    new URL("../../../../tests/examples/data/attacks.jsonl", import.meta.url),
    "utf8",
  )
    .trim()
    .split("\n")
    .map(
      (line) => JSON.parse(line) as { id: string; category: string; channel: string; text: string },
    )
    .filter((a) => a.category === "exfiltration" && a.channel === "output");
  assert.ok(corpus.length >= 12, "the corpus has its output-side exfiltration cases");
  for (const attack of corpus) {
    const doc = render(attack.text);
    assertSafe(doc, attack.id);
    assert.equal(
      doc.querySelectorAll("img").length,
      0,
      `${attack.id}: no image from an attacker loads`,
    );
    for (const a of Array.from(doc.querySelectorAll("a[href]"))) {
      const host = new URL(a.getAttribute("href") ?? "").hostname;
      assert.ok(a.textContent?.includes(`(${host})`), `${attack.id}: the link shows where it goes`);
    }
  }
});

test("what is blocked stays visible as text, not silently dropped", () => {
  const doc = render("<img src=x onerror=alert(1)> and ![chart](https://attacker.example/c.png)");
  assert.match(doc.body.textContent ?? "", /<img src=x onerror=alert\(1\)>/);
  assert.match(doc.body.textContent ?? "", /\[image blocked: chart\]/);
});

test("safe content renders normally", () => {
  const doc = render(
    "See [the docs](/help) and [spec](https://www.rfc-editor.org/rfc/rfc9562).\n\n![logo](https://cdn.example.com/logo.png)\n\n- [ ] task\n\n| a | b |\n|---|---|\n| 1 | 2 |",
  );
  const links = Array.from(doc.querySelectorAll("a"));
  assert.equal(links[0]?.getAttribute("href"), "https://chat.example.com/help");
  assert.equal(links[0]?.getAttribute("target"), null, "same-site links stay in the tab");
  assert.equal(links[1]?.getAttribute("rel"), "noopener noreferrer nofollow ugc");
  assert.equal(doc.querySelector("img")?.getAttribute("referrerpolicy"), "no-referrer");
  assert.equal(doc.querySelectorAll("table").length, 1);
  assert.equal(doc.querySelector("input")?.getAttribute("type"), "checkbox");
});

test("URL policy: schemes, hosts, subdomains and user info", () => {
  assert.equal(safeLinkUrl("mailto:help@example.com", policy), "mailto:help@example.com");
  assert.equal(safeLinkUrl("JAVASCRIPT:alert(1)", policy), null);
  assert.equal(safeLinkUrl("https://a@b.example", policy), null);
  assert.equal(safeImageUrl("/files/1.png", policy), "https://chat.example.com/files/1.png");
  assert.equal(
    safeImageUrl("https://img.cdn.example.com/a.png", policy),
    "https://img.cdn.example.com/a.png",
  );
  assert.equal(safeImageUrl("https://evilcdn.example.com/a.png", policy), null);
  assert.ok(!hostAllowed("cdn.example.com.attacker.example", ["cdn.example.com"]));
});

test("the CSP allows images from the same hosts the renderer does", () => {
  const hosts = imageHostsFromEnv(" cdn.example.com, bad host;script-src * ");
  assert.deepEqual(hosts, ["cdn.example.com"]);
  const csp = contentSecurityPolicy(hosts);
  assert.match(
    csp,
    /img-src 'self' data: blob: https:\/\/cdn\.example\.com https:\/\/\*\.cdn\.example\.com;/,
  );
  assert.match(csp, /frame-ancestors 'none'/);
  assert.doesNotMatch(csp, /script-src/);
  assert.match(csp, /connect-src 'self';/);
  const withSocket = contentSecurityPolicy(hosts, "wss://chat-api.example.com/v1/ws/chat");
  assert.match(withSocket, /connect-src 'self' wss:\/\/chat-api\.example\.com;/);
});

// [start:split-test]
const REPLY = [
  "## Steps",
  "",
  "1. Install the package:",
  "",
  "   ```bash",
  "   npm ci",
  "",
  "   npm test",
  "   ```",
  "",
  "2. Run it.",
  "",
  "A paragraph with **bold**.",
  "",
  "```python",
  "def f():",
  "",
  "    return 1",
  "```",
  "",
  "> quoted",
  "",
  "| a | b |",
  "|---|---|",
  "| 1 | 2 |",
].join("\n");

test("a reply rendered block by block is the reply rendered whole", () => {
  const whole = renderToStaticMarkup(<Markdown text={REPLY} policy={policy} />).replaceAll(
    "\n",
    "",
  );
  const blocks = renderToStaticMarkup(
    <StreamingMarkdown text={REPLY} policy={policy} />,
  ).replaceAll("\n", "");
  assert.equal(blocks, whole);
  assert.deepEqual(
    splitBlocks(REPLY).map((b) => b.split("\n")[0]),
    [
      "## Steps",
      "1. Install the package:",
      "A paragraph with **bold**.",
      "```python",
      "> quoted",
      "| a | b |",
    ],
  );
});

test("every prefix of a streaming reply splits without breaking a code fence", () => {
  for (let end = 0; end <= REPLY.length; end++) {
    for (const block of splitBlocks(REPLY.slice(0, end))) {
      const fences = block.split("\n").filter((l) => /^\s*```/.test(l)).length;
      assert.ok(fences <= 2, `prefix ${end}`);
    }
  }
  assert.deepEqual(
    splitBlocks("[a][1]\n\ntext\n\n[1]: https://x.example"),
    ["[a][1]\n\ntext\n\n[1]: https://x.example"],
    "definitions keep the document whole",
  );
});
// [end:split-test]

test("the copy button copies the code exactly and says so; without a clipboard it selects the code", async () => {
  const copied: string[] = [];
  Object.defineProperty(navigator, "clipboard", {
    configurable: true,
    value: { writeText: async (t: string) => void copied.push(t) },
  });
  const host = document.createElement("div");
  document.body.append(host);
  const root = createRoot(host);
  await act(async () => root.render(<CodeBlock code={'print("hi")\n'} language="python" />));
  const button = host.querySelector("button");
  await act(async () => button?.click());
  assert.deepEqual(copied, ['print("hi")\n']);
  assert.equal(button?.textContent, "Copied");
  assert.equal(host.querySelector('[role="status"]')?.textContent, "Code copied to the clipboard");

  Object.defineProperty(navigator, "clipboard", { configurable: true, value: undefined });
  await act(async () => button?.click());
  assert.equal(button?.textContent, "Press Ctrl+C");
  assert.equal(window.getSelection()?.toString(), 'print("hi")\n');
  await act(async () => root.unmount());
});

test("a fenced block in a reply becomes a code block with its language", () => {
  const doc = render("```ts\nconst a = 1;\n```");
  assert.equal(doc.querySelector("figcaption span")?.textContent, "ts");
  assert.equal(doc.querySelector("pre code")?.textContent, "const a = 1;");
});
