"""BaggedLogisticRegression against its rules written out model by model, in double precision.

The reference keeps every bag's weights as a dense matrix and moves the averaged models at
every update, row by row, where the class works on one single-precision tensor and catches the
averages of untouched rows up lazily; both must give the same numbers.
"""

from __future__ import annotations

import numpy as np
import pytest

from streamml.learners.logistic import BaggedLogisticRegression


def _sigmoid(m):
    return 1.0 / (1.0 + np.exp(-m))


class _Reference:
    def __init__(self, d, n_labels, n_bags, rates, bias_rates, batch, seed, decay, averaging):
        groups = len(rates)
        self.per = max(n_bags // groups, 1)
        self.bags = self.per * groups
        self.group = np.arange(self.bags) // self.per
        self.rates = np.asarray(rates, dtype=float)[self.group]
        self.bias_rates = np.asarray(bias_rates, dtype=float)[self.group]
        self.batch, self.decay, self.averaging = batch, decay, averaging
        self.rng = np.random.default_rng(seed)
        self.draws = np.zeros((0, self.bags))
        self.w = np.zeros((self.bags, d, n_labels))
        self.b = np.zeros((self.bags, n_labels))
        self.avg_w = self.avg_b = None  # the first group's moving averages, once decided
        self.decided = averaging == 0
        self.loss = np.zeros((groups, n_labels))
        self.pending = []

    def grow(self, d, n_labels):
        if n_labels > self.w.shape[2] and self.pending:
            self._update()
        pad_d, pad_l = d - self.w.shape[1], n_labels - self.w.shape[2]
        widths = ((0, 0), (0, max(pad_d, 0)), (0, max(pad_l, 0)))
        self.w = np.pad(self.w, widths)
        if self.avg_w is not None:
            self.avg_w = np.pad(self.avg_w, widths)
            self.avg_b = np.pad(self.avg_b, ((0, 0), (0, max(pad_l, 0))))
        self.b = np.pad(self.b, ((0, 0), (0, max(pad_l, 0))))
        self.loss = np.pad(self.loss, ((0, 0), (0, max(pad_l, 0))))

    def forward(self, cols, z):
        x = np.zeros(self.w.shape[1])
        keep = cols < len(x)
        x[cols[keep]] = z[keep]
        bags = _sigmoid(np.einsum("f,bfl->bl", x, self.w) + self.b)
        groups = np.array([bags[self.group == g].mean(axis=0) for g in range(len(self.loss))])
        if self.avg_w is not None:
            groups[0] = _sigmoid(np.einsum("f,bfl->bl", x, self.avg_w) + self.avg_b).mean(axis=0)
        return bags, groups

    def predict(self, groups):
        return groups[np.argmin(self.loss, axis=0), np.arange(self.loss.shape[1])]

    def learn(self, cols, z, y, forward):
        if not len(self.draws):
            self.draws = self.rng.poisson(1.0, size=(64, self.bags)).astype(float)
        k, self.draws = self.draws[0], self.draws[1:]
        grad = (forward[0] - y) * k[:, None]
        self.b -= grad * self.bias_rates[:, None]
        grad = grad * (self.rates / (1.0 + len(z)))[:, None]
        self.pending.append((cols, z, grad, y, forward[1]))
        if len(self.pending) >= self.batch:
            self._update()

    def _update(self):
        rows, self.pending = self.pending, []
        if not self.decided:
            self.decided = True
            density = [len(c) / (int(c[-1]) + 1) if len(c) else 0.0 for c, *_ in rows]
            if sum(density) >= 0.5 * len(rows):
                self.avg_w = self.w[: self.per].copy()
                self.avg_b = self.b[: self.per].copy()
        n_labels = self.w.shape[2]
        for cols, z, grad, _, _ in rows:
            for c, v in zip(cols, z):
                if c < self.w.shape[1]:
                    self.w[:, c, :] -= v * grad[:, :n_labels]
        if self.avg_w is not None:  # every row of the averages moves, touched or not
            self.avg_w += self.averaging * (self.w[: self.per] - self.avg_w)
            self.avg_b += self.averaging * (self.b[: self.per] - self.avg_b)
        for _, _, _, y, groups in rows:  # the recent log-loss, instance by instance
            p = np.full((len(self.loss), n_labels), 0.5)
            p[:, : groups.shape[1]] = groups[:, :n_labels]
            q = np.maximum(np.abs(p + y[None, :n_labels] - 1.0), 1e-6)
            self.loss = (1.0 - self.decay) * self.loss - self.decay * np.log(q)


def _pair(d, n_labels, n_bags, rates, bias_rates, batch, seed=0, decay=0.01, averaging=0.1):
    """The model and its reference (None for `decay` and `averaging`: the model's defaults,
    documented as 0.01 and 0.1)."""
    rng = np.random.default_rng(seed)
    if decay is None and averaging is None:
        model = BaggedLogisticRegression(d, n_labels, n_bags, rates, bias_rates, batch, rng)
        decay, averaging = 0.01, 0.1
    else:
        args = (d, n_labels, n_bags, rates, bias_rates, batch, rng, decay, averaging)
        model = BaggedLogisticRegression(*args)
    reference = _Reference(d, n_labels, n_bags, rates, bias_rates, batch, seed, decay, averaging)
    return model, reference


def _check(model, reference, forward, ref_forward):
    np.testing.assert_allclose(forward[0], ref_forward[0], rtol=2e-4, atol=2e-5)
    np.testing.assert_allclose(forward[1], ref_forward[1], rtol=2e-4, atol=2e-5)
    np.testing.assert_allclose(model._b[model._a :], reference.b, rtol=2e-4, atol=2e-5)
    np.testing.assert_allclose(model._loss, reference.loss, rtol=1e-5, atol=1e-7)
    # The group that predicts each label: the reference's, where its losses are not tied.
    loss = np.sort(reference.loss, axis=0)
    clear = loss[1] - loss[0] > 1e-6 if len(loss) > 1 else np.ones(loss.shape[1], dtype=bool)
    np.testing.assert_allclose(
        model.predict(forward)[clear],
        reference.predict(ref_forward[1])[clear],
        rtol=2e-4,
        atol=2e-5,
    )


def _step(model, reference, cols, z, y, full):
    """Both answer the instance (checked equal), then both learn it."""
    forward = model.forward(cols, z, full)
    ref_forward = reference.forward(cols, z)
    _check(model, reference, forward, ref_forward)
    model.learn(cols, z, full, y.astype(np.float32), forward)
    reference.learn(cols, z, y, ref_forward)


def _stream(rng, d, n_labels, density):
    """(columns, values, labels): labels driven by the first features, some rare."""
    x = rng.normal(size=d) * (rng.random(d) < density)
    scores = np.array([x[j % d] + 0.5 * x[(j + 1) % d] for j in range(n_labels)])
    y = (scores > np.linspace(-0.5, 1.5, n_labels)).astype(float)
    cols = np.flatnonzero(x)
    return cols, x[cols], y


@pytest.mark.parametrize(
    "density, n_bags, rates, bias_rates, batch, decay, averaging",
    [
        (1.0, 10, (0.5, 2.0), (0.01, 2.0), 8, 0.01, 0.1),  # dense: averaged first group
        (0.3, 10, (0.5, 2.0), (0.01, 2.0), 8, 0.01, 0.1),  # sparse: no average
        (1.0, 6, (0.3, 1.0, 3.0), (0.05, 0.5, 1.5), 5, 0.05, 0.3),  # three groups
        (1.0, 4, (0.7,), (0.2,), 3, 0.02, 0.0),  # one group, averaging off
        (0.6, 7, (0.5, 2.0), (0.01, 2.0), 4, 0.01, 0.2),  # 7 bags: 3 per group
        (1.0, 1, (0.5, 2.0), (0.01, 2.0), 4, 0.01, 0.1),  # fewer bags than groups: 1 each
        (1.0, 10, (0.5, 2.0), (0.01, 2.0), 8, None, None),  # the defaults: 0.01 and 0.1
    ],
)
def test_bagged_logistic_regression_computes_its_rules(
    density, n_bags, rates, bias_rates, batch, decay, averaging
):
    d, n_labels = 6, 4
    model, reference = _pair(d, n_labels, n_bags, rates, bias_rates, batch, 3, decay, averaging)
    assert model.n_bags == reference.bags
    rng = np.random.default_rng(11)
    for _ in range(400):
        cols, z, y = _stream(rng, d, n_labels, density)
        _step(model, reference, cols, z, y, len(cols) == d)
    assert model.n_learnt == 400
    assert (model._a > 0) == (reference.avg_w is not None)
    assert model._updates == 400 // batch


def test_bagged_logistic_regression_grows_as_its_rules_say():
    # New features and labels mid-stream (labels grow with a batch pending: it is learned
    # first, with the labels it had); sparse rows whose averages lag behind their weights.
    d, n_labels = 5, 3
    model, reference = _pair(d, n_labels, 6, (0.5, 2.0), (0.05, 1.0), 4, 5)
    rng = np.random.default_rng(2)
    for t in range(360):
        if t == 150:
            model.grow(9, 5)
            reference.grow(9, 5)
            d, n_labels = 9, 5
        dense = t < 40 or t % 7 == 0  # dense first (the average starts), sparse after
        cols, z, y = _stream(rng, d, n_labels, 1.0 if dense else 0.3)
        _step(model, reference, cols, z, y, len(cols) == d)
    assert model._a > 0 and reference.avg_w is not None


def test_bagged_logistic_regression_ignores_features_beyond_its_width():
    # An instance may carry columns the model has not grown to yet: they count as absent.
    model, reference = _pair(4, 2, 4, (0.5, 2.0), (0.05, 1.0), 2, 8)
    rng = np.random.default_rng(4)
    for _ in range(60):
        cols, z, y = _stream(rng, 6, 2, 0.5)
        _step(model, reference, cols, z, y, False)


@pytest.mark.parametrize("cols, averaged", [([1, 3], True), ([1, 4], False)])
def test_averaging_starts_when_the_first_batch_is_at_least_half_dense(cols, averaged):
    # A row's density is its non-zeros over its last column + 1: columns 1 and 3 give 2 / 4,
    # exactly half (averaged); columns 1 and 4 give 2 / 5 (not).
    model = BaggedLogisticRegression(6, 2, 4, (0.5, 2.0), (0.05, 1.0), 4, np.random.default_rng(0))
    cols = np.array(cols)
    z = np.array([1.0, -0.5])
    y = np.array([1.0, 0.0], dtype=np.float32)
    for _ in range(4):
        model.learn(cols, z, False, y, model.forward(cols, z, False))
    assert model._updates == 1
    assert (model._a > 0) is averaged


def test_a_restricted_averaged_regression_predicts_as_the_original_on_its_labels():
    model, _ = _pair(5, 4, 6, (0.5, 2.0), (0.05, 1.0), 4, 9)
    rng = np.random.default_rng(10)
    for t in range(120):
        cols, z, y = _stream(rng, 5, 4, 1.0 if t < 20 or t % 3 else 0.4)
        model.learn(cols, z, len(cols) == 5, y.astype(np.float32), model.forward(cols, z, False))
    assert model._a > 0
    labels = np.array([3, 1])
    sub = model.restricted(labels, np.random.default_rng(1))
    for _ in range(30):
        cols, z, _ = _stream(rng, 5, 4, 0.7)
        np.testing.assert_allclose(
            sub.predict(sub.forward(cols, z, False)),
            model.predict(model.forward(cols, z, False))[labels],
            rtol=1e-6,
        )


def test_the_weight_tensor_stays_in_single_precision():
    # It is the largest array of a leaf (features x bags x labels) and the work is
    # memory-bound: weights, intercepts and answers are float32, whatever the input's dtype.
    model, _ = _pair(6, 3, 4, (0.5, 2.0), (0.05, 1.0), 2, 1)
    rng = np.random.default_rng(0)
    for _ in range(20):
        cols, z, y = _stream(rng, 6, 3, 1.0)
        forward = model.forward(cols, z, len(cols) == 6)
        model.learn(cols, z, len(cols) == 6, y.astype(np.float32), forward)
    assert model._a > 0  # averaged models in the tensor too
    assert model._w.dtype == np.float32 and model._b.dtype == np.float32
    assert forward[0].dtype == np.float32 and forward[1].dtype == np.float32
