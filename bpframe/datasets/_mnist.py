"""Loading MNIST-style folders of IDX files, and Fashion-MNIST from where Debian installs it."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from numpy.typing import DTypeLike

from ..config import env_path
from ..errors import DataError
from ._validate import check_choice, check_float_dtype
from .idx import read_idx

__all__ = [
    "FASHION_MNIST_CLASSES",
    "FASHION_MNIST_ENV",
    "FASHION_MNIST_SYSTEM_DIR",
    "load_fashion_mnist",
    "load_mnist_like",
]

#: The Fashion-MNIST class names, indexed by label.
FASHION_MNIST_CLASSES: tuple[str, ...] = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)
#: Environment variable naming a folder that holds the Fashion-MNIST files.
FASHION_MNIST_ENV = "BPFRAME_FASHION_MNIST_DIR"
#: Where Debian's and Ubuntu's ``dataset-fashion-mnist`` package installs the files.
FASHION_MNIST_SYSTEM_DIR = "/usr/share/datasets/fashion-mnist"

_SPLITS = ("train", "test")
_PREFIXES = {"train": "train", "test": "t10k"}
_STANDARD_FILES = ", ".join(
    f"{prefix}-{kind}-idx{rank}-ubyte[.gz]"
    for prefix in ("train", "t10k")
    for kind, rank in (("images", 3), ("labels", 1))
)
_URL = "https://github.com/zalandoresearch/fashion-mnist"


def _split_stems(split: str) -> tuple[str, str]:
    """The standard image and label file names of ``split``, without ``.gz``."""
    prefix = _PREFIXES[split]
    return f"{prefix}-images-idx3-ubyte", f"{prefix}-labels-idx1-ubyte"


def _find(folder: Path, stem: str) -> Path | None:
    """Return ``folder/stem`` if it is a file, else ``folder/stem.gz`` if that is, else None."""
    for candidate in (folder / stem, folder / f"{stem}.gz"):
        if candidate.is_file():
            return candidate
    return None


def _missing(folder: Path, split: str) -> list[str]:
    """The standard files of ``split`` that are in ``folder`` neither plain nor gzipped."""
    return [f"{stem}[.gz]" for stem in _split_stems(split) if _find(folder, stem) is None]


def load_mnist_like(
    folder: str | os.PathLike[str], split: str = "train", *, dtype: DTypeLike = "float32"
) -> tuple[np.ndarray, np.ndarray]:
    """Load one split of an MNIST-style data set (MNIST, Fashion-MNIST, KMNIST, ...) from a folder.

    The folder holds the standard file names, each plain or gzip-compressed (a plain file is preferred
    when both exist): ``train-images-idx3-ubyte``, ``train-labels-idx1-ubyte``, ``t10k-images-idx3-ubyte``
    and ``t10k-labels-idx1-ubyte``.

    Parameters
    ----------
    folder : str or os.PathLike
        The folder holding the files.
    split : {"train", "test"}, default "train"
        Which pair of files: ``train-*`` or ``t10k-*``.
    dtype : {"float32", "float64"}, default "float32"
        Element type of ``X``.

    Returns
    -------
    X : ndarray, shape (n, rows * columns)
        The images, each flattened row by row, scaled from 0..255 to [0, 1].
    y : ndarray of int64, shape (n,)
        The labels.

    Raises
    ------
    DataError
        If a file is missing or invalid (see :func:`read_idx`), the images are not a 3-D uint8 array or
        there are none, the labels not a 1-D uint8 array, or their counts differ; the message names the files.
    ConfigurationError
        If ``split`` or ``dtype`` is not one of the allowed values.

    Examples
    --------
    >>> from bpframe.datasets import load_mnist_like
    >>> X, y = load_mnist_like("/usr/share/datasets/fashion-mnist", "test")  # doctest: +SKIP
    >>> X.shape, X.dtype, y.shape, y.dtype  # doctest: +SKIP
    ((10000, 784), dtype('float32'), (10000,), dtype('int64'))
    """
    check_choice("split", split, _SPLITS)
    out_dtype = check_float_dtype(dtype)
    where = Path(folder)
    missing = _missing(where, split)
    if missing:
        raise DataError(
            f"{where}: missing {' and '.join(missing)}; an MNIST-style folder holds the standard files "
            f"{_STANDARD_FILES}"
        )
    images_path, labels_path = (_find(where, stem) for stem in _split_stems(split))
    assert images_path is not None and labels_path is not None  # _missing() found both
    images, labels = read_idx(images_path), read_idx(labels_path)
    _check_pair(images, labels, images_path, labels_path)
    X = images.reshape(len(images), -1).astype(out_dtype)
    X /= 255
    return X, labels.astype(np.int64)


def _check_pair(images: np.ndarray, labels: np.ndarray, images_path: Path, labels_path: Path) -> None:
    """Raise :class:`DataError` unless images are (n, rows, columns) uint8 and labels (n,) uint8."""
    if images.ndim != 3 or images.dtype != np.uint8:
        raise DataError(
            f"{images_path}: expected images as a 3-D uint8 IDX array (n, rows, columns), "
            f"found shape {images.shape} of {images.dtype}"
        )
    if labels.ndim != 1 or labels.dtype != np.uint8:
        raise DataError(
            f"{labels_path}: expected labels as a 1-D uint8 IDX array (n,), "
            f"found shape {labels.shape} of {labels.dtype}"
        )
    if images.size == 0:
        raise DataError(
            f"{images_path}: holds no images: its IDX header declares shape {images.shape}, and an MNIST-style "
            "file holds at least one image of at least one pixel"
        )
    if len(images) != len(labels):
        raise DataError(
            f"image and label counts differ: {images_path} holds {len(images)} images, "
            f"{labels_path} holds {len(labels)} labels"
        )


def _fashion_folder(path: str | os.PathLike[str] | None) -> tuple[Path, str]:
    """The folder to read Fashion-MNIST from, and a phrase saying where that choice came from."""
    if path is not None:
        return Path(path), "given as path="
    from_env = env_path(FASHION_MNIST_ENV)
    if from_env is not None:
        return Path(from_env), f"from {FASHION_MNIST_ENV}"
    return Path(FASHION_MNIST_SYSTEM_DIR), "where the Debian package dataset-fashion-mnist installs them"


def load_fashion_mnist(
    path: str | os.PathLike[str] | None = None, *, split: str = "train", dtype: DTypeLike = "float32"
) -> tuple[np.ndarray, np.ndarray]:
    """Load Fashion-MNIST: 28×28 greyscale images of clothing in 10 classes, 60,000 to train and 10,000 to test.

    Fashion-MNIST is by Xiao, Rasul & Vollgraf (Zalando Research, 2017), under the MIT licence.

    The data is not shipped with bpframe. The folder searched is, first that applies: ``path``; the
    environment variable ``BPFRAME_FASHION_MNIST_DIR``; ``/usr/share/datasets/fashion-mnist``, where
    ``apt-get install dataset-fashion-mnist`` puts the files on Debian and Ubuntu.

    Parameters
    ----------
    path : str or os.PathLike, optional
        A folder with the four standard files ``train-images-idx3-ubyte``, ``train-labels-idx1-ubyte``,
        ``t10k-images-idx3-ubyte`` and ``t10k-labels-idx1-ubyte``, each plain or gzipped (``.gz``).
    split : {"train", "test"}, default "train"
        The 60,000 training images or the 10,000 test images.
    dtype : {"float32", "float64"}, default "float32"
        Element type of ``X``.

    Returns
    -------
    X : ndarray, shape (n, 784)
        The images, flattened row by row, scaled from 0..255 to [0, 1].
    y : ndarray of int64, shape (n,)
        The class labels 0..9; :data:`FASHION_MNIST_CLASSES` names them.

    Raises
    ------
    DataError
        If the files are not found (the message says how to get them), are invalid, disagree in count,
        or hold labels outside 0..9.
    ConfigurationError
        If ``split`` or ``dtype`` is not one of the allowed values.

    Examples
    --------
    Needs the files, so not run as a test here:

    >>> from bpframe.datasets import load_fashion_mnist
    >>> X, y = load_fashion_mnist(split="test")  # doctest: +SKIP
    >>> X.shape, X.dtype, y.shape, y.dtype  # doctest: +SKIP
    ((10000, 784), dtype('float32'), (10000,), dtype('int64'))
    """
    check_choice("split", split, _SPLITS)
    folder, source = _fashion_folder(path)
    missing = _missing(folder, split)
    if missing:
        raise DataError(_not_found_message(folder, source, missing))
    X, y = load_mnist_like(folder, split, dtype=dtype)
    if X.shape[1] != 784 or (y.size and int(y.max()) > 9):
        raise DataError(
            f"{folder}: not Fashion-MNIST: expected 28x28 images (784 pixels) and labels 0..9, "
            f"found {X.shape[1]} pixels and labels up to {int(y.max()) if y.size else None}"
        )
    return X, y


def _not_found_message(folder: Path, source: str, missing: list[str]) -> str:
    """Say which Fashion-MNIST files are missing where, and every way to get them."""
    return (
        f"Fashion-MNIST files not found: no {' and no '.join(missing)} in {folder} ({source}). To get them: "
        f"on Debian or Ubuntu run `apt-get install dataset-fashion-mnist` (installs them in "
        f"{FASHION_MNIST_SYSTEM_DIR}, found automatically); or download the four files "
        f"train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz and "
        f"t10k-labels-idx1-ubyte.gz from {_URL} and pass path= to their folder "
        f"or set {FASHION_MNIST_ENV} to it."
    )
