"""Deterministic assignment of users to model experiments.

The same user always lands in the same arm (a hash, not a random draw), so a
conversation never switches model half-way and the assignment needs no storage. Which
arm a turn ran under travels with its metrics and feedback; the analysis joins on it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from chatbot.llm.catalog import Experiment

BUCKETS = 10_000  # 0.01 % resolution for traffic_percent


# [start:assign]
@dataclass(frozen=True, slots=True)
class Assignment:
    experiment: str
    arm: str
    model: str  # catalog key the arm routes to
    tier: int | None = None

    def applies_to(self, tier: int) -> bool:
        return self.tier is None or self.tier == tier


def bucket(salt: str, unit_id: str) -> int:
    """A uniform, stable number in ``[0, BUCKETS)`` for this unit under this salt."""
    digest = hashlib.sha256(f"{salt}:{unit_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % BUCKETS


def assign(
    experiments: list[Experiment], *, user_id: str, conversation_id: str, tenant_id: str
) -> Assignment | None:
    """The first experiment this turn takes part in, and its arm; ``None`` for most turns.

    Two independent hashes: one decides *whether* a unit is in the experiment, the other
    *which arm*, so raising ``traffic_percent`` from 10 to 20 adds units without moving
    any existing one to another arm.
    """
    units = {"user": user_id, "conversation": conversation_id, "tenant": tenant_id}
    for experiment in experiments:
        if experiment.tenants is not None and tenant_id not in experiment.tenants:
            continue
        unit = units[experiment.unit]
        if bucket(experiment.salt + ":in", unit) >= experiment.traffic_percent * BUCKETS / 100:
            continue
        point = bucket(experiment.salt + ":arm", unit) * sum(a.weight for a in experiment.arms)
        for arm in experiment.arms:
            point -= arm.weight * BUCKETS
            if point < 0:
                return Assignment(experiment.name, arm.name, arm.model, experiment.tier)
    return None


# [end:assign]
