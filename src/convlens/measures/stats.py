"""From measurements to printed verdicts that do not flip between machines.

A chapter states each of the lecture's claims as a verdict computed in the run. A number that
lands close to its threshold could fall on either side on another CPU or numeric back-end
(oneDNN and Eigen differ in the last digits), so a value within ``margin`` of the threshold is
reported as too close to call (:func:`against_threshold`). The chapters print verdicts only
through this module: :meth:`Verdict.word` gives the words, :func:`all_hold` joins several, and
:meth:`Verdict.line` prints one claim as short lines, the verdict first. Output boxes in the
rendered book do not wrap, so every printed sentence goes through :func:`wrap` (:data:`WIDTH`).

The paired comparisons share one sign test, :func:`sign_test` (pairs with a NaN on either side
and ties are left out), and one rank correlation, :func:`rank_correlation`.
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterable
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from ..errors import ArgumentError

__all__ = [
    "WIDTH",
    "WORDS",
    "SignTest",
    "Verdict",
    "against_threshold",
    "all_hold",
    "paired_verdict",
    "rank_correlation",
    "say",
    "sign_test",
    "wrap",
]

WIDTH = 72
"""The widest printed line: an output box of the book is about 78 characters wide at a 1280 px window."""


def wrap(*sentences: str, indent: str = "", width: int = WIDTH) -> str:
    """Sentences as lines of at most ``width`` characters, each sentence starting a new line.

    A sentence's continuation lines are indented by two spaces more than its first line.
    """
    return "\n".join(
        textwrap.fill(s, width, initial_indent=indent, subsequent_indent=indent + "  ", break_on_hyphens=False)
        for s in sentences
    )


def say(*texts: str, width: int = WIDTH) -> None:
    """Print ``texts`` with every line cut to ``width`` characters (:func:`wrap`), keeping its indent.

    For printed tables and reports whose lines may run long: a line that fits stays as it is.
    """
    lines = "\n".join(str(t) for t in texts).split("\n")
    print("\n".join(
        line if len(line) <= width else wrap(line.lstrip(), indent=line[: len(line) - len(line.lstrip())], width=width)
        for line in lines
    ))

WORDS: dict[str, tuple[str, str, str]] = {
    "holds": ("holds", "does not hold", "is too close to call"),
    "passes": ("passes", "does not pass", "is too close to call on"),
}
"""The words of a verdict, by kind: (holds, does not hold, too close to call). ``"holds"`` for a
claim ("sparsity grows with depth holds"), ``"passes"`` for a check ("Grad-CAM passes the check")."""


@dataclass(frozen=True)
class Verdict:
    """The outcome of comparing one measured value with its threshold."""

    holds: bool | None
    """True or False when the value is clearly on one side; None when too close to call."""
    text: str

    def __str__(self) -> str:
        return self.text

    def word(self, kind: str = "holds") -> str:
        """The verdict in words of ``kind`` (see :data:`WORDS`): e.g. ``"passes"``, ``"does not pass"``."""
        if kind not in WORDS:
            raise ArgumentError(f"Unknown kind of words {kind!r}; choose one of {', '.join(WORDS)}.")
        return WORDS[kind][{True: 0, False: 1, None: 2}[self.holds]]

    def line(self, claim: str, *evidence: str, kind: str = "holds") -> str:
        """The verdict on ``claim`` as short lines: the verdict word first, then the evidence, indented.

        ``Verdict.line("'all filters fire'", "30 of 32 fire on the photo.")`` gives
        ``"Holds: 'all filters fire'"`` and the evidence on the lines below it.
        """
        word = self.word(kind)
        head = wrap(f"{word[0].upper()}{word[1:]}: {claim}")
        return "\n".join([head, *(wrap(e, indent="  ") for e in evidence)])


def against_threshold(
    value: float,
    threshold: float,
    margin: float,
    holds_if: str = "above",
    claim: str = "the claim",
) -> Verdict:
    """Whether ``value`` is clearly above (or below) ``threshold``, with a no-call band.

    ``holds_if`` is ``"above"`` or ``"below"``. Values within ``margin`` of the threshold (and a
    NaN value) give ``holds=None``, so the printed word is the same on every machine.
    """
    if holds_if not in ("above", "below"):
        raise ArgumentError(f"holds_if must be 'above' or 'below', not {holds_if!r}.")
    if not margin >= 0:
        raise ArgumentError(f"margin must be a non-negative number, not {margin!r}.")
    if not abs(value - threshold) > margin:
        return Verdict(None, f"{claim}: too close to call on this run ({value:.3g} vs {threshold:.3g})")
    holds = bool(value > threshold if holds_if == "above" else value < threshold)
    return Verdict(holds, f"{claim}: {WORDS['holds'][0 if holds else 1]} on this run")


def all_hold(verdicts: Iterable[Verdict], claim: str = "the claim") -> Verdict:
    """One verdict for a claim made of several: it holds when every part holds.

    It does not hold when one part clearly does not, and is too close to call when no part
    fails but one is too close to call (so a no-call is never printed as a failure).
    """
    parts = [verdict.holds for verdict in verdicts]
    if not parts:
        raise ArgumentError("all_hold needs at least one verdict.")
    holds = False if False in parts else None if None in parts else True
    return Verdict(holds, f"{claim}: {'too close to call' if holds is None else WORDS['holds'][1 - holds]} on this run")


class SignTest(NamedTuple):
    """A one-sided sign test on paired values."""

    wins: int
    """Pairs where the second value is the larger."""
    trials: int
    """Pairs counted: those with a NaN on either side and ties are left out."""
    p_value: float
    """One-sided: the chance of at least ``wins`` of ``trials`` if either side were as likely (1.0 with no trials)."""


def _paired(first, second) -> tuple[np.ndarray, np.ndarray]:
    a, b = np.asarray(first, dtype=np.float64), np.asarray(second, dtype=np.float64)
    if a.shape != b.shape:
        raise ArgumentError(f"Paired values must have the same shape, got {a.shape} and {b.shape}.")
    return a, b


def sign_test(first, second) -> SignTest:
    """Is ``second`` larger than ``first`` on clearly more than half of the pairs? The one sign test.

    Pairs with a NaN (or an infinity) on either side, and ties, are left out.
    """
    from scipy.stats import binomtest

    a, b = _paired(first, second)
    usable = np.isfinite(a) & np.isfinite(b) & (a != b)
    wins, trials = int(np.sum(b[usable] > a[usable])), int(np.sum(usable))
    p_value = float(binomtest(wins, trials, 0.5, alternative="greater").pvalue) if trials else 1.0
    return SignTest(wins, trials, p_value)


def paired_verdict(
    first, second, claim: str, alpha: float = 0.05, margin: float = 0.03
) -> tuple[int, int, float, Verdict]:
    """:func:`sign_test` of ``second > first`` and its verdict on ``claim``: ``(wins, trials, p, verdict)``.

    The claim holds when p < ``alpha``; a p within ``margin`` of ``alpha`` is too close to call,
    so that one photo more or less on another machine cannot flip it.
    """
    wins, trials, p_value = sign_test(first, second)
    return wins, trials, p_value, against_threshold(p_value, alpha, margin, holds_if="below", claim=claim)


def rank_correlation(first, second) -> np.ndarray:
    """Spearman rank correlation of paired rows (one per photo: heatmaps, maps ...); NaN where a row is constant.

    ``first`` and ``second`` are (N, ...) arrays of the same shape; each row is flattened.
    """
    from scipy.stats import spearmanr

    a, b = _paired(first, second)
    a, b = a.reshape(len(a), -1), b.reshape(len(b), -1)
    out = np.full(len(a), np.nan)
    for i in range(len(a)):
        if np.ptp(a[i]) > 0 and np.ptp(b[i]) > 0:
            out[i] = spearmanr(a[i], b[i]).statistic
    return out
