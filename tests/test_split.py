"""The validation split (bpframe.split) and fit(validation_split=...): seeded, stratified for class targets,
random otherwise, refused with the numbers when a side would be empty or miss a class."""

from __future__ import annotations

import numpy as np
import pytest

import bpframe as bp
from bpframe.datasets import one_hot
from bpframe.split import class_labels, holdout, split_indices

SEED = np.random.SeedSequence(7)


def labels_problem():
    """30 rows: 15 of class 0, 10 of class 1, 5 of class 2, row i holds the value i."""
    y = np.array([0] * 15 + [1] * 10 + [2] * 5)
    return np.arange(30.0).reshape(30, 1), one_hot(y, 3)


def test_stratified_split_keeps_each_class_share_and_the_row_order():
    X, Y = labels_problem()
    part = holdout(X, Y, 0.2, SEED)
    assert part.stratified
    # 6 validation rows: 15*0.2 = 3, 10*0.2 = 2, 5*0.2 = 1 of the classes
    assert part.y_val.sum(axis=0).tolist() == [3.0, 2.0, 1.0]
    assert part.y_train.sum(axis=0).tolist() == [12.0, 8.0, 4.0]
    for x in (part.x_train[:, 0], part.x_val[:, 0]):
        assert (np.diff(x) > 0).all()  # original order kept
    assert sorted([*part.x_train[:, 0], *part.x_val[:, 0]]) == list(range(30))  # every row exactly once
    np.testing.assert_array_equal(part.y_val, Y[part.x_val[:, 0].astype(int)])  # rows and targets stay together


def test_largest_remainders_decide_the_leftover_rows():
    """0.23 of 30 rows is 6.9, so 7 validation rows; the classes' shares are 3.5, 2.33 and 1.17: whole parts
    3, 2, 1, and the one row left goes to the largest remainder, class 0's."""
    X, Y = labels_problem()
    part = holdout(X, Y, 0.23, SEED)
    assert part.y_val.sum(axis=0).tolist() == [4.0, 2.0, 1.0]


def test_every_class_keeps_a_row_on_each_side():
    y = np.array([0] * 40 + [1] * 2)  # class 1 would get 0.2 of a row: it still gets one
    train, val = split_indices(42, 0.1, SEED, y)
    assert np.isin(val, [40, 41]).sum() == 1 and np.isin(train, [40, 41]).sum() == 1
    assert len(val) == 4 and len(train) == 38


def test_the_same_seed_gives_the_same_split_and_another_seed_another():
    X, Y = labels_problem()
    a, b = holdout(X, Y, 0.3, np.random.SeedSequence(1)), holdout(X, Y, 0.3, np.random.SeedSequence(1))
    c = holdout(X, Y, 0.3, np.random.SeedSequence(2))
    np.testing.assert_array_equal(a.x_val, b.x_val)
    assert not np.array_equal(a.x_val, c.x_val)


def test_regression_targets_are_split_at_random():
    X = np.arange(20.0).reshape(10, 2)
    Y = np.linspace(-1, 1, 10).reshape(10, 1)
    part = holdout(X, Y, 0.3, SEED)
    assert not part.stratified and part.x_val.shape == (3, 2) and part.x_train.shape == (7, 2)
    expected = np.sort(np.random.default_rng(np.random.SeedSequence(7)).permutation(10)[:3])
    np.testing.assert_array_equal(part.x_val[:, 0] / 2, expected)


@pytest.mark.parametrize(
    ("y", "expected"),
    [
        (np.array([[0.0, 1.0], [1.0, 0.0], [0.0, 1.0]]), [1, 0, 1]),
        (np.array([[1.0], [0.0]]), [1, 0]),
        (np.array([[0.2, 0.8], [1.0, 0.0]]), None),  # soft labels
        (np.array([[1.0, 1.0], [1.0, 0.0]]), None),  # two ones in a row: not one-hot
        (np.array([[0.5], [2.0]]), None),  # regression
    ],
)
def test_class_labels(y, expected):
    labels = class_labels(y)
    assert (labels is None and expected is None) or labels.tolist() == expected


@pytest.mark.parametrize(
    ("n", "fraction", "message"),
    [
        (5, 0.05, "validation_split=0.05 of 5 rows leaves 5 for training and 0 for validation; at least one is "
                  "needed on each side, so there are too few rows for validation: pass "
                  "validation_data=(X_val, Y_val) or more rows"),
        (5, 0.95, "validation_split=0.95 of 5 rows leaves 0 for training and 5 for validation; at least one is "
                  "needed on each side, so there are too few rows for training: pass "
                  "validation_data=(X_val, Y_val) or more rows"),
    ],
)  # fmt: skip
def test_an_empty_side_is_refused(n, fraction, message):
    with pytest.raises(bp.ConfigurationError) as info:
        split_indices(n, fraction, SEED)
    assert str(info.value) == message


def test_a_stratified_split_that_cannot_hold_every_class_is_refused():
    y = np.array([0, 0, 1, 1, 2, 2, 2, 2, 2, 2])
    with pytest.raises(bp.ConfigurationError) as info:
        split_indices(10, 0.2, SEED, y)
    assert str(info.value) == (
        "validation_split=0.2 of 10 rows leaves 8 for training and 2 for validation, fewer than the 3 classes on "
        "one side; a stratified split needs at least one row of every class on each side: use a fraction that "
        "holds out more (or fewer) rows, or pass validation_data=(X_val, Y_val)"
    )
    with pytest.raises(bp.ConfigurationError) as info:
        split_indices(5, 0.4, SEED, np.array([0, 0, 0, 0, 1]))
    assert str(info.value) == (
        "validation_split: class 1 has only one row, so a stratified split cannot put it in both the training "
        "and the validation part; pass validation_data=(X_val, Y_val) instead"
    )


@pytest.mark.parametrize("fraction", [0, 1, 1.5, -0.1, "0.1", True, float("nan")])
def test_the_fraction_must_be_strictly_between_0_and_1(fraction):
    X, Y = labels_problem()
    with pytest.raises(bp.ConfigurationError) as info:
        holdout(X, Y, fraction, SEED)
    assert str(info.value) == (
        "validation_split must be a fraction of the training rows strictly between 0 and 1 (e.g. 0.1), "
        f"got {fraction!r}"
    )


# -- Network.fit(validation_split=...) ---------------------------------------------------------------------


def digits_network(seed=3):
    return bp.Network([64, 16, 10], ["relu", "softmax"], "cross_entropy", seed=seed)


FIT = {"epochs": 2, "batch_size": 32, "eta": 0.01, "optimizer": "adam", "verbose": 0}


def test_fit_with_validation_split_is_fit_on_the_split_rows():
    """The same as fitting on the held-out parts by hand, with the split seeded from the network's seed."""
    X, y = bp.datasets.load_digits("train")
    net = digits_network()
    history = net.fit(X, y, validation_split=0.2, **FIT)
    part = holdout(X, one_hot(y, 10), 0.2, np.random.SeedSequence(3).spawn(3)[2])
    by_hand = digits_network()
    expected = by_hand.fit(part.x_train, part.y_train, validation_data=(part.x_val, part.y_val), **FIT)
    np.testing.assert_array_equal(net.parameters(), by_hand.parameters())
    assert history.val_cost == expected.val_cost and history.val_accuracy == expected.val_accuracy
    assert part.x_val.shape[0] == 287  # round(0.2 * 1437)


@pytest.mark.jit_coverage
def test_every_fit_call_holds_out_the_same_rows():
    X, y = bp.datasets.load_digits("train")
    net = digits_network()
    net.fit(X, y, validation_split=0.1, **FIT)
    first = net.evaluate(*_val_rows(net, X, y))
    again = digits_network()
    again.fit(X, y, validation_split=0.1, **FIT)
    assert net.history.val_cost == again.history.val_cost and first == again.evaluate(*_val_rows(again, X, y))


def _val_rows(net, X, y):
    part = holdout(X, one_hot(y, 10), 0.1, net._model.split_seed)
    return part.x_val, part.y_val


def test_validation_split_and_validation_data_together_are_refused():
    X, y = bp.datasets.load_digits("train")
    with pytest.raises(bp.ConfigurationError) as info:
        digits_network().fit(X, y, validation_split=0.1, validation_data=(X, y), **FIT)
    assert str(info.value) == (
        "fit takes validation_data or validation_split, not both: validation_split holds out part of X and Y, "
        "validation_data is data of its own"
    )


def test_too_few_rows_for_a_split_are_refused_before_any_training():
    X, y = bp.datasets.load_digits("train")
    net = digits_network()
    before = net.parameters()
    with pytest.raises(bp.ConfigurationError) as info:
        net.fit(X[:12], y[:12], validation_split=0.5, **FIT)
    assert "a stratified split cannot put it in both the training and the validation part" in str(info.value)
    np.testing.assert_array_equal(net.parameters(), before)
    assert len(net.history) == 0
