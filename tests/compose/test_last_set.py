"""LastSetMixture: the last true label set mixed into P(True), label by label, by recent
Brier scores."""

from __future__ import annotations

import numpy as np
import pytest

from streamml.compose import LastSetMixture
from streamml.learners.mixing import pair_weight


def _reference(stream, rate, decay):
    """The mixed P(True) of every instance, from scalar Brier scores per label and
    `pair_weight`, written independently of the class."""
    model, persist, last, out = {}, {}, None, []
    for t, (p, truth) in enumerate(stream):
        if t < 2:
            out.append(list(p))
        else:
            row = []
            for j, q in enumerate(p):
                w = pair_weight(persist.get(j, 0.0), model.get(j, 0.0), rate)
                row.append((1 - w) * q + w * (last[j] if j < len(last) else 0.0))
            out.append(row)
        if last is not None:
            for j, on in enumerate(truth):
                q = p[j] if j < len(p) else 0.0
                before = last[j] if j < len(last) else 0.0
                m, s = model.get(j, 0.0), persist.get(j, 0.0)
                model[j] = m + decay * ((q - on) ** 2 - m)
                persist[j] = s + decay * ((before - on) ** 2 - s)
        last = [float(on) for on in truth]
    return out


def _stream(seed, n=200, widths=(3, 5)):
    """Probabilities and true sets over a label space that grows from `widths[0]` labels
    to `widths[1]`."""
    rng = np.random.default_rng(seed)
    small, large = widths
    out, truth = [], rng.random(small) < 0.5
    for t in range(n):
        width = small if t < 80 else large
        if rng.random() < 0.3 or len(truth) < width:  # a new set; else the last one again
            truth = rng.random(width) < 0.4
        p = rng.random(small if t <= 80 else large)  # asked before the new labels were known
        out.append((p, truth.copy()))
    return out


# Few labels (kept in lists), many (in arrays), and a label space that grows from one to the
# other.
@pytest.mark.parametrize("widths", [(3, 5), (70, 75), (40, 90)])
@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize(("rate", "decay"), [(4.0, 0.01), (1.0, 0.3)])
def test_it_mixes_as_the_scalar_reference(seed, rate, decay, widths):
    stream = _stream(seed, widths=widths)
    mixture, got = LastSetMixture(rate, decay), []
    for p, truth in stream:
        got.append(mixture.mix(p).tolist())
        mixture.learn(p, np.flatnonzero(truth), len(truth))
    expected = _reference(stream, rate, decay)
    for a, b in zip(got, expected):
        assert a == pytest.approx(b, rel=1e-9, abs=1e-12)


def test_the_probabilities_pass_unchanged_before_two_instances():
    mixture, p = LastSetMixture(4.0, 0.1), np.array([0.2, 0.9])
    assert mixture.mix(p) is p
    mixture.learn(p, [0], 2)
    assert mixture.mix(p) is p  # one true set known, never scored yet
    mixture.learn(p, [0], 2)
    assert mixture.mix(p) is not p


def test_a_label_goes_to_the_better_opinion():
    mixture = LastSetMixture(4.0, 0.1)
    # Label 0 repeats and the model misses it; the model gets label 1 right, the last set
    # does not (it alternates).
    for t in range(60):
        mixture.learn(np.array([0.2, float(t % 2)]), [0, 1] if t % 2 else [0], 2)
    w = mixture.weights(2)
    assert w[0] > 0.99 and w[1] == 0.0  # the model never misses label 1: all its own
    mixed = mixture.mix(np.array([0.2, 0.7]))
    assert mixed[0] > 0.99 and mixed[1] == 0.7


def test_labels_without_error_on_either_side_weigh_half_and_new_labels_start_so():
    mixture = LastSetMixture(4.0, 0.1)
    for _ in range(3):
        mixture.learn(np.array([0.0]), [], 1)
    assert mixture.weights(3).tolist() == [0.5, 0.5, 0.5]
    mixture.learn(np.array([0.0]), [1], 3)  # two labels appear
    assert mixture.mix(np.array([0.0, 0.0, 0.0])).tolist()[1] > 0.0  # the last set has it


def test_weights_are_zero_before_two_instances_and_scored_from_the_second():
    mixture = LastSetMixture(2.0, 0.5)
    assert mixture.weights(3).tolist() == [0.0, 0.0, 0.0]
    mixture.learn(np.array([0.2, 0.6]), [0], 2)
    assert mixture.weights(2).tolist() == [0.0, 0.0]
    mixture.learn(np.array([0.2, 0.6]), [0], 2)  # the last set was right, the model not
    assert mixture.weights(2).tolist() == [1.0, 1.0]


def test_a_fractional_rate_with_a_score_of_zero():
    # (persist / model) ** 2.5 with persist 0: the last set takes the label, without NaN.
    mixture = LastSetMixture(2.5, 0.5)
    for _ in range(3):
        mixture.learn(np.array([0.3, 0.0]), [0], 2)
    w = mixture.weights(2)
    assert w[0] == 1.0 and w[1] == 0.5  # label 1: neither side ever erred


def test_asked_about_labels_it_has_not_learnt():
    mixture = LastSetMixture(4.0, 0.5)
    for _ in range(2):
        mixture.learn(np.array([0.2, 0.6]), [0], 2)
    mixed = mixture.mix(np.array([0.2, 0.6, 0.8]))  # a third label, never scored: half
    assert mixed.tolist()[2] == pytest.approx(0.4)
    assert mixture.weights(3).tolist()[2] == 0.5


@pytest.mark.parametrize("seed", [0, 1])
def test_few_labels_mix_exactly_as_many(seed):
    """The list path (below 64 labels) and the array path do the same operations in the same
    order: the same floats but for numpy's power, which may differ from C's in the last bit."""
    stream = _stream(seed, n=300, widths=(10, 12))
    lists, arrays = LastSetMixture(4.0, 0.05), LastSetMixture(4.0, 0.05)
    arrays._grow(64)  # from 64 labels on, in arrays
    for p, truth in stream:
        assert lists.mix(p).tolist() == pytest.approx(arrays.mix(p).tolist(), rel=1e-14)
        lists.learn(p, np.flatnonzero(truth), len(truth))
        arrays.learn(p, np.flatnonzero(truth), len(truth))
    assert lists.weights(12).tolist() == pytest.approx(arrays.weights(12).tolist(), rel=1e-14)


def test_a_question_about_more_labels_grows_the_arrays_with_weights_of_one_half():
    mixture = LastSetMixture(4.0, 0.5)
    for _ in range(3):
        mixture.learn(np.array([0.2, 0.6]), [0], 2)
    mixed = mixture.mix(np.full(70, 0.2))  # 70 labels: from 64 on, in arrays
    assert mixed[2:].tolist() == pytest.approx([0.1] * 68)  # half the model, half the set
    assert mixture.weights(70)[2:].tolist() == [0.5] * 68
