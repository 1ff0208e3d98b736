"""Each statistic against values computed independently with SciPy from the raw observations."""

from __future__ import annotations

import math
import random

import numpy as np
import pytest
from scipy import stats as scipy_stats

from medallion.pipelines.experiments import stats

ALPHA = 0.05


@pytest.mark.parametrize(
    "x_c, n_c, x_t, n_t", [(100, 1000, 130, 1000), (12, 80, 5, 95), (500, 2000, 498, 2000), (0, 50, 3, 60)]
)
def test_two_proportion_z_test_p_value_is_the_chi_square_of_the_two_by_two_table(x_c, n_c, x_t, n_t):
    result = stats.two_proportion_z_test(x_c, n_c, x_t, n_t, ALPHA)
    expected_p = scipy_stats.chi2_contingency([[x_t, n_t - x_t], [x_c, n_c - x_c]], correction=False)[1]
    assert result.p_value == pytest.approx(expected_p, rel=1e-9)
    assert result.difference == pytest.approx(x_t / n_t - x_c / n_c)


def test_two_proportion_confidence_interval_is_wald_at_one_minus_alpha():
    result = stats.two_proportion_z_test(100, 1000, 130, 1000, ALPHA)
    error = math.sqrt(0.1 * 0.9 / 1000 + 0.13 * 0.87 / 1000)
    z = scipy_stats.norm.ppf(0.975)
    assert (result.ci_low, result.ci_high) == pytest.approx((0.03 - z * error, 0.03 + z * error), rel=1e-9)
    narrower = stats.two_proportion_z_test(100, 1000, 130, 1000, 0.2)
    assert narrower.ci_high - narrower.ci_low < result.ci_high - result.ci_low


def test_welch_t_test_matches_scipy_on_raw_values():
    generator = np.random.default_rng(11)
    control, treatment = generator.normal(10, 2, 300), generator.normal(10.6, 3.5, 180)
    result = stats.welch_t_test(
        control.mean(),
        control.var(ddof=1),
        len(control),
        treatment.mean(),
        treatment.var(ddof=1),
        len(treatment),
        ALPHA,
    )
    reference = scipy_stats.ttest_ind(treatment, control, equal_var=False)
    low, high = reference.confidence_interval(confidence_level=1 - ALPHA)
    assert result.p_value == pytest.approx(reference.pvalue, rel=1e-9)
    assert (result.ci_low, result.ci_high) == pytest.approx((low, high), rel=1e-9)
    assert result.difference == pytest.approx(treatment.mean() - control.mean())


def test_welch_t_test_on_count_data_with_many_zeros():
    control = np.array([0] * 40 + [1] * 30 + [2] * 20 + [7] * 10, dtype=float)
    treatment = np.array([0] * 30 + [1] * 30 + [3] * 25 + [9] * 15, dtype=float)
    result = stats.welch_t_test(
        control.mean(), control.var(ddof=1), 100, treatment.mean(), treatment.var(ddof=1), 100, 0.01
    )
    reference = scipy_stats.ttest_ind(treatment, control, equal_var=False)
    assert result.p_value == pytest.approx(reference.pvalue, rel=1e-9)
    assert (result.ci_low, result.ci_high) == pytest.approx(reference.confidence_interval(0.99), rel=1e-9)


@pytest.mark.parametrize(
    "observed, shares",
    [([600, 400], [1, 1]), ([512, 488], [0.5, 0.5]), ([300, 310, 250], [1, 1, 1]), ([700, 300], [0.7, 0.3])],
)
def test_sample_ratio_p_value_is_pearsons_chi_square(observed, shares):
    total = sum(observed)
    expected = [total * s / sum(shares) for s in shares]
    assert stats.sample_ratio_p_value(observed, shares) == pytest.approx(
        scipy_stats.chisquare(observed, expected).pvalue, rel=1e-9
    )


def test_comparisons_that_cannot_be_made_give_no_numbers():
    assert stats.two_proportion_z_test(0, 0, 5, 10, ALPHA) == stats.UNDEFINED
    assert stats.welch_t_test(1.0, 0.0, 1, 2.0, 1.0, 10, ALPHA) == stats.UNDEFINED
    assert stats.welch_t_test(1.0, 0.0, 10, 2.0, 0.0, 10, ALPHA).p_value is None
    assert stats.two_proportion_z_test(0, 10, 0, 12, ALPHA).p_value == 1.0
    assert stats.sample_ratio_p_value([0, 0], [1, 1]) is None
    with pytest.raises(ValueError):
        stats.sample_ratio_p_value([10], [1])


def test_bonferroni_divides_alpha_by_the_treatments():
    assert stats.per_comparison_alpha(0.05, 2, "bonferroni") == 0.025
    assert stats.per_comparison_alpha(0.05, 1, "bonferroni") == 0.05
    assert stats.per_comparison_alpha(0.05, 3, "none") == 0.05
    with pytest.raises(ValueError):
        stats.per_comparison_alpha(1.5, 1, "none")
    with pytest.raises(ValueError):
        stats.per_comparison_alpha(0.05, 2, "holm-ish")


def test_without_an_effect_the_z_test_is_significant_at_the_alpha_rate():
    """2,000 simulated A/A tests: the share called significant is alpha, within 3 standard errors."""
    generator = random.Random(5)
    trials, users = 2000, 400
    significant = 0
    for _ in range(trials):
        x_c = sum(generator.random() < 0.1 for _ in range(users))
        x_t = sum(generator.random() < 0.1 for _ in range(users))
        significant += stats.two_proportion_z_test(x_c, users, x_t, users, ALPHA).p_value < ALPHA
    margin = 3 * math.sqrt(ALPHA * (1 - ALPHA) / trials)
    assert abs(significant / trials - ALPHA) < margin


def test_without_an_effect_the_welch_test_is_significant_at_the_alpha_rate():
    generator = np.random.default_rng(8)
    trials = 2000
    significant = 0
    for _ in range(trials):
        control, treatment = generator.exponential(10, 150), generator.exponential(10, 120)
        result = stats.welch_t_test(
            control.mean(), control.var(ddof=1), 150, treatment.mean(), treatment.var(ddof=1), 120, ALPHA
        )
        significant += result.p_value < ALPHA
    assert abs(significant / trials - ALPHA) < 3 * math.sqrt(ALPHA * (1 - ALPHA) / trials)
