"""Printed verdicts that do not flip between machines.

A chapter states each of the lecture's claims as a verdict computed in the run ("holds",
"does not hold"). A number that lands close to its threshold could fall on either side on
another CPU or numeric back-end (oneDNN vs Eigen give different last digits), so a value
within ``margin`` of the threshold is reported as too close to call instead of flipping.
"""

from __future__ import annotations

from dataclasses import dataclass

from .errors import ArgumentError

__all__ = [
    "Verdict",
    "against_threshold",
]


@dataclass(frozen=True)
class Verdict:
    """The outcome of comparing one measured value with its threshold."""

    holds: bool | None
    """True or False when the value is clearly on one side; None when too close to call."""
    text: str

    def __str__(self) -> str:
        return self.text


def against_threshold(
    value: float,
    threshold: float,
    margin: float,
    holds_if: str = "above",
    claim: str = "the claim",
) -> Verdict:
    """Whether ``value`` is clearly above (or below) ``threshold``, with a no-call band.

    ``holds_if`` is ``"above"`` or ``"below"``. Values within ``margin`` of the threshold
    give ``holds=None``, so the printed word is the same on every machine.
    """
    if holds_if not in ("above", "below"):
        raise ArgumentError(f"holds_if must be 'above' or 'below', not {holds_if!r}.")
    if not margin >= 0:
        raise ArgumentError(f"margin must be a non-negative number, not {margin!r}.")
    if abs(value - threshold) <= margin:
        return Verdict(None, f"{claim}: too close to call on this run ({value:.3g} vs {threshold:.3g})")
    holds = value > threshold if holds_if == "above" else value < threshold
    return Verdict(holds, f"{claim}: {'holds' if holds else 'does not hold'} on this run")
