"""Spend anomalies: an hour that costs far more than the same hour usually does.

Chat traffic has a strong daily and weekly shape, so "more than yesterday's average" pages
every Monday at nine. The baseline here is the same hour of day over the previous
``days`` days, summarised by the median and the median absolute deviation (MAD), which
one earlier incident cannot drag upwards the way a mean and standard deviation are.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass


# [start:detector]
@dataclass(frozen=True, slots=True)
class Anomaly:
    hour: int  # index into the series
    spend: float
    baseline: float  # median of the same hour on earlier days
    score: float  # robust z-score: (spend - median) / (1.4826 * MAD)


@dataclass(frozen=True, slots=True)
class SpendAnomalyDetector:
    days: int = 7  # how many earlier days form the baseline of an hour
    threshold: float = 6.0  # robust z above which an hour is anomalous
    min_ratio: float = 2.0  # and at least this multiple of the baseline
    min_spend: float = 5.0  # USD an hour: below this, nobody should be paged

    def score(self, series: Sequence[float], hour: int) -> Anomaly | None:
        """Judge ``series[hour]`` (hourly spend, oldest first) against its baseline."""
        history = [series[hour - 24 * d] for d in range(1, self.days + 1) if hour - 24 * d >= 0]
        if len(history) < 3:
            return None  # not enough history to say what normal is
        median = statistics.median(history)
        mad = statistics.median(abs(x - median) for x in history)
        spread = max(1.4826 * mad, 0.05 * median, 0.01)  # a flat history is not zero-noise
        spend = series[hour]
        z = (spend - median) / spread
        if z >= self.threshold and spend >= self.min_ratio * median and spend >= self.min_spend:
            return Anomaly(hour, spend, median, round(z, 1))
        return None

    def scan(self, series: Sequence[float]) -> list[Anomaly]:
        return [a for hour in range(len(series)) if (a := self.score(series, hour)) is not None]


# [end:detector]
