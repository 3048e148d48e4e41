"""The training events go through pluggy's hook calling: every hook reaches its implementations with the documented
arguments, every hook style pluggy documents works, and one failing implementation never stops the others."""

from __future__ import annotations

import ast
import dataclasses
import inspect
from pathlib import Path

import numpy as np
import pluggy
import pytest
from fake_plugins import FakeEntryPoint

import bpframe as bp
from bpframe import hookspecs, plugins

ROOT = Path(__file__).resolve().parents[1]
SETTINGS_KEYS = {"epochs", "batch_size", "eta", "lmbda", "optimizer", "schedule", "l1", "dropout", "layer_speed",
                 "n_samples", "num_batches", "validation", "resumed"}  # fmt: skip


def problem(n=20):
    rng = np.random.default_rng(0)
    return rng.normal(size=(n, 3)), rng.integers(0, 2, n)


def network():
    return bp.Network([3, 4, 2], ["tanh", "softmax"], "cross_entropy", seed=0)


def fit(net, callbacks, epochs=2, **kwargs):
    X, y = problem()
    return net.fit(X, y, epochs=epochs, batch_size=5, eta=0.1, callbacks=callbacks, verbose=0, **kwargs)


class Calls:
    """Writes down every call of every training hook with every argument."""

    def __init__(self):
        self.calls = []

    @bp.hookimpl
    def bpframe_fit_start(self, net, settings):
        self.calls.append(("fit_start", net, settings))

    @bp.hookimpl
    def bpframe_epoch_start(self, net, epoch, epochs, eta):
        self.calls.append(("epoch_start", net, epoch, epochs, eta))

    @bp.hookimpl
    def bpframe_batches_end(self, net, epoch, done, total, cost, accuracy):
        self.calls.append(("batches_end", net, epoch, done, total, cost, accuracy))

    @bp.hookimpl
    def bpframe_epoch_end(self, net, epoch, epochs, logs):
        self.calls.append(("epoch_end", net, epoch, epochs, dict(logs)))

    @bp.hookimpl
    def bpframe_fit_end(self, net, history, reason):
        self.calls.append(("fit_end", net, history, reason))

    def of(self, hook):
        return [call[1:] for call in self.calls if call[0] == hook]


# -- one test per training hook: each reaches an implementation with the documented arguments -------------------


def test_bpframe_fit_start_receives_the_network_and_the_settings():
    net, calls = network(), Calls()
    fit(net, [calls], validation_data=problem(6))
    [(seen, settings)] = calls.of("fit_start")
    assert seen is net and set(settings) == SETTINGS_KEYS
    assert (settings["epochs"], settings["batch_size"], settings["eta"], settings["n_samples"]) == (2, 5, 0.1, 20)
    assert (settings["num_batches"], settings["validation"], settings["resumed"]) == (4, True, None)
    assert settings["optimizer"]["name"] == "sgd"
    assert calls.calls[0][0] == "fit_start"


def test_bpframe_epoch_start_receives_each_epoch_and_its_learning_rate():
    net, calls = network(), Calls()
    fit(net, [calls], epochs=3, schedule=bp.ExponentialDecay(0.5))
    assert [(n is net, e, es, round(eta, 6)) for n, e, es, eta in calls.of("epoch_start")] == [
        (True, 1, 3, 0.1), (True, 2, 3, 0.05), (True, 3, 3, 0.025)]  # fmt: skip


def test_bpframe_batches_end_receives_the_running_cost_and_accuracy():
    net, calls = network(), Calls()
    fit(net, [calls])
    runs = calls.of("batches_end")
    assert [(e, done, total) for _, e, done, total, _, _ in runs] == [(e, d, 4) for e in (1, 2) for d in (1, 2, 3, 4)]
    logs = [call[3] for call in calls.of("epoch_end")]
    last_of_each = [run for run in runs if run[2] == 4]
    assert [x for *_, c, a in last_of_each for x in (c, a)] == pytest.approx(
        [x for lg in logs for x in (lg["cost"], lg["accuracy"])])  # fmt: skip
    assert all(n is net for n, *_ in runs)


def test_bpframe_epoch_end_receives_the_logs_and_may_stop_training():
    class StopAfterTwo(Calls):
        @bp.hookimpl
        def bpframe_epoch_end(self, net, epoch, epochs, logs):
            super().bpframe_epoch_end(net, epoch, epochs, logs)
            return epoch == 2

    net, calls = network(), StopAfterTwo()
    history = fit(net, [calls], epochs=5, validation_data=problem(6))
    ends = calls.of("epoch_end")
    assert [(n is net, e, es) for n, e, es, _ in ends] == [(True, 1, 5), (True, 2, 5)] and len(history) == 2
    assert set(ends[0][3]) == {"cost", "accuracy", "seconds", "val_cost", "val_accuracy"}
    assert ends[1][3]["cost"] == history.cost[1]
    assert calls.of("fit_end")[0][2] == "stopped"


def test_bpframe_fit_end_receives_the_history_and_the_reason():
    net, calls = network(), Calls()
    history = fit(net, [calls])
    [(seen, got, reason)] = calls.of("fit_end")
    assert seen is net and got is history and reason == "completed" and calls.calls[-1][0] == "fit_end"


def _builtin(kind, name):
    return getattr(plugins.load_registry(autoload=False, disabled=(), strict=False), kind).get(name).spec


REGISTERED = {"activations": "identity", "losses": "quadratic", "optimizers": "sgd", "initializers": "normal"}


def _load(plugin):
    return plugins.load_registry(entry_points=[FakeEntryPoint("ev", lambda: plugin, "bpframe-ev", "1.0")],
                                 autoload=True, disabled=(), strict=True)  # fmt: skip


@pytest.mark.parametrize(
    "hook",
    ["bpframe_register_activations", "bpframe_register_losses", "bpframe_register_optimizers",
     "bpframe_register_initializers"],
)  # fmt: skip
def test_registration_hooks_reach_the_plugin_with_a_register_callback(hook):
    """Each registration hook is called with ``register``; what the plugin registers is in the registry as its own."""
    kind = hook.removeprefix("bpframe_register_")
    renamed = dataclasses.replace(_builtin(kind, REGISTERED[kind]), name=f"ev_{kind}")

    def implementation(self, register):
        register(renamed)

    plugin = type("OneKind", (), {hook: bp.hookimpl(implementation)})()
    entry = getattr(_load(plugin), kind).get(f"ev_{kind}")
    assert entry.spec is renamed and entry.provenance.describe() == "bpframe-ev 1.0 (plugin 'ev')"


@pytest.mark.parametrize("style", ["wrapper", "hookwrapper"])
def test_a_registration_hook_may_be_a_wrapper_of_either_style(style):
    seen = []

    class Wrapping:
        @bp.hookimpl(**{style: True})
        def bpframe_register_activations(self, register):
            register(dataclasses.replace(_builtin("activations", "identity"), name="ev_wrapped"))
            result = yield
            seen.append(result.get_result() if style == "hookwrapper" else result)
            return result

    registry = _load(Wrapping())
    assert registry.activations.get("ev_wrapped").provenance.distribution == "bpframe-ev" and seen == [[]]


# -- every hook style pluggy documents ------------------------------------------------------------------------


class Plain:
    def __init__(self, log, name, vote=None):
        self.log, self.name, self.vote = log, name, vote

    @bp.hookimpl
    def bpframe_epoch_end(self, epoch):
        self.log.append((self.name, epoch))
        return self.vote


class First(Plain):
    @bp.hookimpl(tryfirst=True)
    def bpframe_epoch_end(self, epoch):
        self.log.append((self.name, epoch))


class Last(Plain):
    @bp.hookimpl(trylast=True)
    def bpframe_epoch_end(self, epoch):
        self.log.append((self.name, epoch))


def test_tryfirst_and_trylast_order_the_calls():
    log = []
    fit(network(), [First(log, "first"), Plain(log, "a"), Last(log, "last"), Plain(log, "b")], epochs=1)
    assert log == [("first", 1), ("b", 1), ("a", 1), ("last", 1)]  # the others: last registered first


class NewStyle:
    """A new-style wrapper: runs around the other implementations, sees their results, returns what fit gets."""

    def __init__(self, log, stop_at=None):
        self.log, self.stop_at = log, stop_at

    @bp.hookimpl(wrapper=True)
    def bpframe_epoch_end(self, epoch):
        self.log.append(("before", epoch))
        results = yield
        self.log.append(("after", epoch, list(results)))
        return [*results, True] if epoch == self.stop_at else results


class OldStyle:
    """An old-style wrapper: its yield gives a pluggy.Result."""

    def __init__(self, log, stop_at=None):
        self.log, self.stop_at = log, stop_at

    @bp.hookimpl(hookwrapper=True)
    def bpframe_epoch_end(self, epoch):
        self.log.append(("before", epoch))
        outcome = yield
        assert isinstance(outcome, pluggy.Result)
        self.log.append(("after", epoch, list(outcome.get_result())))
        if epoch == self.stop_at:
            outcome.force_result([True])


@pytest.mark.parametrize("style", [NewStyle, OldStyle])
def test_a_wrapper_runs_before_and_after_the_others_and_sees_their_results(style):
    log = []
    # registered first, so plain implementations would run after it anyway: the wrapper still runs around them
    history = fit(network(), [Plain(log, "a", vote=False), style(log, stop_at=2), Plain(log, "b")], epochs=4)
    assert log == [("before", 1), ("b", 1), ("a", 1), ("after", 1, [False]),
                   ("before", 2), ("b", 2), ("a", 2), ("after", 2, [False])]  # fmt: skip
    assert len(history) == 2  # the wrapper's result asked fit to stop


# -- isolation: a failing implementation is named, the others run, training is not disturbed ------------------


class Broken:
    @bp.hookimpl
    def bpframe_epoch_end(self, epoch):
        raise RuntimeError(f"broken at {epoch}")


class BrokenBefore:
    @bp.hookimpl(wrapper=True)
    def bpframe_epoch_end(self, epoch):
        raise RuntimeError("before its yield")
        yield  # pragma: no cover - a generator that fails before yielding


class BrokenAfter:
    @bp.hookimpl(wrapper=True)
    def bpframe_epoch_end(self, epoch):
        yield
        raise RuntimeError("after its yield")


class BrokenOldAfter:
    @bp.hookimpl(hookwrapper=True)
    def bpframe_epoch_end(self, epoch):
        yield
        raise RuntimeError("after its yield")


class NeverYields:
    @bp.hookimpl(wrapper=True)
    def bpframe_epoch_end(self, epoch):
        return []
        yield  # pragma: no cover


class YieldsTwice:
    @bp.hookimpl(wrapper=True)
    def bpframe_epoch_end(self, epoch):
        yield
        yield


@pytest.mark.parametrize(
    ("broken", "error"),
    [(Broken, "RuntimeError: broken at 1"), (BrokenBefore, "RuntimeError: before its yield"),
     (BrokenAfter, "RuntimeError: after its yield"), (BrokenOldAfter, "RuntimeError: after its yield"),
     (NeverYields, "StopIteration: []"), (YieldsTwice, "RuntimeError: the wrapper yielded a second time")],
)  # fmt: skip
def test_a_failing_implementation_is_named_and_the_others_still_run(monkeypatch, broken, error):
    monkeypatch.delenv("BPFRAME_STRICT_PLUGINS", raising=False)
    log, reference = [], network()
    fit(reference, [])
    net = network()
    with pytest.warns(bp.PluginWarning) as caught:
        history = fit(net, [Plain(log, "before"), broken(), Plain(log, "after", vote=False)], epochs=2)
    assert [str(w.message) for w in caught] == [
        f"callback {broken.__name__}: hook bpframe_epoch_end raised {error}; it is skipped for the rest of this "
        "training run"
    ]
    assert log == [("after", 1), ("before", 1), ("after", 2), ("before", 2)] and len(history) == 2
    np.testing.assert_array_equal(net.parameters(), reference.parameters())


def test_in_strict_mode_a_failing_implementation_ends_fit_and_the_wrappers_see_it(monkeypatch):
    monkeypatch.setenv("BPFRAME_STRICT_PLUGINS", "1")
    seen = []

    class Watching:
        @bp.hookimpl(wrapper=True)
        def bpframe_epoch_end(self, epoch):
            try:
                return (yield)
            except bp.PluginError as exc:
                seen.append(str(exc))
                raise

    calls = Calls()
    with pytest.raises(bp.PluginError) as info:
        fit(network(), [calls, Broken(), Watching()])
    message = (
        "callback Broken: hook bpframe_epoch_end raised RuntimeError: broken at 1; it is skipped for the rest of this "
        "training run"
    )
    assert str(info.value) == message and seen == [message]
    assert calls.of("fit_end")[0][2] == "failed"


# -- the meta-tests: every hook specification is documented and tested --------------------------------------


def _hookspec_names():
    return [name for name, fn in inspect.getmembers(hookspecs, inspect.isfunction) if hasattr(fn, "bpframe_spec")]


def test_the_training_hooks_are_the_hookspecs_that_are_not_registrations():
    names = _hookspec_names()
    assert len(names) == 9
    assert sorted(hookspecs.TRAINING_HOOKS) == sorted(n for n in names if not n.startswith("bpframe_register_"))


@pytest.mark.parametrize("hook", _hookspec_names())
def test_every_hookspec_is_documented(hook):
    text = (ROOT / "docs" / "plugins.rst").read_text(encoding="utf-8")
    assert f".. autofunction:: bpframe.hookspecs.{hook}\n" in text  # the hooks reference shows its docstring
    assert len(inspect.getdoc(getattr(hookspecs, hook))) > 40


@pytest.mark.parametrize("hook", _hookspec_names())
def test_every_hookspec_is_tested_here(hook):
    """A test of this module names the hook: in its name, or in its docstring or parameters."""
    tree = ast.parse(Path(__file__).read_text(encoding="utf-8"))
    tests = [node for node in tree.body if isinstance(node, ast.FunctionDef) and node.name.startswith("test_")]
    assert any(hook in node.name or hook in ast.unparse(node) for node in tests if "is_tested" not in node.name)


# -- cost per fit -----------------------------------------------------------------------------------------------


def test_a_plugin_modules_hooks_are_read_once_per_process_and_a_guard_lists_only_its_hooks(monkeypatch):
    """Building the bus of a fit must not walk every name of every plugin module again (1.1 ms a fit before):
    a module's implementations are read the first time, a guard shows pluggy only the hooks it holds, and a
    callback object is still read at every fit."""
    import types

    from bpframe import events

    module = types.ModuleType("bpframe_test_module_plugin")
    seen = []

    @bp.hookimpl
    def bpframe_epoch_end(net, epoch, epochs, logs):
        seen.append(epoch)

    module.bpframe_epoch_end = bpframe_epoch_end
    calls = Calls()
    reads = []
    original = pluggy.PluginManager.parse_hookimpl_opts

    def counting(self, plugin, name):
        reads.append(plugin)
        return original(self, plugin, name)

    monkeypatch.setattr(pluggy.PluginManager, "parse_hookimpl_opts", counting)
    bus = events.EventBus([(module, "module plugin"), (calls, "callback Calls")])
    guard = bus._guards[id(module)]
    assert dir(guard) == ["bpframe_epoch_end"]
    assert sorted(dir(bus._guards[id(calls)])) == sorted(h for h in hookspecs.TRAINING_HOOKS)
    first = reads.count(module)
    assert first == len(dir(module))
    events.EventBus([(module, "module plugin"), (calls, "callback Calls")])
    assert reads.count(module) == first, "the module was read again"
    assert reads.count(calls) == 2 * len(dir(calls))
    assert bus.emit("bpframe_epoch_end", net=None, epoch=3, epochs=5, logs={}) == []
    assert seen == [3]
