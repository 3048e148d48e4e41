"""BPClassifier and BPRegressor as a practitioner uses them: labels of any kind, probabilities, partial_fit,
warm starts, early stopping, cloning, pickling, pipelines and searches, and messages that name the parameter."""

from __future__ import annotations

import copy
import pickle

import numpy as np
import pytest

pytest.importorskip("sklearn")

from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import bpframe as bp
from bpframe.datasets import load_digits
from bpframe.sklearn import BPClassifier, BPRegressor

# every test fits networks: 108 s as plain Python in the nojit environment, which runs them with the JIT on
pytestmark = pytest.mark.jit_coverage

SMALL = {"hidden_layer_sizes": (16,), "epochs": 15, "random_state": 0}


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits("train")
    return X[:600], y[:600]


def test_string_labels_come_back_as_given(digits):
    X, y = digits
    names = np.array(["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"])
    clf = BPClassifier(**SMALL).fit(X, names[y])
    assert clf.classes_.tolist() == sorted(names.tolist())  # output unit k is the class classes_[k]
    predicted = clf.predict(X)
    assert predicted.dtype == names.dtype
    np.testing.assert_array_equal(predicted, clf.classes_[clf.network_.feedforward(X).argmax(axis=1)])
    assert np.mean(predicted == names[y]) > 0.9


def test_predict_proba_is_the_softmax_output_and_predict_its_argmax(digits):
    X, y = digits
    clf = BPClassifier(**SMALL).fit(X, y)
    proba = clf.predict_proba(X)
    np.testing.assert_allclose(proba, clf.network_.feedforward(X), rtol=1e-15, atol=0)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-15)
    np.testing.assert_array_equal(clf.predict(X), np.argmax(proba, axis=1))
    np.testing.assert_allclose(clf.predict_log_proba(X), np.log(proba))
    assert clf.score(X, y) == pytest.approx(np.mean(clf.predict(X) == y))


def test_fitted_attributes_describe_the_training(digits):
    X, y = digits
    clf = BPClassifier(**SMALL).fit(X, y)
    assert clf.n_features_in_ == 64 and clf.n_iter_ == 15 == len(clf.loss_curve_)
    assert clf.loss_curve_ == clf.history_.cost == clf.network_.history.cost
    assert clf.validation_scores_ is None and clf.validation_loss_curve_ is None and clf.best_epoch_ is None
    assert clf.network_.sizes == (64, 16, 10) and clf.network_.seed == 0
    assert [a.name for a in clf.network_.activations] == ["relu", "softmax"]


def test_the_same_random_state_gives_the_same_network(digits):
    X, y = digits
    a, b = BPClassifier(**SMALL).fit(X, y), BPClassifier(**SMALL).fit(X, y)
    np.testing.assert_array_equal(a.network_.parameters(), b.network_.parameters())
    c = BPClassifier(**{**SMALL, "random_state": 1}).fit(X, y)
    assert not np.array_equal(a.network_.parameters(), c.network_.parameters())


def test_the_network_is_the_one_network_fit_trains(digits):
    """The estimator adds nothing to the training: the same fit on a bare Network gives the same parameters."""
    X, y = digits
    clf = BPClassifier((16,), epochs=5, tol=None, eta=0.001, random_state=3).fit(X, y)
    net = bp.Network([64, 16, 10], ["relu", "softmax"], "cross_entropy", seed=3)
    net.fit(X, y, epochs=5, batch_size=32, eta=0.001, optimizer="adam", verbose=0)
    np.testing.assert_array_equal(clf.network_.parameters(), net.parameters())


def test_early_stopping_holds_out_a_stratified_split_and_keeps_the_best_epoch(digits):
    X, y = digits
    clf = BPClassifier((16,), epochs=200, early_stopping=True, n_iter_no_change=3, eta=0.01, random_state=0)
    clf.fit(X, y)
    assert clf.n_iter_ < 200 and clf.best_epoch_ is not None
    assert len(clf.validation_scores_) == len(clf.validation_loss_curve_) == clf.n_iter_
    best = int(np.argmin(clf.validation_loss_curve_)) + 1
    assert clf.best_epoch_ == best and clf.n_iter_ == best + 3
    # the kept state is the best epoch's: its validation accuracy is the recorded one
    from bpframe.datasets import one_hot
    from bpframe.split import holdout

    part = holdout(X, one_hot(y, 10), 0.1, clf.network_._model.split_seed)
    assert clf.network_.evaluate(part.x_val, part.y_val)["accuracy"] == clf.validation_scores_[best - 1]


def test_tol_stops_on_a_plateau_of_the_training_cost_and_none_trains_every_epoch(digits):
    X, y = digits
    plateau = BPClassifier((16,), epochs=300, tol=0.05, n_iter_no_change=2, random_state=0).fit(X, y)
    assert plateau.n_iter_ < 300
    every = BPClassifier((16,), epochs=7, tol=None, random_state=0).fit(X, y)
    assert every.n_iter_ == 7


def test_partial_fit_trains_one_epoch_per_call_and_needs_classes_first(digits):
    X, y = digits
    clf = BPClassifier(**SMALL)
    with pytest.raises(ValueError, match="classes must be passed on the first call to partial_fit"):
        clf.partial_fit(X, y)
    clf.partial_fit(X[:300], y[:300], classes=np.arange(10))
    clf.partial_fit(X[300:], y[300:])
    assert clf.n_iter_ == 2 and clf.classes_.tolist() == list(range(10))
    with pytest.raises(bp.DataError) as info:
        clf.partial_fit(X[:5], np.array([1, 2, 3, 4, 11]))
    assert str(info.value) == (
        "BPClassifier.partial_fit: y holds labels [11] that are not among classes_ [0, 1, 2, 3, 4, 5, 6, 7, 8, 9] "
        "(given by the first call's classes=)"
    )


def test_warm_start_continues_the_network(digits):
    X, y = digits
    clf = BPClassifier((16,), epochs=3, tol=None, warm_start=True, random_state=0).fit(X, y)
    first = clf.network_
    clf.fit(X, y)
    assert clf.network_ is first and clf.n_iter_ == 6
    cold = BPClassifier((16,), epochs=6, tol=None, random_state=0).fit(X, y)
    np.testing.assert_array_equal(clf.network_.parameters(), cold.network_.parameters())
    with pytest.raises(bp.DataError) as info:
        clf.fit(X[y < 5], y[y < 5])
    assert str(info.value).startswith(
        "BPClassifier: warm_start continues a network trained on classes [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], but y has "
        "classes [0, 1, 2, 3, 4]"
    )


def test_clone_pickle_and_deepcopy(digits):
    X, y = digits
    clf = BPClassifier(**SMALL).fit(X, y)
    fresh = clone(clf)
    assert fresh.get_params() == clf.get_params() and not hasattr(fresh, "network_")
    for other in (pickle.loads(pickle.dumps(clf)), copy.deepcopy(clf)):
        np.testing.assert_array_equal(other.predict_proba(X), clf.predict_proba(X))
        assert other.loss_curve_ == clf.loss_curve_ and other.network_ is not clf.network_
        other.partial_fit(X, y)  # trains on exactly as the original would
        clf_copy = copy.deepcopy(clf)
        clf_copy.partial_fit(X, y)
        np.testing.assert_array_equal(other.network_.parameters(), clf_copy.network_.parameters())


def test_activation_objects_and_optimizer_settings_as_parameters(digits):
    X, y = digits
    tanh = bp.Network([1, 1], "tanh").activations[0]
    clf = BPClassifier((16, 8), activation=["relu", tanh], optimizer=bp.Adam(beta1=0.8), random_state=0, epochs=3)
    clf.fit(X, y)
    assert [a.name for a in clf.network_.activations] == ["relu", "tanh", "softmax"]
    assert clf.network_._model.optimizer.config == {"name": "adam", "beta1": 0.8, "beta2": 0.999, "epsilon": 1e-8}
    assert pickle.loads(pickle.dumps(clf)).score(X, y) == clf.score(X, y)


def test_float32_data_trains_a_float32_network(digits):
    X, y = digits
    assert BPClassifier(**SMALL).fit(X.astype(np.float32), y).network_.dtype == np.float32
    assert BPClassifier(**SMALL).fit(X, y).network_.dtype == np.float64
    assert BPClassifier(**SMALL, dtype="float32").fit(X, y).network_.dtype == np.float32


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"hidden_layer_sizes": (16, 0)}, "BPClassifier: hidden_layer_sizes[1] must be an int >= 1, got 0"),
        ({"hidden_layer_sizes": "16"},
         "BPClassifier: hidden_layer_sizes must be an int or a tuple of ints >= 1, got '16'"),
        ({"eta": 0}, "BPClassifier: eta must be a finite number > 0, got 0"),
        ({"lmbda": -1.0}, "BPClassifier: lmbda must be a finite number >= 0, got -1.0"),
        ({"epochs": 2.5}, "BPClassifier: epochs must be an int >= 1, got 2.5"),
        ({"batch_size": 0}, "BPClassifier: batch_size must be an int >= 1, got 0"),
        ({"n_iter_no_change": 0}, "BPClassifier: n_iter_no_change must be an int >= 1, got 0"),
        ({"tol": -0.1}, "BPClassifier: tol must be a finite number >= 0, got -0.1"),
        ({"early_stopping": "yes"}, "BPClassifier: early_stopping must be True or False, got 'yes'"),
        ({"early_stopping": True, "validation_fraction": 1.0},
         "BPClassifier: validation_fraction must be a fraction of the training rows strictly between 0 and 1 "
         "(e.g. 0.1), got 1.0"),
        ({"verbose": 3}, "BPClassifier: verbose must be 0, 1 or 2 (or a bool), got 3"),
        ({"activation": ["relu", "relu"]},
         "BPClassifier: activation must be one activation name or bpframe.Activation for every hidden layer, or a "
         "list of 1 of them (one per hidden layer), got ['relu', 'relu']"),
        ({"dtype": "float16"}, "dtype must be 'float32' or 'float64', got 'float16'"),
    ],
)  # fmt: skip
def test_invalid_parameters_are_named_at_fit(digits, params, message):
    X, y = digits
    clf = BPClassifier(**params)  # never checked in __init__ (scikit-learn's rule)
    with pytest.raises(bp.ConfigurationError) as info:
        clf.fit(X, y)
    assert str(info.value) == message


def test_in_a_pipeline_with_a_grid_search(digits):
    X, y = digits
    pipe = make_pipeline(StandardScaler(), BPClassifier((16,), epochs=5, random_state=0))
    search = GridSearchCV(pipe, {"bpclassifier__eta": [0.001, 0.01]}, cv=2).fit(X, y)
    assert search.best_params_["bpclassifier__eta"] in (0.001, 0.01)
    assert search.best_estimator_.score(X, y) > 0.9
    assert cross_val_score(BPClassifier((16,), epochs=30, random_state=0), X, y, cv=2).min() > 0.75


def test_column_names_from_a_dataframe_step_are_kept(digits):
    pd = pytest.importorskip("pandas")
    X, y = digits
    frame = pd.DataFrame(X, columns=[f"pixel{i}" for i in range(64)])
    pipe = make_pipeline(StandardScaler().set_output(transform="pandas"), BPClassifier(**SMALL)).fit(frame, y)
    assert pipe[-1].feature_names_in_.tolist() == [f"pixel{i}" for i in range(64)]
    assert pipe.score(frame, y) > 0.9


def test_regressor_fits_one_and_several_targets():
    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, size=(300, 3))
    y = X @ [1.0, -2.0, 0.5]
    reg = BPRegressor((16,), epochs=60, random_state=0).fit(X, y)
    assert reg.predict(X).shape == (300,) and reg.n_outputs_ == 1 and reg.score(X, y) > 0.95
    np.testing.assert_array_equal(reg.predict(X), reg.network_.feedforward(X)[:, 0])
    Y = np.column_stack([y, -y])
    multi = BPRegressor((16,), epochs=60, random_state=0).fit(X, Y)
    assert multi.predict(X).shape == (300, 2) and multi.n_outputs_ == 2 and multi.score(X, Y) > 0.95
    assert [a.name for a in multi.network_.activations] == ["relu", "identity"] and multi.network_.loss.name == (
        "quadratic"
    )


def test_regressor_partial_fit_and_warm_start_keep_the_targets():
    rng = np.random.default_rng(1)
    X, y = rng.normal(size=(80, 2)), rng.normal(size=80)
    reg = BPRegressor((8,), random_state=0).partial_fit(X, y).partial_fit(X, y)
    assert reg.n_iter_ == 2
    with pytest.raises(bp.DataError) as info:
        reg.partial_fit(X, np.column_stack([y, y]))
    assert str(info.value) == (
        "BPRegressor: y has 2 target(s) per row, but the fitted network has 1; fit with warm_start=False to start again"
    )


def test_html_and_text_reprs():
    clf = BPClassifier(hidden_layer_sizes=(64,), eta=0.01)
    assert repr(clf) == "BPClassifier(eta=0.01, hidden_layer_sizes=(64,))"
    assert "BPClassifier" in clf._repr_html_() and "hidden_layer_sizes" in clf._repr_html_()


def test_without_scikit_learn_the_module_says_what_to_install(monkeypatch):
    import sys

    for name in [m for m in sys.modules if m == "sklearn" or m.startswith(("sklearn.", "bpframe.sklearn"))]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "sklearn", None)  # import sklearn now raises ImportError
    with pytest.raises(bp.MissingDependencyError) as info:
        import bpframe.sklearn  # noqa: F401
    assert str(info.value) == (
        'bpframe.sklearn needs scikit-learn: pip install "bpframe[sklearn]" (or pip install scikit-learn)'
    )
