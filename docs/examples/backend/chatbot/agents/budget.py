"""The token budget of a run, shared with every agent it delegates to."""

from __future__ import annotations

from chatbot.providers.base import Usage


# [start:budget]
class TokenBudget:
    """Tokens a run (and any agents it delegates to) may still spend.

    Charged with the provider's billed usage after each call; checked *before* each call
    against an estimate of the request plus its output cap, so a run stops before it
    overspends instead of noticing afterwards. A coordinator hands the same object to
    its workers, which makes the limit hold for the whole tree of agents.
    """

    def __init__(self, limit: int, used: int = 0) -> None:
        self.limit = limit
        self.used = used

    @property
    def remaining(self) -> int:
        return max(0, self.limit - self.used)

    def allows(self, estimate: int) -> bool:
        return self.used + estimate <= self.limit

    def charge(self, usage: Usage | None, *, estimate: int) -> int:
        """Add the billed tokens (or the estimate, if the provider sent no usage)."""
        spent = usage.input_tokens + usage.output_tokens if usage else estimate
        self.used += spent
        return spent


# [end:budget]
