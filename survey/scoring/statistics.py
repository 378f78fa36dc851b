"""What the figures mean (SPEC 15): the formulas, once, as pure functions over numbers.

No database, no Flask: scoring (survey.scoring.meaning) feeds these with sums it took
in SQL, tests feed them with plain lists. References:

- Agreement, rwg(J): James, Demaree & Wolf (1984), "Estimating within-group interrater
  reliability with and without response bias", J. Applied Psychology 69(1); against the
  uniform (rectangular) null, sigma_E^2 = (A^2 - 1) / 12, and read with the 0.70 / 0.50
  bands of LeBreton & Senter (2008), "Answers to 20 questions about interrater
  reliability and interrater agreement", Organizational Research Methods 11(4).
  As R's multilevel::rwg.j, an observed mean variance at or above the null gives 0.
- Margins: the standard error of a mean, s / sqrt(n), and Student's t interval.
- Peers: quartiles as Python's statistics.quantiles(method="inclusive") (R's type 7).
- The instrument: Cronbach (1951), "Coefficient alpha and the internal structure of
  tests", Psychometrika 16(3); its interval from Feldt (1965), "The approximate sampling
  distribution of Kuder-Richardson reliability coefficient twenty", Psychometrika 30(3),
  and Feldt, Woodruff & Salih (1987), "Statistical inference for coefficient alpha",
  Applied Psychological Measurement 11(1): 1 - (1 - alpha) F with F the 0.975 and 0.025
  quantiles of F(n - 1, (n - 1)(k - 1)), as pingouin.cronbach_alpha computes it.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

AGREE = "agree"
MIXED = "mixed"
SPLIT = "split"
AGREE_AT = 0.70  # LeBreton & Senter (2008): strong agreement from 0.70
MIXED_AT = 0.50  # and moderate from 0.50; below it the partners are split
MARGIN_CONFIDENCE = 0.90
CHANGE_Z = 1.645  # the 90% two-sided normal quantile, SPEC 15's margin of a change
ALPHA_CONFIDENCE = 0.95


# --- agreement ---------------------------------------------------------------------------


def null_variance(levels: int) -> float:
    """The variance of answers chosen at random from A levels: (A^2 - 1) / 12."""
    return (levels * levels - 1) / 12


def variance_from_sums(n: int, total: float, squares: float) -> float | None:
    """Sample variance (denominator n - 1) from n, the sum and the sum of squares; None
    when n < 2. Integer sums give the exact variance, the same on every database."""
    if n < 2:
        return None
    if isinstance(total, int) and isinstance(squares, int):
        return (n * squares - total * total) / (n * (n - 1))
    return max((squares - total * total / n) / (n - 1), 0.0)


def rwg_j(item_variances: Sequence[float], levels: int) -> float | None:
    """rwg(J) over the J items' sample variances; 0 where their mean reaches the null,
    None for no item (every item left out for fewer than two answers)."""
    if not item_variances:
        return None
    j = len(item_variances)
    ratio = statistics.fmean(item_variances) / null_variance(levels)
    if ratio >= 1:
        return 0.0
    return j * (1 - ratio) / (j * (1 - ratio) + ratio)


def agreement_reading(rwg: float) -> str:
    """`agree` at 0.70 or more, `mixed` from 0.50 to below 0.70, `split` below 0.50."""
    if rwg >= AGREE_AT:
        return AGREE
    if rwg >= MIXED_AT:
        return MIXED
    return SPLIT


# --- margins -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Interval:
    """A score's standard error and its 90% interval, clipped to the scale."""

    se: float
    low: float
    high: float


def standard_error(values: Sequence[float]) -> float:
    """s / sqrt(n), s the sample standard deviation (needs at least two values)."""
    return statistics.stdev(values) / math.sqrt(len(values))


def t_quantile(probability: float, df: int) -> float:
    """Student's t quantile (scipy)."""
    from scipy.stats import t  # local: scipy takes ~0.3 s to import

    return float(t.ppf(probability, df))


def margin(mean: float, sd: float, n: int, low: float, high: float,
           confidence: float = MARGIN_CONFIDENCE) -> Interval:
    """mean ± t((1 + confidence) / 2, n - 1) · s / sqrt(n), clipped to [low, high]."""
    se = sd / math.sqrt(n)
    half = t_quantile((1 + confidence) / 2, n - 1) * se
    return Interval(se, max(mean - half, low), min(mean + half, high))


def within_margin(delta: float, se_now: float, se_before: float) -> bool:
    """A change too small to trust: |delta| below 1.645 · sqrt(SE1^2 + SE2^2)."""
    return abs(delta) < CHANGE_Z * math.hypot(se_now, se_before)


# --- peers -------------------------------------------------------------------------------


def quartiles(values: Sequence[float]) -> tuple[float, float, float]:
    """Lower quartile, median and upper quartile (statistics.quantiles, inclusive)."""
    lower, median, upper = statistics.quantiles(values, n=4, method="inclusive")
    return lower, median, upper


ABOVE_UPPER = "above the upper quartile"
ABOVE_MEDIAN = "above the median"
AT_MEDIAN = "at the median"
BELOW_MEDIAN = "below the median"
BELOW_LOWER = "below the lower quartile"


def peer_position(value: float, lower: float, median: float, upper: float) -> str:
    """Where a score stands among its peers, compared at two decimals as shown."""
    shown = [round(v + 0.0, 2) for v in (value, lower, median, upper)]
    value, lower, median, upper = shown
    if value > upper:
        return ABOVE_UPPER
    if value > median:
        return ABOVE_MEDIAN
    if value == median:
        return AT_MEDIAN
    if value >= lower:
        return BELOW_MEDIAN
    return BELOW_LOWER


# --- the instrument ----------------------------------------------------------------------


@dataclass(frozen=True)
class ItemMoments:
    """One item over the respondents who scored every item of its element: their count,
    the sum of its levels, of their squares and of level times the respondent's sum."""

    n: int
    total: int
    squares: int
    cross: int  # sum over respondents of level * (sum of the element's items)


@dataclass(frozen=True)
class ElementReliability:
    """Cronbach's alpha of one element, its Feldt interval, and per item (in order) the
    item-rest correlation and alpha if the item were dropped. None where undefined."""

    respondents: int
    alpha: float | None
    alpha_low: float | None
    alpha_high: float | None
    item_rest: tuple[float | None, ...]
    alpha_if_dropped: tuple[float | None, ...]


def cronbach_alpha(item_variances: Sequence[float], total_variance: float) -> float | None:
    """k / (k - 1) · (1 - sum of item variances / variance of the sums); None for fewer
    than two items or sums that do not vary."""
    k = len(item_variances)
    if k < 2 or total_variance <= 0:
        return None
    return k / (k - 1) * (1 - math.fsum(item_variances) / total_variance)


def alpha_interval(alpha: float, n: int, k: int,
                   confidence: float = ALPHA_CONFIDENCE) -> tuple[float, float]:
    """Feldt's interval: 1 - (1 - alpha) F at F's upper and lower quantiles,
    F(n - 1, (n - 1)(k - 1))."""
    from scipy.stats import f  # local: scipy takes ~0.3 s to import

    df1, df2 = n - 1, (n - 1) * (k - 1)
    tail = (1 - confidence) / 2
    return (1 - (1 - alpha) * float(f.ppf(1 - tail, df1, df2)),
            1 - (1 - alpha) * float(f.ppf(tail, df1, df2)))


def reliability(items: Sequence[ItemMoments], n: int, sum_total: int,
                sum_squares: int) -> ElementReliability:
    """Alpha, its interval, item-rest correlations and alpha if dropped from the sums of
    `n` respondents (every item's n equals n): `sum_total` and `sum_squares` are the sums
    of the respondents' item sums and of their squares."""
    k = len(items)
    nothing = (None,) * k
    if n < 2 or k < 2:
        return ElementReliability(n, None, None, None, nothing, nothing)
    variances = [variance_from_sums(n, i.total, i.squares) or 0.0 for i in items]
    total_var = variance_from_sums(n, sum_total, sum_squares) or 0.0
    # cov(item, sum) from the cross products: (n·Σxy - Σx·Σy) / (n(n - 1)), exact in ints
    covariances = [(n * i.cross - i.total * sum_total) / (n * (n - 1)) for i in items]
    alpha = cronbach_alpha(variances, total_var)
    low = high = None
    if alpha is not None:
        low, high = alpha_interval(alpha, n, k)
    rest_r: list[float | None] = []
    dropped: list[float | None] = []
    for index, (variance, covariance) in enumerate(zip(variances, covariances, strict=True)):
        # the rest is the sum less this item: var(T - x) and cov(x, T - x) from the above
        rest_var = total_var - 2 * covariance + variance
        rest_cov = covariance - variance
        denominator = math.sqrt(variance * rest_var) if variance > 0 and rest_var > 0 else 0
        rest_r.append(rest_cov / denominator if denominator else None)
        others = variances[:index] + variances[index + 1:]
        dropped.append(cronbach_alpha(others, rest_var))
    return ElementReliability(n, alpha, low, high, tuple(rest_r), tuple(dropped))


def reliability_of_matrix(rows: Sequence[Sequence[int]]) -> ElementReliability:
    """The same from respondents' levels (one row per respondent, one column per item,
    every item scored): the sums first, then `reliability`."""
    k = len(rows[0]) if rows else 0
    sums = [sum(row) for row in rows]
    items = [ItemMoments(len(rows), sum(row[j] for row in rows),
                         sum(row[j] * row[j] for row in rows),
                         sum(row[j] * s for row, s in zip(rows, sums, strict=True)))
             for j in range(k)]
    return reliability(items, len(rows), sum(sums), sum(s * s for s in sums))


def share(count: int, of: int) -> float | None:
    """count / of, None when there is nothing to share out."""
    return count / of if of else None
