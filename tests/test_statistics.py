"""SPEC 15's formulas (survey.scoring.statistics) against published values and reference
implementations: pingouin (test extra) for Cronbach's alpha and Feldt's interval, numpy
for variances, quartiles and correlations, typed-in t quantiles, and rwg(J) by hand and
by a transcription of R's multilevel::rwg.j."""

from __future__ import annotations

import math
import random
import statistics as pystats

import numpy as np
import pingouin as pg
import pytest

from survey.scoring import statistics as st


def r_multilevel_rwg_j(group: np.ndarray, ranvar: float) -> float:
    """multilevel::rwg.j for one group, transcribed: J items as columns, the mean of the
    columns' var(), 0 where it exceeds ranvar."""
    j = group.shape[1]
    mean_var = float(np.mean(group.var(axis=0, ddof=1)))
    value = j * (1 - mean_var / ranvar) / (j * (1 - mean_var / ranvar) + mean_var / ranvar)
    return 0.0 if mean_var > ranvar else value


def item_variances(rows: list[list[int | None]]) -> list[float]:
    """The scoring path: per item, the sums, then variance_from_sums (None left out)."""
    out = []
    for column in zip(*rows, strict=True):
        levels = [v for v in column if v is not None]
        variance = st.variance_from_sums(len(levels), sum(levels), sum(v * v for v in levels))
        if variance is not None:
            out.append(variance)
    return out


# --- agreement ---------------------------------------------------------------------------


def test_null_variance_of_four_levels_is_1_25():
    assert st.null_variance(4) == 1.25
    assert st.null_variance(5) == 2  # multilevel's default ranvar=2 for five options


def test_rwg_j_worked_example():
    # mean item variance 0.5 against 1.25: ratio 0.4, J = 3: 1.8 / 2.2 = 9/11
    assert st.rwg_j([0.5, 0.3, 0.7], 4) == pytest.approx(9 / 11, abs=1e-15)
    # one item: the single-item rwg, 1 - s^2 / sigma^2
    assert st.rwg_j([0.5], 4) == pytest.approx(0.6)


def test_rwg_j_matches_r_multilevel_on_random_groups():
    rng = np.random.default_rng(19)
    for _ in range(200):
        n, j = int(rng.integers(2, 12)), int(rng.integers(1, 9))
        spread = int(rng.integers(1, 4))
        centre = int(rng.integers(1, 5))
        group = np.clip(centre + rng.integers(-spread, spread + 1, (n, j)), 1, 4)
        ours = st.rwg_j(item_variances(group.tolist()), 4)
        assert ours == pytest.approx(r_multilevel_rwg_j(group, 1.25), abs=1e-12)


def test_all_answers_equal_agree_fully():
    rows = [[3, 3, 2, 4]] * 5
    rwg = st.rwg_j(item_variances(rows), 4)
    assert rwg == 1.0 and st.agreement_reading(rwg) == "agree"


def test_two_respondents():
    rows = [[2, 3, 3], [3, 3, 4]]  # item variances 0.5, 0, 0.5: mean 1/3
    ratio = (1 / 3) / 1.25
    expected = 3 * (1 - ratio) / (3 * (1 - ratio) + ratio)
    assert st.rwg_j(item_variances(rows), 4) == pytest.approx(expected)
    assert st.variance_from_sums(1, 3, 9) is None  # one answer: no variance


def test_an_item_everyone_skipped_is_left_out():
    rows = [[3, None, 3], [3, None, 4], [4, 1, 3]]  # item 2: one answer only
    assert len(item_variances(rows)) == 2
    assert st.rwg_j(item_variances(rows), 4) == pytest.approx(
        r_multilevel_rwg_j(np.array([[3, 3], [3, 4], [4, 3]]), 1.25))
    assert st.rwg_j([], 4) is None  # every item skipped: no agreement at all


def test_variance_above_the_null_is_zero_and_split():
    rows = [[1, 1], [1, 1], [1, 1], [4, 4], [4, 4], [4, 4]]  # variance 2.7 > 1.25
    rwg = st.rwg_j(item_variances(rows), 4)
    assert rwg == 0.0 and st.agreement_reading(rwg) == "split"
    assert st.rwg_j([1.25, 1.25], 4) == 0.0  # exactly the null: no agreement either


def test_readings_at_their_bounds():
    assert [st.agreement_reading(v) for v in (0.70, 0.6999, 0.50, 0.4999, 0.0)] == [
        "agree", "mixed", "mixed", "split", "split"]


def test_variance_from_sums_equals_numpy():
    rng = np.random.default_rng(7)
    for _ in range(50):
        levels = rng.integers(1, 5, int(rng.integers(2, 30))).tolist()
        assert st.variance_from_sums(len(levels), sum(levels), sum(v * v for v in levels)) \
            == pytest.approx(float(np.var(levels, ddof=1)), abs=1e-12)


# --- margins -----------------------------------------------------------------------------


def test_t_quantiles_from_the_table():
    # Student's t table, one-sided 0.05: df 4 -> 2.132, df 9 -> 1.833, df 29 -> 1.699
    assert st.t_quantile(0.95, 4) == pytest.approx(2.131847, abs=1e-6)
    assert st.t_quantile(0.95, 9) == pytest.approx(1.833113, abs=1e-6)
    assert st.t_quantile(0.95, 29) == pytest.approx(1.699127, abs=1e-6)


def test_margin_worked_example_and_clipping():
    scores = [2.0, 2.5, 3.0, 3.5, 2.5]  # mean 2.7, s = sqrt(0.325)
    s = pystats.stdev(scores)
    interval = st.margin(pystats.fmean(scores), s, 5, 1.0, 4.0)
    assert interval.se == pytest.approx(math.sqrt(0.325 / 5))
    assert interval.se == pytest.approx(st.standard_error(scores))
    assert interval.low == pytest.approx(2.7 - 2.131847 * interval.se, abs=1e-6)
    assert interval.high == pytest.approx(2.7 + 2.131847 * interval.se, abs=1e-6)
    wide = st.margin(3.8, 1.0, 5, 1.0, 4.0)
    assert wide.high == 4.0 and wide.low == pytest.approx(3.8 - 2.131847 / math.sqrt(5),
                                                          abs=1e-6)
    assert st.margin(1.1, 1.0, 5, 1.0, 4.0).low == 1.0


def test_within_margin():
    # 1.645 * sqrt(0.1^2 + 0.2^2) = 0.3678...
    assert st.within_margin(0.30, 0.1, 0.2)
    assert st.within_margin(-0.36, 0.1, 0.2)
    assert not st.within_margin(0.37, 0.1, 0.2)
    assert not st.within_margin(0.1, 0.0, 0.0)  # no spread at all: any change is real


# --- peers -------------------------------------------------------------------------------


def test_quartiles_are_inclusive_as_numpy_linear():
    rng = random.Random(4)
    for _ in range(50):
        values = [rng.uniform(1, 4) for _ in range(rng.randint(5, 40))]
        expected = np.percentile(values, [25, 50, 75], method="linear")
        assert st.quartiles(values) == pytest.approx(tuple(expected), abs=1e-12)
    assert st.quartiles([1.0, 2.0, 3.0, 4.0, 5.0]) == (2.0, 3.0, 4.0)


def test_peer_position():
    assert st.peer_position(3.5, 2.0, 2.5, 3.0) == "above the upper quartile"
    assert st.peer_position(2.7, 2.0, 2.5, 3.0) == "above the median"
    assert st.peer_position(2.5, 2.0, 2.5, 3.0) == "at the median"
    assert st.peer_position(2.4999, 2.0, 2.5, 3.0) == "at the median"  # as shown, 2.50
    assert st.peer_position(2.0, 2.0, 2.5, 3.0) == "below the median"
    assert st.peer_position(1.9, 2.0, 2.5, 3.0) == "below the lower quartile"


# --- the instrument ----------------------------------------------------------------------


def test_alpha_and_feldt_interval_match_pingouins_documented_example():
    data = pg.read_dataset("cronbach_alpha")  # pingouin's docs: 0.5917..., [0.195, 0.84]
    wide = data.pivot(index="Subj", columns="Items", values="Scores")
    fit = st.reliability_of_matrix(wide.to_numpy(dtype=int).tolist())
    assert fit.alpha == pytest.approx(0.5917188485995826, abs=1e-12)
    assert (round(fit.alpha_low, 3), round(fit.alpha_high, 3)) == (0.195, 0.84)
    assert fit.respondents == 15


def test_alpha_interval_item_rest_and_dropped_against_pingouin_on_random_data():
    rng = np.random.default_rng(15)
    for _ in range(20):
        n, k = int(rng.integers(8, 60)), int(rng.integers(3, 9))
        trait = rng.normal(0, 1, (n, 1))
        matrix = np.clip(np.rint(2.5 + trait + rng.normal(0, 0.9, (n, k))), 1, 4).astype(int)
        fit = st.reliability_of_matrix(matrix.tolist())
        alpha, (low, high) = pg.cronbach_alpha(data=_frame(matrix))
        assert fit.alpha == pytest.approx(alpha, abs=1e-10)
        assert fit.alpha_low == pytest.approx(low, abs=5e-4)  # pingouin rounds to 3 places
        assert fit.alpha_high == pytest.approx(high, abs=5e-4)
        for j in range(k):
            rest = np.delete(matrix, j, axis=1)
            expected_r = np.corrcoef(matrix[:, j], rest.sum(axis=1))[0, 1]
            assert fit.item_rest[j] == pytest.approx(expected_r, abs=1e-10)
            assert fit.alpha_if_dropped[j] == pytest.approx(
                pg.cronbach_alpha(data=_frame(rest))[0], abs=1e-10)


def test_alpha_edge_cases():
    constant = st.reliability_of_matrix([[3, 3, 3]] * 6)  # sums do not vary
    assert constant.alpha is None and constant.item_rest == (None, None, None)
    one = st.reliability_of_matrix([[1, 2, 3]])
    assert one.alpha is None and one.respondents == 1
    two_items = st.reliability_of_matrix([[1, 2], [2, 2], [3, 4], [4, 3]])
    assert two_items.alpha is not None and two_items.alpha_if_dropped == (None, None)
    assert st.cronbach_alpha([1.0], 2.0) is None


def test_share():
    assert st.share(3, 12) == 0.25
    assert st.share(0, 0) is None


def _frame(matrix: np.ndarray):
    import pandas as pd

    return pd.DataFrame(matrix, columns=[f"i{j}" for j in range(matrix.shape[1])])
