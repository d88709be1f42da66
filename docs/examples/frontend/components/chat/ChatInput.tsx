"use client";

import {
  type ClipboardEvent,
  type DragEvent,
  type FormEvent,
  type KeyboardEvent,
  useId,
  useRef,
  useState,
} from "react";

import {
  type Attachment,
  type AttachmentPolicy,
  composeMessage,
  type Rejection,
  describeRejection,
  readAttachment,
  screenFiles,
  TEXT_ATTACHMENTS,
} from "@/lib/attachments";

export interface ChatInputProps {
  onSend: (message: string) => void;
  onStop: () => void;
  streaming: boolean;
  policy?: AttachmentPolicy;
}

/** Enter sends, Shift+Enter breaks the line, and Enter that confirms an IME composition does neither. */
export function submitsOnEnter(event: {
  key: string;
  shiftKey: boolean;
  isComposing: boolean;
  keyCode: number;
}): boolean {
  // keyCode 229: Safari reports the composition-ending Enter with isComposing false.
  return event.key === "Enter" && !event.shiftKey && !event.isComposing && event.keyCode !== 229;
}

// [start:chat-input]
// [start:chat-input-logic]
export function ChatInput({
  onSend,
  onStop,
  streaming,
  policy = TEXT_ATTACHMENTS,
}: ChatInputProps) {
  const [draft, setDraft] = useState("");
  const [attachments, setAttachments] = useState<Attachment[]>([]);
  const [problems, setProblems] = useState<string[]>([]);
  const picker = useRef<HTMLInputElement>(null);
  const hintId = useId();

  async function add(files: readonly File[]): Promise<void> {
    const { accepted, rejected } = screenFiles(files, attachments, policy);
    const read = await Promise.all(accepted.map(readAttachment));
    const ok = read.filter((r): r is Attachment => "text" in r);
    const failed = [...rejected, ...read.filter((r): r is Rejection => "reason" in r)];
    setAttachments((current) => [...current, ...ok]);
    setProblems(failed.map((r) => describeRejection(r, policy)));
  }

  function submit(event?: FormEvent): void {
    event?.preventDefault();
    if (streaming || (draft.trim() === "" && attachments.length === 0)) return;
    const composed = composeMessage(draft, attachments, policy);
    if (!composed.ok) {
      setProblems([
        `The message is ${composed.overBy} characters too long. Shorten it or remove a file.`,
      ]);
      return;
    }
    onSend(composed.message);
    setDraft("");
    setAttachments([]);
    setProblems([]);
  }

  function onKeyDown(event: KeyboardEvent<HTMLTextAreaElement>): void {
    const { key, shiftKey, keyCode } = event;
    if (key === "Escape" && streaming) return onStop(); // stop without leaving the keyboard
    if (!submitsOnEnter({ key, shiftKey, keyCode, isComposing: event.nativeEvent.isComposing }))
      return;
    event.preventDefault();
    submit();
  }

  const filesOf = (list: FileList | null): File[] => (list ? Array.from(list) : []);
  const onDrop = (event: DragEvent) => {
    event.preventDefault();
    void add(filesOf(event.dataTransfer.files));
  };
  const onPaste = (event: ClipboardEvent) => {
    const files = filesOf(event.clipboardData.files);
    if (files.length === 0) return; // ordinary text paste
    event.preventDefault();
    void add(files);
  };

  // [end:chat-input-logic]

  const remaining = policy.maxMessageChars - draft.length;
  return (
    <form
      onSubmit={submit}
      onDragOver={(e) => e.preventDefault()}
      onDrop={onDrop}
      className="border-t border-zinc-200 p-3 pb-[max(0.75rem,env(safe-area-inset-bottom))] dark:border-zinc-800"
    >
      {attachments.length > 0 && (
        <ul aria-label="Attached files" className="mb-2 flex flex-wrap gap-2">
          {attachments.map((a) => (
            <li
              key={a.key}
              className="flex items-center gap-1 rounded-full bg-zinc-100 px-3 py-1 text-sm dark:bg-zinc-800"
            >
              {a.name}
              <button
                type="button"
                aria-label={`Remove ${a.name}`}
                onClick={() => setAttachments((all) => all.filter((x) => x.key !== a.key))}
                className="ml-1 size-6 rounded-full hover:bg-zinc-200 dark:hover:bg-zinc-700"
              >
                ×
              </button>
            </li>
          ))}
        </ul>
      )}
      {problems.length > 0 && (
        <ul role="alert" className="mb-2 text-sm text-red-700 dark:text-red-400">
          {problems.map((p) => (
            <li key={p}>{p}</li>
          ))}
        </ul>
      )}
      <div className="flex items-end gap-2">
        <button
          type="button"
          aria-label="Attach files"
          onClick={() => picker.current?.click()}
          className="size-11 shrink-0 rounded-lg border border-zinc-300 dark:border-zinc-700"
        >
          +
        </button>
        <input
          ref={picker}
          type="file"
          multiple
          hidden
          accept={policy.accept.join(",")}
          onChange={(e) => {
            void add(filesOf(e.target.files));
            e.target.value = ""; // picking the same file again must fire change again
          }}
        />
        <label htmlFor={`${hintId}-text`} className="sr-only">
          Message
        </label>
        <textarea
          id={`${hintId}-text`}
          value={draft}
          onChange={(e) => setDraft(e.target.value)}
          onKeyDown={onKeyDown}
          onPaste={onPaste}
          rows={1}
          aria-describedby={hintId}
          placeholder="Ask anything"
          // 16px text: iOS Safari zooms the page into any smaller input on focus.
          className="field-sizing-content max-h-48 min-h-11 flex-1 resize-none rounded-lg border border-zinc-300 bg-transparent px-3 py-2 text-base dark:border-zinc-700"
        />
        {streaming ? (
          <button
            type="button"
            onClick={onStop}
            className="h-11 rounded-lg bg-zinc-200 px-4 dark:bg-zinc-700"
          >
            Stop
          </button>
        ) : (
          <button
            type="submit"
            className="h-11 rounded-lg bg-blue-600 px-4 text-white disabled:opacity-50"
            disabled={draft.trim() === "" && attachments.length === 0}
          >
            Send
          </button>
        )}
      </div>
      <p id={hintId} className="mt-1 text-xs text-zinc-500 dark:text-zinc-400">
        Enter to send, Shift+Enter for a new line, Escape to stop a reply.
        {remaining < 1000 && (
          <span className={remaining < 0 ? " text-red-700 dark:text-red-400" : ""}>
            {" "}
            {remaining} characters left.
          </span>
        )}
      </p>
    </form>
  );
}
// [end:chat-input]
