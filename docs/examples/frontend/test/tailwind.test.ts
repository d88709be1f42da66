// Tailwind CSS 4's CSS-first configuration (app/globals.css) compiled the way Next.js
// compiles it, through PostCSS, over the project's own sources.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { test } from "node:test";

import tailwind from "@tailwindcss/postcss";
import postcss from "postcss";

const root = fileURLToPath(new URL("..", import.meta.url));
const from = fileURLToPath(new URL("../app/globals.css", import.meta.url));

test("globals.css compiles with the utilities the components use", async () => {
  const { css } = await postcss([tailwind({ base: root })]).process(readFileSync(from, "utf8"), {
    from,
  });
  const has = (needle: string) => assert.ok(css.includes(needle), `missing ${needle}`);
  has(".dark\\:bg-zinc-950"); // found by scanning app/layout.tsx
  has(":where(.dark, .dark *)"); // the class-based dark variant, not the media query
  has("field-sizing: content"); // the auto-growing textarea
  has("(pointer: fine)"); // hover-only affordances for mouse users only
  has("prefers-reduced-motion: reduce");
  has('[aria-pressed="true"]');
  has("env(safe-area-inset-bottom)");
  has(".prose-chat");
  has("--font-sans: ui-sans-serif");
  assert.ok(
    !css.includes("prefers-color-scheme: dark"),
    "dark mode must follow the class, not only the OS",
  );
});
