// Text attachments: screening, reading, and composing them into one message.
import assert from "node:assert/strict";
import { test } from "node:test";

import {
  type Attachment,
  composeMessage,
  describeRejection,
  type FileLike,
  readAttachment,
  screenFiles,
  TEXT_ATTACHMENTS,
} from "../lib/attachments";

const file = (name: string, text: string, lastModified = 1): FileLike => ({
  name,
  size: new TextEncoder().encode(text).length,
  lastModified,
  text: async () => text,
});

test("screening: type by extension, size, duplicates and the count limit", () => {
  const current: Attachment[] = [{ key: "a.md:2:1", name: "a.md", size: 2, text: "hi" }];
  const big = { ...file("big.log", ""), size: 33 * 1024 };
  const { accepted, rejected } = screenFiles(
    [
      file("a.md", "hi"),
      file("photo.PNG", "x"),
      big,
      file("b.py", "x"),
      file("c.TXT", "y"),
      file("d.csv", "z"),
    ],
    current,
    TEXT_ATTACHMENTS,
  );
  assert.deepEqual(
    accepted.map((f) => f.name),
    ["b.py", "c.TXT"],
  );
  assert.deepEqual(rejected, [
    { name: "a.md", reason: "duplicate" },
    { name: "photo.PNG", reason: "type" },
    { name: "big.log", reason: "size" },
    { name: "d.csv", reason: "count" },
  ]);
  assert.equal(
    describeRejection({ name: "big.log", reason: "size" }, TEXT_ATTACHMENTS),
    "big.log is larger than 32 KB.",
  );
});

test("a binary file renamed to .txt is refused after reading", async () => {
  assert.deepEqual(await readAttachment(file("x.txt", "PK\u0003\u0004\u0000\u0000")), {
    name: "x.txt",
    reason: "binary",
  });
  assert.equal((await readAttachment(file("x.txt", "plain"))).name, "x.txt");
});

test("composing: each file in a fence longer than any backtick run inside it", () => {
  const readme: Attachment = {
    key: "k",
    name: "README.md",
    size: 1,
    text: "Run:\n```bash\nnpm ci\n```\n",
  };
  const composed = composeMessage("  What does this do?  ", [readme], TEXT_ATTACHMENTS);
  assert.ok(composed.ok);
  assert.equal(
    composed.message,
    "What does this do?\n\nAttached file `README.md`:\n````md\nRun:\n```bash\nnpm ci\n```\n````",
  );
});

test("the backend's 8,000-character limit counts code points, as Pydantic does", () => {
  const emoji = "\u{1F600}".repeat(8000); // 16,000 UTF-16 units, 8,000 characters
  assert.deepEqual(composeMessage(emoji, [], TEXT_ATTACHMENTS), { ok: true, message: emoji });
  const log: Attachment = { key: "k", name: "app.log", size: 1, text: "x".repeat(8000) };
  const over = composeMessage("why?", [log], TEXT_ATTACHMENTS);
  assert.equal(over.ok, false);
  assert.equal(
    !over.ok && over.overBy,
    "why?\n\nAttached file `app.log`:\n```log\n".length + 8000 + 4 - 8000,
  );
});
