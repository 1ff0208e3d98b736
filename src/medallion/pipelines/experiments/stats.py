"""The statistics of an A/B test, as pure functions of per-variation summaries.

Spark does the counting (users, sums, variances per variation); these functions take the few numbers
that result and return a comparison, so each one is checked in unit tests against independent values.

- Proportions (a share of users, e.g. conversion): two-proportion z-test. The test statistic uses the
  pooled proportion (the null hypothesis says both are equal); the confidence interval of the
  difference uses the unpooled (Wald) standard error.
- Means (per-user values, e.g. revenue per user): Welch's t-test, which does not assume equal variances,
  with Welch–Satterthwaite degrees of freedom; the interval uses the same t distribution.
- Sample-ratio mismatch: Pearson's chi-square goodness of fit of the users per variation against the
  intended split.

Every p-value is two-sided. A comparison that cannot be made (a variation without users, or without
spread to estimate an error from) gives ``None`` rather than a number that would look meaningful.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from statistics import NormalDist

_NORMAL = NormalDist()


@dataclass(frozen=True)
class Comparison:
    """Treatment against control: the difference (treatment − control), its confidence interval, p-value."""

    difference: float | None
    ci_low: float | None
    ci_high: float | None
    p_value: float | None


UNDEFINED = Comparison(None, None, None, None)


def two_proportion_z_test(
    successes_control: int, users_control: int, successes_treatment: int, users_treatment: int, alpha: float
) -> Comparison:
    if users_control < 1 or users_treatment < 1:
        return UNDEFINED
    p_control = successes_control / users_control
    p_treatment = successes_treatment / users_treatment
    difference = p_treatment - p_control
    pooled = (successes_control + successes_treatment) / (users_control + users_treatment)
    pooled_error = math.sqrt(pooled * (1 - pooled) * (1 / users_control + 1 / users_treatment))
    wald_error = math.sqrt(
        p_control * (1 - p_control) / users_control + p_treatment * (1 - p_treatment) / users_treatment
    )
    if pooled_error == 0:  # both all 0 or both all 1: no evidence of any difference
        return Comparison(difference, difference, difference, 1.0)
    z = difference / pooled_error
    p_value = math.erfc(abs(z) / math.sqrt(2))
    margin = _NORMAL.inv_cdf(1 - alpha / 2) * wald_error
    return Comparison(difference, difference - margin, difference + margin, p_value)


def welch_t_test(
    mean_control: float,
    variance_control: float,
    users_control: int,
    mean_treatment: float,
    variance_treatment: float,
    users_treatment: int,
    alpha: float,
) -> Comparison:
    """``variance_*`` are sample variances (n − 1 in the denominator)."""
    if users_control < 2 or users_treatment < 2:
        return UNDEFINED
    from scipy.stats import t as student_t

    difference = mean_treatment - mean_control
    share_control = variance_control / users_control
    share_treatment = variance_treatment / users_treatment
    error = math.sqrt(share_control + share_treatment)
    if error == 0:
        return Comparison(difference, None, None, None)
    freedom = (share_control + share_treatment) ** 2 / (
        share_control**2 / (users_control - 1) + share_treatment**2 / (users_treatment - 1)
    )
    t = difference / error
    p_value = float(2 * student_t.sf(abs(t), freedom))
    margin = float(student_t.ppf(1 - alpha / 2, freedom)) * error
    return Comparison(difference, difference - margin, difference + margin, p_value)


def sample_ratio_p_value(users: Sequence[int], intended_shares: Sequence[float]) -> float | None:
    """Chi-square goodness of fit of ``users`` per variation against ``intended_shares`` (normalised)."""
    if len(users) != len(intended_shares) or len(users) < 2:
        raise ValueError("one intended share per variation, at least two variations")
    total = sum(users)
    if total == 0:
        return None
    from scipy.stats import chi2

    share_sum = sum(intended_shares)
    expected = [total * share / share_sum for share in intended_shares]
    statistic = sum((observed - wanted) ** 2 / wanted for observed, wanted in zip(users, expected))
    return float(chi2.sf(statistic, len(users) - 1))


def per_comparison_alpha(alpha: float, comparisons: int, method: str) -> float:
    """The level each treatment-vs-control comparison is tested at: Bonferroni divides ``alpha`` by the
    number of treatments, so a test with many variations is not more likely to name a false winner."""
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be between 0 and 1, got {alpha}")
    if method == "none" or comparisons <= 1:
        return alpha
    if method == "bonferroni":
        return alpha / comparisons
    raise ValueError(f"unknown multiple-comparison method {method!r}: use bonferroni or none")
