"""Input sanitising: make user text safe to store, log and show to a model.

Sanitising does not decide whether a message is an attack (``guardrails`` does that); it
removes characters that no legitimate chat message needs and that attacks use to hide text
from reviewers: zero-width and bidirectional controls, Unicode tag characters ("ASCII
smuggling") and terminal control codes.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

# [start:sanitize]
# Characters that render as nothing. Attackers use them to split trigger words
# ("ig<ZWSP>nore") past filters, or to hide a second message inside the first.
_INVISIBLE = re.compile(
    "[\u00ad\u180e\u200b-\u200f\u2060-\u2064\ufeff"  # soft hyphen, zero-width, word joiner
    "\u202a-\u202e\u2066-\u2069"  # bidirectional overrides and isolates (Trojan Source)
    "\ufe00-\ufe0f\U000e0100-\U000e01ef]"  # variation selectors ("emoji smuggling")
)
# U+E0020..U+E007E mirror printable ASCII; models read them, people do not see them.
_TAGS = re.compile("[\U000e0000-\U000e007f]+")
# C0/C1 controls except tab and newline (so CR goes too): ANSI escapes corrupt logs.
_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_BLANK_LINES = re.compile(r"\n{4,}")


class InputTooLong(ValueError):
    """The message is over the configured limit; reject it rather than truncate it."""


@dataclass(frozen=True, slots=True)
class SanitizedInput:
    text: str  # what is stored and sent to the model
    findings: tuple[str, ...]  # what was removed, for the audit log and the guardrails
    hidden_text: str  # text that was smuggled in tag characters, decoded


def sanitize_input(raw: str, *, max_chars: int = 8000) -> SanitizedInput:
    """Normalise and strip *raw*; raise ``InputTooLong`` past *max_chars* (after cleaning)."""
    findings: list[str] = []
    hidden = reveal_tag_text(raw)
    text = _TAGS.sub("", raw)
    if hidden:
        findings.append("unicode_tags")
    # NFC, not NFKC: NFKC would rewrite legitimate text (ligatures, superscripts, full-width
    # CJK punctuation). The detector works on its own NFKC copy instead.
    text = unicodedata.normalize("NFC", text)
    for name, pattern in (("invisible", _INVISIBLE), ("control", _CONTROLS)):
        text, count = pattern.subn("", text)
        if count:
            findings.append(name)
    text = _BLANK_LINES.sub("\n\n\n", text).strip()
    if len(text) > max_chars:
        raise InputTooLong(f"message has {len(text)} characters; the limit is {max_chars}")
    return SanitizedInput(text=text, findings=tuple(findings), hidden_text=hidden)


def strip_invisible(text: str) -> str:
    """*text* without zero-width, bidirectional-control and tag characters."""
    return _TAGS.sub("", _INVISIBLE.sub("", text))


def reveal_tag_text(raw: str) -> str:
    """The ASCII message hidden in Unicode tag characters, if any (U+E0041 is "A")."""
    return "".join(chr(ord(ch) - 0xE0000) for ch in raw if 0xE0020 <= ord(ch) <= 0xE007E)


# [end:sanitize]
