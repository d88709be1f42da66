"""How hard a turn looks, from its text alone, in microseconds and without a model call.

Chapter 5's tier rules look at length and a few keywords. The analyzer adds the signals
that separate "explain" from "look up": several questions in one message, constraints
and numbers to juggle, code, reasoning verbs, and a long conversation. It also sets the
response budget, because output tokens cost four to six times input tokens.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

CODE = re.compile(
    r"```|traceback \(most recent call last\)|^\s+at \S+\(|\bdef \w+\(|=>|"
    r"\b(write|fix|review) (a |an |the |this |my )?(\w+ )?(function|script|query|regex|code)\b",
    re.I | re.M,
)
REASONING = re.compile(
    r"\b(compare|analy[sz]e|evaluate|trade-?offs?|recommend|design|review|"
    r"step by step|walk (me )?through|pros and cons|minimi[sz]es?|optimi[sz]es?)\b",
    re.I,
)
EXPLAIN = re.compile(
    r"\b(why|explain|difference|how does|what happens|draft|write|summari[sz]e)\b", re.I
)
DIAGNOSIS = re.compile(
    r"\b(error|errors|fails?|failing|stopped|not working|loops?|twice|never received|"
    r"should (i|we) check|conflict|\d{3} (error|client error))\b",
    re.I,
)
SMALL_TALK = re.compile(r"^(hi|hello|hey|thanks?( you)?|ok(ay)?|yes|no|great|cool)\b", re.I)
NUMBER = re.compile(r"\b\d[\d,.]*\s*(%|k|m|tb|gb|users?|requests?)?\b", re.I)


# [start:analyzer]
@dataclass(frozen=True, slots=True)
class Complexity:
    score: int
    tier: int  # 1 fast and cheap, 2 general, 3 strongest (the catalog's tiers)
    max_output_tokens: int  # response budget for this kind of turn
    reasons: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ResponseBudgets:
    """Output caps per tier: a lookup needs a paragraph, an analysis a page."""

    tier1: int = 400
    tier2: int = 1_000
    tier3: int = 2_500

    def for_tier(self, tier: int) -> int:
        return (self.tier1, self.tier2, self.tier3)[tier - 1]


class ComplexityAnalyzer:
    """Additive score from cheap text features; thresholds map it to a tier."""

    def __init__(self, budgets: ResponseBudgets | None = None) -> None:
        self.budgets = budgets or ResponseBudgets()

    def analyze(self, text: str, *, history_turns: int = 0) -> Complexity:
        reasons: list[str] = []

        def add(points: int, why: str) -> int:
            reasons.append(why)
            return points

        score = 0
        words = len(text.split())
        if SMALL_TALK.match(text) and words <= 4:
            return Complexity(0, 1, self.budgets.tier1, ("small talk",))
        if words > 60:
            score += add(2, f"{words} words")
        elif words > 20:
            score += add(1, f"{words} words")
        if CODE.search(text):
            score += add(4, "code or stack trace")
        if REASONING.search(text):
            score += add(3, "asks for analysis or a recommendation")
        elif EXPLAIN.search(text):
            score += add(1, "asks for an explanation or a draft")
        if DIAGNOSIS.search(text):
            score += add(1, "something is failing")
        if text.count("?") >= 2 or re.search(r"\band (what|how|which|whether)\b", text, re.I):
            score += add(1, "several questions")
        if len(NUMBER.findall(text)) >= 3:
            score += add(1, "numbers to reason with")
        if history_turns > 6:
            score += add(1, f"{history_turns} earlier turns")
        tier = 1 if score == 0 else 2 if score <= 3 else 3
        return Complexity(score, tier, self.budgets.for_tier(tier), tuple(reasons))


# [end:analyzer]
