// Split a growing Markdown reply into blocks at blank lines, so the blocks that are
// finished render once and only the last one re-renders as tokens arrive. Re-parsing
// the whole reply per update costs time proportional to its length, so a long answer
// gets slower the longer it streams.

const FENCE_OPEN = /^ {0,3}(`{3,}|~{3,})/;
const LIST_ITEM = /^ {0,3}([-*+]|\d{1,9}[.)])[ \t]/;
// A link reference definition applies to the whole document; splitting would orphan it.
const DEFINITION = /^ {0,3}\[[^\]]+\]:/m;

function closesFence(line: string, fence: string): boolean {
  const match = /^ {0,3}(`{3,}|~{3,})\s*$/.exec(line);
  return match?.[1] !== undefined && match[1][0] === fence[0] && match[1].length >= fence.length;
}

// [start:split-blocks]
export function splitBlocks(markdown: string): string[] {
  if (DEFINITION.test(markdown)) return [markdown];
  const lines = markdown.split("\n");
  const blocks: string[] = [];
  let current: string[] = [];
  let fence: string | null = null;
  let hasListItem = false;

  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? "";
    if (fence !== null) {
      current.push(line); // blank lines inside a code fence never split it
      if (closesFence(line, fence)) fence = null;
      continue;
    }
    const open = FENCE_OPEN.exec(line);
    if (open?.[1] !== undefined) fence = open[1];
    if (line.trim() !== "" || current.length === 0) {
      if (LIST_ITEM.test(line)) hasListItem = true;
      if (line.trim() !== "") current.push(line);
      continue;
    }
    const next = lines.slice(i + 1).find((l) => l.trim() !== "");
    // Keep together what Markdown joins across a blank line: indented continuations
    // and the items of one loose list.
    const joined = next === undefined || /^\s/.test(next) || (hasListItem && LIST_ITEM.test(next));
    if (joined) {
      current.push(line);
    } else {
      blocks.push(current.join("\n"));
      current = [];
      hasListItem = false;
    }
  }
  if (current.length > 0) blocks.push(current.join("\n"));
  return blocks;
}
// [end:split-blocks]
