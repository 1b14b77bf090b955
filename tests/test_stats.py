"""convlens.measures.stats: the one sign test, the one rank correlation, and the verdicts the chapters print."""

from __future__ import annotations

import numpy as np
import pytest

from convlens.measures import stats


def test_against_threshold_holds_fails_and_no_call():
    assert stats.against_threshold(0.5, 0.3, 0.05).holds is True
    assert stats.against_threshold(0.1, 0.3, 0.05).holds is False
    close = stats.against_threshold(0.32, 0.3, 0.05, claim="sparse")
    assert close.holds is None and str(close) == "sparse: too close to call on this run (0.32 vs 0.3)"
    assert str(stats.against_threshold(0.1, 0.3, 0.05, holds_if="below", claim="near 0")) == "near 0: holds on this run"
    assert stats.against_threshold(float("nan"), 0.3, 0.05).holds is None, "a NaN is no evidence either way"


@pytest.mark.parametrize(("holds", "holds_words", "passes_words"), [
    (True, "holds", "passes"), (False, "does not hold", "does not pass"),
    (None, "is too close to call", "is too close to call on"),
])
def test_the_words_of_a_verdict(holds, holds_words, passes_words):
    verdict = stats.Verdict(holds, "text")
    assert verdict.word() == holds_words and verdict.word("passes") == passes_words
    with pytest.raises(ValueError, match="holds, passes"):
        verdict.word("maybe")


def test_all_hold_never_prints_a_no_call_as_a_failure():
    yes, no, unsure = (stats.Verdict(h, "") for h in (True, False, None))
    assert stats.all_hold([yes, yes], "c").holds is True
    assert stats.all_hold([yes, unsure, no], "c").holds is False
    joined = stats.all_hold([yes, unsure], "'sparsity grows'")
    assert joined.holds is None and joined.word() == "is too close to call"
    assert str(joined) == "'sparsity grows': too close to call on this run"
    with pytest.raises(ValueError, match="at least one"):
        stats.all_hold([])


def test_bad_thresholds_are_refused():
    with pytest.raises(ValueError, match="holds_if"):
        stats.against_threshold(1, 0, 0.1, holds_if="over")
    with pytest.raises(ValueError, match="margin"):
        stats.against_threshold(1, 0, -0.1)


def test_sign_test_counts_the_second_larger_and_leaves_out_ties_and_nan():
    assert stats.sign_test(np.zeros(10), np.ones(10)) == (10, 10, pytest.approx(0.5**10))
    wins, trials, p = stats.sign_test(np.array([0, 1, 2, 2.0]), np.array([1, 0, 3, 2.0]))
    assert (wins, trials) == (2, 3) and p == pytest.approx(0.5)
    wins, trials, _ = stats.sign_test(np.array([0.0, 0.0, np.nan, 1.0, np.inf]), np.array([1.0, 0.0, 1.0, 2.0, 3.0]))
    assert (wins, trials) == (2, 2), "a NaN or an infinity on either side is no pair"
    assert stats.sign_test([], []) == (0, 0, 1.0)
    with pytest.raises(ValueError, match="same shape"):
        stats.sign_test(np.zeros(3), np.zeros(4))


def test_paired_verdict_holds_fails_and_no_call():
    first = np.zeros(20)
    wins, trials, p, verdict = stats.paired_verdict(first, np.ones(20), "second is larger")
    assert (wins, trials) == (20, 20) and p < 1e-5 and verdict.holds is True
    assert stats.paired_verdict(first, -np.ones(20), "second is larger")[3].holds is False
    # 14 of 20: p = 0.058, within the margin of 0.05: too close to call
    second = np.array([1.0] * 14 + [-1.0] * 6)
    _, _, p, verdict = stats.paired_verdict(first, second, "second is larger")
    assert p == pytest.approx(0.0577, abs=1e-3) and verdict.holds is None


def test_rank_correlation():
    rng = np.random.default_rng(0)
    maps = rng.random((3, 5, 5))
    np.testing.assert_allclose(stats.rank_correlation(maps, maps), 1.0)
    np.testing.assert_allclose(stats.rank_correlation(maps, 1.0 - maps), -1.0)
    values = stats.rank_correlation(maps, np.concatenate([maps[:2] ** 3, np.zeros((1, 5, 5))]))
    np.testing.assert_allclose(values[:2], 1.0)
    assert np.isnan(values[2])
    independent = stats.rank_correlation(rng.random((200, 8, 8)), rng.random((200, 8, 8)))
    assert abs(np.mean(independent)) < 0.05
    with pytest.raises(ValueError, match="same shape"):
        stats.rank_correlation(maps, maps[:2])


def test_verdict_lines_are_short_and_start_with_the_verdict():
    from convlens.measures.stats import WIDTH, against_threshold, wrap

    verdict = against_threshold(0.37, 0.5, margin=0.1)
    text = verdict.line(
        "'the first layer acts as a collection of various edge detectors' (Chollet)",
        "11 of the 30 channels that fire follow an edge map at some orientation, in grey or in "
        "colour; the claim needs more than half of them.",
    )
    lines = text.split("\n")
    assert lines[0].startswith("Does not hold: ")
    assert all(len(line) <= WIDTH for line in lines) and len(lines) >= 3
    assert all(line.startswith("  ") for line in lines[1:])
    assert wrap("a " * 60).count("\n") >= 1


def test_say_cuts_only_the_long_lines_and_keeps_their_indent(capsys):
    from convlens.measures.stats import WIDTH, say

    table = "layer       value\nconv2d_1     0.50"
    say(table, "  " + "word " * 30)
    out = capsys.readouterr().out.rstrip("\n").split("\n")
    assert out[:2] == table.split("\n")
    assert all(len(line) <= WIDTH for line in out) and len(out) >= 4
    assert out[2].startswith("  word") and out[3].startswith("    word")
