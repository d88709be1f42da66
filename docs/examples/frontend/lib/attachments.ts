// Attachments the reference sends today: text files, read in the browser and sent as
// part of the message, inside the backend's 8,000-character limit. Images and PDFs need
// an upload endpoint and server-side extraction (chapter 6); the policy's `accept` list
// is where they would be added.

// [start:policy]
export interface AttachmentPolicy {
  /** File name extensions accepted, lower case, with the dot. */
  accept: readonly string[];
  maxFiles: number;
  maxFileBytes: number;
  /** The backend's ChatRequest.message max_length: text plus attachments must fit. */
  maxMessageChars: number;
}

export const TEXT_ATTACHMENTS: AttachmentPolicy = {
  accept: [
    ".txt",
    ".md",
    ".csv",
    ".json",
    ".log",
    ".py",
    ".ts",
    ".tsx",
    ".js",
    ".sql",
    ".yaml",
    ".yml",
  ],
  maxFiles: 3,
  maxFileBytes: 32 * 1024,
  maxMessageChars: 8000,
};
// [end:policy]

export interface Attachment {
  /** Name plus size plus last-modified time: the same file picked twice is one attachment. */
  key: string;
  name: string;
  size: number;
  text: string;
}

export type RejectReason = "type" | "size" | "count" | "duplicate" | "binary";

export interface Rejection {
  name: string;
  reason: RejectReason;
}

/** The fields of a File this module reads; tests pass plain objects. */
export interface FileLike {
  name: string;
  size: number;
  lastModified: number;
  text: () => Promise<string>;
}

const extension = (name: string): string => {
  const dot = name.lastIndexOf(".");
  return dot === -1 ? "" : name.slice(dot).toLowerCase();
};

export const fileKey = (f: Pick<FileLike, "name" | "size" | "lastModified">): string =>
  `${f.name}:${f.size}:${f.lastModified}`;

// [start:screen]
/** Cheap checks before reading anything: type by extension, size, count, duplicates. */
export function screenFiles<F extends FileLike>(
  files: readonly F[],
  current: readonly Attachment[],
  policy: AttachmentPolicy,
): { accepted: F[]; rejected: Rejection[] } {
  const accepted: F[] = [];
  const rejected: Rejection[] = [];
  const keys = new Set(current.map((a) => a.key));
  for (const file of files) {
    const reason: RejectReason | null = !policy.accept.includes(extension(file.name))
      ? "type"
      : file.size > policy.maxFileBytes
        ? "size"
        : keys.has(fileKey(file))
          ? "duplicate"
          : current.length + accepted.length >= policy.maxFiles
            ? "count"
            : null;
    if (reason === null) {
      accepted.push(file);
      keys.add(fileKey(file));
    } else {
      rejected.push({ name: file.name, reason });
    }
  }
  return { accepted, rejected };
}

/** Read a screened file; a NUL byte means a binary file renamed to .txt. */
export async function readAttachment(file: FileLike): Promise<Attachment | Rejection> {
  const text = await file.text();
  if (text.includes("\0")) return { name: file.name, reason: "binary" };
  return { key: fileKey(file), name: file.name, size: file.size, text };
}
// [end:screen]

// [start:compose]
/** A fence longer than any backtick run inside, so file content cannot close it early. */
function fenceFor(text: string): string {
  const longest = Math.max(0, ...Array.from(text.matchAll(/`+/g), (m) => m[0].length));
  return "`".repeat(Math.max(3, longest + 1));
}

export type Composed = { ok: true; message: string } | { ok: false; overBy: number };

export function composeMessage(
  text: string,
  attachments: readonly Attachment[],
  policy: AttachmentPolicy,
): Composed {
  const parts = [text.trim()];
  for (const a of attachments) {
    const fence = fenceFor(a.text);
    const language = extension(a.name).slice(1);
    parts.push(
      `Attached file \`${a.name.replaceAll("`", "'")}\`:\n${fence}${language}\n${a.text.replace(/\n$/, "")}\n${fence}`,
    );
  }
  const message = parts.filter((p) => p !== "").join("\n\n");
  // Code points, as the backend's Pydantic max_length counts them (an emoji is 2 in .length).
  const overBy = Array.from(message).length - policy.maxMessageChars;
  return overBy > 0 ? { ok: false, overBy } : { ok: true, message };
}
// [end:compose]

export function describeRejection({ name, reason }: Rejection, policy: AttachmentPolicy): string {
  switch (reason) {
    case "type":
      return `${name}: only text files (${policy.accept.join(", ")}) can be attached.`;
    case "size":
      return `${name} is larger than ${Math.round(policy.maxFileBytes / 1024)} KB.`;
    case "count":
      return `${name}: at most ${policy.maxFiles} files per message.`;
    case "duplicate":
      return `${name} is already attached.`;
    case "binary":
      return `${name} is not a text file.`;
  }
}
