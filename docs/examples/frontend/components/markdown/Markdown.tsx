import { memo, useMemo } from "react";
import ReactMarkdown, { type Components, type ExtraProps } from "react-markdown";
import remarkGfm from "remark-gfm";

import { splitBlocks } from "@/lib/markdownBlocks";
import { externalHost, safeImageUrl, safeLinkUrl, type UrlPolicy } from "@/lib/safeUrl";

import { CodeBlock } from "./CodeBlock";

type HastNode = NonNullable<ExtraProps["node"]>["children"][number];

function textOf(node: HastNode | undefined): string {
  if (node === undefined) return "";
  if (node.type === "text") return node.value;
  return node.type === "element" ? node.children.map(textOf).join("") : "";
}

function languageOf(node: HastNode | undefined): string | null {
  if (node?.type !== "element") return null;
  const classes = node.properties.className;
  const match = Array.isArray(classes)
    ? classes.map(String).find((c) => c.startsWith("language-"))
    : undefined;
  return match ? match.slice("language-".length) : null;
}

// [start:markdown]
const remarkPlugins = [remarkGfm];

function components(policy: UrlPolicy): Components {
  return {
    a: ({ href, children }) => {
      if (!href) return <span className="underline decoration-dotted">{children}</span>; // URL removed
      const host = externalHost(href, policy);
      if (host === null)
        return (
          <a href={href} className="underline">
            {children}
          </a>
        );
      return (
        <a href={href} target="_blank" rel="noopener noreferrer nofollow ugc" className="underline">
          {children}
          {/* The real destination, so "docs" linking to attacker.example says so. */}
          <span className="ml-1 text-xs text-zinc-600 dark:text-zinc-400">({host})</span>
        </a>
      );
    },
    img: ({ src, alt }) =>
      typeof src === "string" && src !== "" ? (
        <img
          src={src}
          alt={alt ?? ""}
          loading="lazy"
          decoding="async"
          referrerPolicy="no-referrer"
          className="max-h-96 rounded dark:bg-zinc-100"
        />
      ) : (
        <span
          className="text-zinc-600 dark:text-zinc-400"
          title="Images load only from approved hosts"
        >
          [image blocked{alt ? `: ${alt}` : ""}]
        </span>
      ),
    pre: ({ node }) => {
      const code = node?.children[0];
      return <CodeBlock code={textOf(code).replace(/\n$/, "")} language={languageOf(code)} />;
    },
    code: ({ children }) => (
      <code className="rounded bg-zinc-100 px-1 py-0.5 text-[0.9em] dark:bg-zinc-800">
        {children}
      </code>
    ),
    table: ({ children }) => (
      <div className="my-3 overflow-x-auto">
        <table className="min-w-full text-sm">{children}</table>
      </div>
    ),
  };
}

/**
 * Model output as Markdown. Raw HTML is never parsed (no rehype-raw): react-markdown
 * shows it as text. Every URL goes through the policy: links keep only safe schemes
 * and show their host, images load only from allowed hosts.
 */
export function Markdown({ text, policy }: { text: string; policy: UrlPolicy }) {
  const overrides = useMemo(() => components(policy), [policy]);
  return (
    <ReactMarkdown
      remarkPlugins={remarkPlugins}
      components={overrides}
      urlTransform={(url, key) =>
        key === "src" ? safeImageUrl(url, policy) : safeLinkUrl(url, policy)
      }
    >
      {text}
    </ReactMarkdown>
  );
}
// [end:markdown]

// [start:streaming-markdown]
const Block = memo(Markdown); // a finished block gets the same text and policy: no re-render

/** A reply that is still growing: only its last block re-parses on each update. */
export function StreamingMarkdown({ text, policy }: { text: string; policy: UrlPolicy }) {
  return splitBlocks(text).map((block, i) => <Block key={i} text={block} policy={policy} />);
}
// [end:streaming-markdown]
