"""Prompt-injection guardrails: a scored detector, context spotlighting and an output filter.

The detector is a cheap first layer (microseconds, no network). It catches the common,
copy-pasted attacks and their obfuscated forms; it does not catch a paraphrase it has no rule
for. That is why the output filter exists: whatever gets past the input side, the answer
still cannot exfiltrate data through an image URL or leak the system prompt verbatim.
"""

from __future__ import annotations

import base64
import binascii
import codecs
import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from functools import partial
from urllib.parse import unquote, urlsplit

from chatbot.security.sanitize import reveal_tag_text, strip_invisible


class Verdict(StrEnum):
    ALLOW = "allow"
    FLAG = "flag"  # let through, log, and count; a spike is an incident signal
    BLOCK = "block"


# [start:rules]
@dataclass(frozen=True, slots=True)
class Rule:
    name: str
    weight: float
    pattern: re.Pattern[str]


def _rule(name: str, weight: float, regex: str) -> Rule:
    return Rule(name, weight, re.compile(regex, re.IGNORECASE | re.MULTILINE))


_GAP = r"[^.\n]{0,40}"  # a short stretch of the same sentence between trigger words
_MODEL = r"(ai|assistant|llm|language model|chatbot|bot|model|agent|gpt|claude)s?"
_INSTRUCTIONS = r"(instructions?|rules?|directions|guidelines|prompts?|constraints|programming)\b"
RULES: tuple[Rule, ...] = (
    _rule(
        "override",
        1.0,
        # ...unless the user is taking back their own instructions ("...I gave you").
        r"\b(ignore|disregard|forget|override|bypass|abandon)\b"
        + _GAP
        + r"\b(previous|prior|above|earlier|preceding|all|any|every|your|system|initial|original)"
        r"\b" + _GAP + r"\b" + _INSTRUCTIONS + r"(?!\s+(i|we) (gave|sent|wrote|provided))"
        r"|\b(ignore|disregard|forget|bypass)\b[^.\n]{0,20}\b"
        + _INSTRUCTIONS
        + r"\s+(above|you (were|have been) given|so far)",
    ),
    _rule(
        "prompt_extraction",
        1.0,
        # "how to configure the system prompt" is a question about the product, not an attack.
        r"\b(reveal|print|show|repeat|output|display|dump|leak|recite|tell me|what (is|are))\b"
        r"(?:(?!\bhow\b)[^.\n]){0,40}\b(system (prompt|message)|(initial|hidden|secret|original)"
        r" (prompt|instructions)|developer message|your (instructions|rules) verbatim)",
    ),
    _rule(
        "repeat_above",
        0.9,
        r"\b(repeat|print|output|translate|copy)\b[^.\n]{0,30}\b(everything|all|the text|the "
        r"words)\b[^.\n]{0,25}\b(above|before this|so far)\b",
    ),
    _rule(
        "persona_jailbreak",
        1.0,
        r"\b(you are|you're|act as|pretend (to be|you are)|role-?play as|from now on,? you)\b"
        r"[^.\n]{0,60}\b(dan|jailbr(o|ea)ken|unfiltered|uncensored|unrestricted|evil|"
        r"no (rules|restrictions|limits|filters|guidelines))\b",
    ),
    _rule("dan", 1.0, r"\bdo anything now\b"),
    _rule(
        "mode_switch",
        1.0,
        r"\b(enable|activate|enter|switch (to|into)|now in)\b[^.\n]{0,20}\b(developer|god|debug|"
        r"unrestricted|jailbreak|admin) mode\b",
    ),
    _rule(
        "no_limits",
        0.7,
        r"\b(without|free (of|from)|not bound by|ignoring|no longer (have|follow))\b[^.\n]{0,30}"
        r"\b(ethical|moral|safety|content)\b[^.\n]{0,15}(guidelines|restrictions|filters|"
        r"polic(y|ies)|constraints|rules)",
    ),
    _rule(
        "no_rules_world",
        0.8,
        r"\b(imagine|hypothetical(ly)?|simulation|suppose|pretend|if you had)\b[^.\n]{0,60}\b("
        r"no (rules|restrictions|limits|filters)|(safety|content) (policies|filters|rules) (are |"
        r"were )?(off|switched off|disabled|removed))",
    ),
    _rule(
        "grandma",
        0.8,
        r"\b(act|pretend|role-?play)\b[^.\n]{0,20}\b(as|to be)\b[^.\n]{0,10}\bmy (late |"
        r"deceased |dead )?(grand(ma|mother|pa|father)|nan)\b",
    ),
    _rule("stay_in_character", 0.3, r"\bstay in character\b"),
    _rule("chat_template_token", 1.0, r"<\|(im_start|im_end|system|endoftext|eot_id)\|>"),
    _rule("role_tag", 0.8, r"</?\s*(system|sys|instructions?)\s*>|\[/?(inst|sys)\]|<<sys>>"),
    _rule(
        "role_prefix",
        0.8,
        r"^\s*#*\s*system\s*:\s*(you|the (assistant|ai|model|previous)|ignore|from now|new)"
        r"|^\s*#*\s*new instructions?\s*:",
    ),
    _rule(
        "new_instructions",
        0.6,
        r"\b(new|updated|real|actual) (instructions|system prompt|rules|orders)\s*:"
        r"|\bthe following is your (real|actual|new) task\b",
    ),
    _rule(
        "exfil_url",
        0.9,
        r"\b(append|add|include|insert|encode|put)\b[^.\n]{0,30}\b(user'?s?|conversation|chat|"
        r"history|messages?|e-?mail|names?|passwords?|tokens?|session|summary|personal)\b"
        r"[^.\n]{0,40}\b(to|in|into|as)\b[^.\n]{0,20}\b(url|link|query string|image|parameter)",
    ),
    _rule(
        "exfil_send",
        1.0,
        r"\b(send|post|forward|upload|transmit|exfiltrate|email)\b[^.\n]{0,60}\b(conversation|"
        r"chat history|history|messages|system prompt|api keys?|secrets?|credentials|passwords?|"
        r"tokens?|user'?s? data|personal data)\b[^.\n]{0,40}(https?://|\S+@\S+\.\w+)",
    ),
    _rule(
        "render_image",
        0.6,
        r"\b(render|display|show|output|include)\b[^.\n]{0,30}\b(image|img)\b[^\n]{0,60}https?://",
    ),
    _rule(
        "note_to_model",
        0.8,
        r"\b(note|message|instructions?|attention|important)\b[^.\n]{0,10}\b(to|for)\b\s+"
        r"(the |any )?" + _MODEL + r"\b|^\s*(dear|attention|hey),? " + _MODEL + r"\s*[:,]",
    ),
    _rule(
        "if_model_reads",
        0.8,
        # Only text that points at itself ("...reads this"): a user asking "what if the model
        # reads a long document?" is a question, not an instruction.
        r"\b(if|when|whenever)\b[^.\n]{0,15}\b" + _MODEL + r"\b[^.\n]{0,30}\b(reads?|reading|"
        r"process(es|ing)?|summari[sz](es|ing)|sees?|parses?|parsing)\s+(this|these|the following)"
        r"|\b(if|when) you('re| are) (an? )?" + _MODEL + r"\b",
    ),
    _rule("hide_from_user", 0.8, r"\bdo(n't| not) (tell|inform|mention it to|alert) the user"),
    _rule("tell_user", 0.5, r"\binstead,? (tell|inform|respond to|say to) the user\b"),
    _rule(
        "decode_and_follow",
        0.7,
        r"\b(decode|base64|rot13|hex|reverse|backwards)\b[^.\n]{0,40}\b(follow|execute|obey|do what"
        r" it says|(then )?do it|then (do|run|act))",
    ),
)
# Spelled-out or letter-spaced phrases, matched on the text with everything but letters removed.
SQUASHED = re.compile(
    r"ignore(all)?(the|your)?(previous|prior)instructions|reveal(your|the)systemprompt"
    r"|doanythingnow|(enable|activate)(developer|jailbreak|god)mode"
)
# [end:rules]

_HOMOGLYPHS = str.maketrans(
    "аеорсухіѕјԁɡοαινκε",  # Cyrillic and Greek letters that look Latin
    "aeopcyxisjdgoaivke",
)
_LONE_LETTER = re.compile(r"(?<![^\W\d_])[^\W\d_](?![^\W\d_])")  # "i g n o r e", "r-e-v"
_LEET = str.maketrans("013457@$!|", "oieastasil")
_SPACED = re.compile(r"\b(?:\w[\s.\-_*]{1,2}){3,}\w\b")
_BASE64 = re.compile(r"[A-Za-z0-9+/]{16,}={0,2}")
_HEX = re.compile(r"\b(?:[0-9a-fA-F]{2}[\s:]?){8,}\b")
_PERCENT = re.compile(r"(?:%[0-9a-fA-F]{2}){4,}")


@dataclass(frozen=True, slots=True)
class Detection:
    verdict: Verdict
    score: float
    rules: tuple[str, ...]
    obfuscated: bool  # a rule matched only after decoding: itself a strong signal


# [start:detector]
class InjectionDetector:
    """Score text against ``RULES`` in its plain form and in every decoded form we can find."""

    def __init__(self, *, block_at: float = 0.8, flag_at: float = 0.4) -> None:
        self._block_at = block_at
        self._flag_at = flag_at

    def scan(self, text: str) -> Detection:
        plain = _fold(text)
        hits = {r.name: r.weight for r in RULES if r.pattern.search(plain)}
        hidden_hits: dict[str, float] = {}
        seen = {plain}
        for variant in _variants(text, plain):
            if variant in seen:  # most text has no digits or spaced letters: skip repeats
                continue
            seen.add(variant)
            for rule in RULES:
                if rule.name not in hits and rule.pattern.search(variant):
                    hidden_hits[rule.name] = rule.weight
        spaced_out = not hits and len(_LONE_LETTER.findall(plain)) >= 4
        if spaced_out and SQUASHED.search(re.sub(r"[^a-z]", "", plain.translate(_LEET))):
            hidden_hits["squashed"] = 1.0
        obfuscated = bool(hidden_hits)
        score = sum(hits.values()) + sum(hidden_hits.values()) + (0.3 if obfuscated else 0.0)
        if score >= self._block_at:
            verdict = Verdict.BLOCK
        elif score >= self._flag_at:
            verdict = Verdict.FLAG
        else:
            verdict = Verdict.ALLOW
        names = tuple(sorted(hits | hidden_hits))
        return Detection(verdict, round(score, 2), names, obfuscated)


def _fold(text: str) -> str:
    """NFKC (full-width and mathematical letters become ASCII), case-fold, map homoglyphs."""
    visible = strip_invisible(unicodedata.normalize("NFKC", text))
    return visible.casefold().translate(_HOMOGLYPHS)


def _variants(raw: str, plain: str) -> Iterable[str]:
    """Decoded readings of the text: each is scanned as if the user had typed it."""
    hidden = reveal_tag_text(raw)
    if hidden:
        yield _fold(hidden)
    yield _SPACED.sub(lambda m: re.sub(r"[\s.\-_*]", "", m.group()), plain)
    yield plain.translate(_LEET)
    yield codecs.decode(plain, "rot13")
    yield plain[::-1]
    for blob in _BASE64.findall(raw):
        yield _printable(partial(base64.b64decode, blob + "=" * (-len(blob) % 4)))
    for blob in _HEX.findall(raw):
        yield _printable(partial(bytes.fromhex, re.sub(r"[\s:]", "", blob)))
    for blob in _PERCENT.findall(raw):
        yield _fold(unquote(blob))


def _printable(decode: Callable[[], bytes]) -> str:
    """The decoded blob as folded text, or "" when it is not text (most base64 is not)."""
    try:
        text = decode().decode("utf-8")
    except (binascii.Error, ValueError):  # UnicodeDecodeError is a ValueError
        return ""
    return _fold(text) if text.replace("\n", " ").isprintable() else ""


# [end:detector]


# [start:spotlight]
@dataclass(frozen=True, slots=True)
class ContextChunk:
    source: str
    text: str


def spotlight(chunks: Sequence[ContextChunk], detector: InjectionDetector) -> tuple[str, list[str]]:
    """Quarantine chunks that carry instructions, fence the rest as data.

    Returns the context block for the prompt and the sources that were dropped. The fence
    tells the model that what is inside is material to quote, never instructions to follow;
    the marker is escaped inside the chunk so a document cannot close the fence itself.
    """
    kept: list[str] = []
    dropped: list[str] = []
    for chunk in chunks:
        if detector.scan(chunk.text).verdict is not Verdict.ALLOW:
            dropped.append(chunk.source)
            continue
        body = chunk.text.replace("<<", "\u2039\u2039").replace(">>", "\u203a\u203a")
        kept.append(f"<<document source={chunk.source!r}>>\n{body}\n<<end document>>")
    return "\n\n".join(kept), dropped


# [end:spotlight]


# [start:output-filter]
_MD_IMAGE = re.compile(r"!\[([^\]]*)\]\(\s*<?([^)\s>]+)>?[^)]*\)")
_MD_LINK = re.compile(r"(?<!!)\[([^\]]+)\]\(\s*<?([^)\s>]+)>?[^)]*\)")
_MD_REF_DEF = re.compile(r"^\s{0,3}\[([^\]]+)\]:\s*<?(\S+?)>?(\s.*)?$", re.MULTILINE)
_HTML_SRC = re.compile(
    r"<(img|iframe|script|link|a)\b[^>]*?\b(src|href)\s*=\s*['\"]?([^'\" >]+)"
    r"[^>]*>",
    re.IGNORECASE,
)
_AUTOLINK = re.compile(r"<([a-z][a-z0-9+.-]*:[^>\s]+)>", re.IGNORECASE)
_BARE_URL = re.compile(r"(?<![(<\[\"'=])\bhttps?://[^\s)>\]]+", re.IGNORECASE)


@dataclass(slots=True)
class FilteredOutput:
    text: str
    findings: list[str] = field(default_factory=list)
    blocked: bool = False


class OutputFilter:
    """Rewrite a model answer so that it cannot carry data out or leak the system prompt.

    * Images load without a click, so an image from a host off the allow-list is removed.
    * Links to such hosts lose their URL (the text stays); bare URLs are defanged.
    * Raw HTML that fetches anything is removed (the frontend should not render HTML anyway).
    * A canary string planted in the system prompt, or a long verbatim run of the prompt,
      blocks the answer.
    """

    def __init__(
        self, *, allowed_hosts: Iterable[str], system_prompt: str = "", canary: str = ""
    ) -> None:
        self._allowed = {h.lower() for h in allowed_hosts}
        self._canary = canary
        prompt = _fold(system_prompt)
        self._prompt_shingles = {prompt[i : i + 60] for i in range(0, max(len(prompt) - 59, 0), 20)}

    def allowed(self, url: str) -> bool:
        """Same-site paths ("/pricing") and hosts on the allow-list; nothing else."""
        parts = urlsplit(url.strip())
        if not parts.scheme and not parts.netloc:
            return True  # relative: resolves against our own origin
        if parts.scheme not in {"http", "https"}:
            return False  # javascript:, data:, file: ...
        host = (parts.hostname or "").lower()
        return any(host == h or host.endswith("." + h) for h in self._allowed)

    def apply(self, text: str) -> FilteredOutput:
        out = FilteredOutput(text)
        if (self._canary and self._canary in text) or self._leaks_prompt(text):
            return FilteredOutput("I can't share that.", ["system_prompt_leak"], blocked=True)

        def image(m: re.Match[str]) -> str:
            if self.allowed(m.group(2)):
                return m.group()
            out.findings.append("external_image")
            return f"[image removed: {m.group(1)}]" if m.group(1) else "[image removed]"

        def link(m: re.Match[str]) -> str:
            if self.allowed(m.group(2)):
                return m.group()
            out.findings.append("external_link")
            return m.group(1)

        def ref_def(m: re.Match[str]) -> str:
            if self.allowed(m.group(2)):
                return m.group()
            out.findings.append("external_reference")
            return ""

        def html(m: re.Match[str]) -> str:
            out.findings.append("html_fetch")
            return ""

        def bare(m: re.Match[str]) -> str:
            if self.allowed(m.group()):
                return m.group()
            out.findings.append("external_url")
            return m.group().replace("://", "[:]//", 1).replace(".", "[.]")

        def autolink(m: re.Match[str]) -> str:
            if self.allowed(m.group(1)):
                return m.group()
            out.findings.append("external_link")
            return "[link removed]"

        result = _HTML_SRC.sub(html, text)
        result = _AUTOLINK.sub(autolink, result)
        result = _MD_IMAGE.sub(image, result)
        result = _MD_LINK.sub(link, result)
        result = _MD_REF_DEF.sub(ref_def, result)
        out.text = _BARE_URL.sub(bare, result)
        return out

    def _leaks_prompt(self, text: str) -> bool:
        folded = _fold(text)
        return any(s in folded for s in self._prompt_shingles)


# [end:output-filter]
