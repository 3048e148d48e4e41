r"""Saving and loading networks: one ``.npz`` file, no pickles, written atomically, read within fixed bounds.

The file format (``format_version`` 2, or 3 with the layers' learning speed)
--------------------------------------------------------------------------
A model file is an *uncompressed* ZIP archive of NumPy ``.npy`` members, the layout :func:`numpy.savez`
writes, so ``numpy.load(path, allow_pickle=False)`` can inspect it too:

``metadata.npy``
    A 1-D ``uint8`` array holding UTF-8 JSON text (described below). Never a pickled object array.
``theta.npy``
    A 1-D array of the network's dtype: every weight matrix row-major, layer 1 first, then every bias;
    the layout of :meth:`bpframe.Network.parameters`.
``optimizer_state.npy`` (only when saved with ``include_optimizer=True`` and the network has a state)
    A 2-D array of the network's dtype, shape ``(rows, theta.size)``: the optimizer's per-parameter state
    (0 rows for SGD, 1 for momentum, 2 for Adam's m and v).
``history.npy`` (only for a network trained at least one epoch)
    A 1-D ``float64`` array: the history's columns one after the other, as long as the metadata's
    ``lengths`` say (the epoch numbers are whole numbers, stored exactly). A column may be shorter than
    ``epoch``: ``val_cost`` only has the epochs of the ``fit`` calls given validation data.
``layer_speed.npy`` (format 3: only for a network trained with ``fit(layer_speed=True)``)
    A ``float64`` array of shape ``(epochs, 2, L)``: for every epoch of the history (the metadata's
    ``"layer_speed": {"epochs": ...}`` repeats the count), :attr:`~bpframe.History.nabla_b_norm` and
    :attr:`~bpframe.History.nabla_w_norm` of each layer, NaN for an epoch trained without recording them. A file
    without it is written as format 2, so that bpframe 0.1 reads it; a file with it as format 3, which an older
    bpframe refuses with a message to upgrade instead of dropping the data.

The metadata is one JSON object::

    {
      "format": "bpframe-model",          # what the file is
      "format_version": 2,                # bumped on any incompatible change
      "bpframe_version": "0.1.0",         # the bpframe that wrote it
      "created": "2025-01-31T12:00:00+00:00",
      "sizes": [784, 30, 10],
      "dtype": "float64",                 # or "float32"
      "activations": [                    # one per layer after the input
        {"name": "sigmoid", "plugin": "bpframe.default_plugins.activations",
         "distribution": "bpframe", "version": "0.1.0", "user-defined": false}, ...],
      "loss": {"name": "cross_entropy", ...same keys...},
      "seed": 0,                          # or null
      "history": {"columns": ["epoch", "cost", "accuracy", "val_cost", "val_accuracy", "seconds"],
                  "lengths": [30, 30, 30, 20, 20, 30]},   # the non-empty columns ([] and [] untrained)
      "optimizer": {"config": {"name": "adam", ...}, "step": 120, "rows": 2},  # or null
      "training": {"optimizer": "adam", "eta": 0.001, "lmbda": 0.0, "l1": 0.0,  # the last fit (or null):
                   "dropout": [0.2], "batch_size": 32, "epochs": 100}          # Network.fit_settings
    }

An activation or loss that no plugin registered (an object built in user code) is recorded with
``"user-defined": true`` and ``plugin``, ``distribution`` and ``version`` null. ``sizes``, ``dtype``,
``activations`` and ``loss`` are required; a reader ignores top-level fields it does not know, so a new optional
field needs no new ``format_version``, while any change an older reader would misread must bump it.

Format version 1 (bpframe 0.1.0) is read too. It differs in two fields: ``history`` holds the columns
themselves as JSON lists (``{"epoch": [1, 2], "cost": [0.5, 0.25], ...}``, with ``NaN`` and ``Infinity`` as
Python's ``json`` writes them) and there is no ``history.npy``; the optimizer record has no ``rows``.
Version 2 moved the history into an array because it grows with every epoch trained, and the metadata must
stay small enough to be read whole before anything else.

Members are stored uncompressed: trained weights are floating-point numbers whose low mantissa bits are
close to random, so deflate shrinks them by only a few percent while costing time on every save and load;
stored members also keep each array's bytes verbatim, and the CRC-32 of every member is still verified on load.

Safety
------
Loading never unpickles and never imports: every member is read with its ``.npy`` header checked first (an
object dtype is refused before any byte of it is interpreted), the metadata is plain JSON, and activation and
loss names are looked up only in the plugin registry or in the ``custom_objects`` the caller passes. Every
problem with a file raises :class:`~bpframe.errors.ModelFileError`, whose message starts with the file's path.

Loading never allocates more than the file really holds (:mod:`bpframe.container`): the ZIP directory may list
at most a few entries, a compressed or encrypted member is refused without being expanded, the metadata is at
most :data:`~bpframe.limits.MAX_METADATA_BYTES` of JSON within the bounds of :mod:`bpframe.boundedjson`, the
network it describes must fit the limits of :mod:`bpframe.limits`, and each array's header must declare exactly
the dtype and shape the metadata implies before its data is read.

Saving is atomic: the file is written under a temporary name in the target's folder, flushed and fsynced,
then renamed onto the target with :func:`os.replace`. A reader, or a crash at any moment, sees either the old
complete file or the new complete file; on an error the temporary file is removed and the old file is left as
it was. The new file gets the permissions of the file it replaces, or the default ones (umask) for a new file.
A process killed during a save leaves its hidden temporary file behind (``.model.npz.<12 hex
digits>.bpframe-save.tmp``); the next successful save into the same folder deletes every such file of the
current user that has not changed for :data:`STALE_TEMPORARY_SECONDS`, and nothing else.

The package, one module per job
-------------------------------
``_atomic``
    The one atomic writer of bpframe (kernel cache files use it too).
``_container``
    The ZIP container: written as :func:`numpy.savez` writes it, read within the file's real size.
``_schema``
    The format: the metadata's fields and the members, checked as a file is read (:func:`read_model`).
``_save``
    A model's state to the file's members and metadata, and the cleanup of interrupted saves' files.
``_names``
    A file's activation and loss names to the installed plugins' objects, or what to install.
``_describe``
    :func:`describe_model`.

All of them work on a model's state (:class:`bpframe.state.ModelState`), never on a ``Network``: the network
module imports this package, not the other way round. :func:`save_network` and :func:`load_network`, which take
and return a ``Network``, are defined in :mod:`bpframe.network` and reached here on first use.
"""

from __future__ import annotations

from typing import Any

from ..state import OptimizerState
from ._describe import describe_model
from ._names import ResolvedModel, read_network
from ._save import STALE_TEMPORARY_SECONDS, save_model
from ._schema import FORMAT, FORMAT_VERSION

__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "STALE_TEMPORARY_SECONDS",
    "OptimizerState",
    "ResolvedModel",
    "describe_model",
    "load_network",
    "read_network",
    "save_model",
    "save_network",
]


def __getattr__(name: str) -> Any:
    """``save_network`` and ``load_network`` take and return a ``Network``, which sits above this package in the
    import graph (``Network.save`` calls :func:`save_model`): they live in :mod:`bpframe.network` and are
    documented here, where they always were."""
    if name in ("save_network", "load_network"):
        from .. import network  # allowed in tests/test_import_dag.py: documented here, defined above

        return getattr(network, name)
    raise AttributeError(f"module 'bpframe.io' has no attribute {name!r}")
