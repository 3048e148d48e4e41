"""Tests of bpframe.datasets._mnist: MNIST-style folders written here, and the real Fashion-MNIST when installed."""

from __future__ import annotations

import doctest
import gzip
import struct
from pathlib import Path

import numpy as np
import pytest

from bpframe.datasets import FASHION_MNIST_CLASSES, _mnist, load_fashion_mnist, load_mnist_like
from bpframe.errors import ConfigurationError, DataError

ENV = "BPFRAME_FASHION_MNIST_DIR"
DEBIAN_DIR = Path("/usr/share/datasets/fashion-mnist")
STANDARD = ["train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"]


def idx_u8(array: np.ndarray) -> bytes:
    """Encode a uint8 array as IDX (type code 0x08), written from the specification."""
    return bytes([0, 0, 0x08, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape) + array.tobytes()


def fake_images(n: int, seed: int, side: int = 28) -> np.ndarray:
    """Deterministic uint8 images that include 0 and 255."""
    images = np.random.default_rng(seed).integers(0, 256, size=(n, side, side), dtype=np.uint8)
    images[0, 0, 0], images[0, 0, 1] = 0, 255
    return images


def make_folder(folder: Path, *, compress: bool = True, n_train: int = 7, n_test: int = 3, side: int = 28) -> dict:
    """Write the four standard files to ``folder`` and return the arrays written."""
    folder.mkdir(parents=True, exist_ok=True)
    arrays = {
        "train-images-idx3-ubyte": fake_images(n_train, 1, side),
        "train-labels-idx1-ubyte": (np.arange(n_train) % 10).astype(np.uint8),
        "t10k-images-idx3-ubyte": fake_images(n_test, 2, side),
        "t10k-labels-idx1-ubyte": (np.arange(n_test)[::-1] % 10).astype(np.uint8),
    }
    for stem, array in arrays.items():
        name, data = (f"{stem}.gz", gzip.compress(idx_u8(array))) if compress else (stem, idx_u8(array))
        (folder / name).write_bytes(data)
    return arrays


@pytest.fixture(autouse=True)
def _no_env_folder(monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep a developer's own BPFRAME_FASHION_MNIST_DIR out of the tests."""
    monkeypatch.delenv(ENV, raising=False)


@pytest.mark.parametrize("compress", [True, False], ids=["gzip", "plain"])
@pytest.mark.parametrize(("split", "prefix"), [("train", "train"), ("test", "t10k")])
def test_load_mnist_like_scales_and_flattens(tmp_path: Path, compress: bool, split: str, prefix: str) -> None:
    written = make_folder(tmp_path, compress=compress)
    X, y = load_mnist_like(tmp_path, split)
    images = written[f"{prefix}-images-idx3-ubyte"]
    assert X.shape == (len(images), 784) and X.dtype == np.float32
    assert y.dtype == np.int64 and y.tolist() == written[f"{prefix}-labels-idx1-ubyte"].tolist()
    assert np.array_equal(X, (images.reshape(len(images), 784) / np.float32(255)).astype(np.float32))
    assert X[0, 0] == 0.0 and X[0, 1] == 1.0


def test_load_mnist_like_float64_and_other_image_sizes(tmp_path: Path) -> None:
    written = make_folder(tmp_path, side=5)
    X, _ = load_mnist_like(str(tmp_path), "train", dtype="float64")
    assert X.shape == (7, 25) and X.dtype == np.float64
    assert np.array_equal(X * 255, written["train-images-idx3-ubyte"].reshape(7, 25))


def test_plain_file_is_preferred_over_gzip(tmp_path: Path) -> None:
    make_folder(tmp_path, compress=True)
    labels = np.full(7, 9, dtype=np.uint8)
    (tmp_path / "train-labels-idx1-ubyte").write_bytes(idx_u8(labels))
    _, y = load_mnist_like(tmp_path, "train")
    assert y.tolist() == [9] * 7


def test_missing_files_are_listed(tmp_path: Path) -> None:
    make_folder(tmp_path)
    (tmp_path / "t10k-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(DataError) as info:
        load_mnist_like(tmp_path, "test")
    message = str(info.value)
    assert message.startswith(f"{tmp_path}: missing t10k-labels-idx1-ubyte[.gz]; an MNIST-style folder holds ")
    assert all(f"{stem}[.gz]" in message for stem in STANDARD)
    assert load_mnist_like(tmp_path, "train")[0].shape == (7, 784)  # the other split is still fine


def test_count_mismatch_names_both_files(tmp_path: Path) -> None:
    make_folder(tmp_path, compress=False)
    (tmp_path / "train-labels-idx1-ubyte").write_bytes(idx_u8(np.zeros(6, dtype=np.uint8)))
    with pytest.raises(DataError) as info:
        load_mnist_like(tmp_path, "train")
    assert str(info.value) == (
        f"image and label counts differ: {tmp_path / 'train-images-idx3-ubyte'} holds 7 images, "
        f"{tmp_path / 'train-labels-idx1-ubyte'} holds 6 labels"
    )


@pytest.mark.parametrize(
    ("images", "labels"),
    [
        (np.zeros((0, 28, 28), dtype=np.uint8), np.zeros(0, dtype=np.uint8)),
        (np.zeros((0, 28, 28), dtype=np.uint8), np.zeros(7, dtype=np.uint8)),
        (np.zeros((7, 0, 28), dtype=np.uint8), np.zeros(7, dtype=np.uint8)),
        (np.zeros((7, 28, 0), dtype=np.uint8), np.zeros(7, dtype=np.uint8)),
    ],
    ids=["no-images-no-labels", "no-images", "no-rows", "no-columns"],
)
def test_a_file_without_images_is_a_data_error_naming_it(tmp_path: Path, images, labels) -> None:
    make_folder(tmp_path, compress=False)
    (tmp_path / "train-images-idx3-ubyte").write_bytes(idx_u8(images))
    (tmp_path / "train-labels-idx1-ubyte").write_bytes(idx_u8(labels))
    with pytest.raises(DataError) as info:
        load_mnist_like(tmp_path, "train")
    assert str(info.value) == (
        f"{tmp_path / 'train-images-idx3-ubyte'}: holds no images: its IDX header declares shape {images.shape}, "
        "and an MNIST-style file holds at least one image of at least one pixel"
    )


@pytest.mark.parametrize("stem", ["t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"])
@pytest.mark.parametrize("keep", [0, 3, 9, -1])
def test_truncated_files_are_data_errors_naming_them(tmp_path: Path, stem: str, keep: int) -> None:
    make_folder(tmp_path, compress=False)
    path = tmp_path / stem
    data = path.read_bytes()
    path.write_bytes(data[: keep if keep >= 0 else len(data) + keep])
    with pytest.raises(DataError, match=rf"^{path}: truncated IDX (header|data): "):
        load_mnist_like(tmp_path, "test")


def test_images_must_be_3d_uint8(tmp_path: Path) -> None:
    make_folder(tmp_path, compress=False)
    (tmp_path / "train-images-idx3-ubyte").write_bytes(idx_u8(np.zeros((7, 784), dtype=np.uint8)))
    with pytest.raises(DataError) as info:
        load_mnist_like(tmp_path, "train")
    assert str(info.value) == (
        f"{tmp_path / 'train-images-idx3-ubyte'}: expected images as a 3-D uint8 IDX array (n, rows, columns), "
        "found shape (7, 784) of uint8"
    )


def test_labels_must_be_1d_uint8(tmp_path: Path) -> None:
    make_folder(tmp_path, compress=False)
    int32_labels = bytes([0, 0, 0x0C, 1]) + struct.pack(">I", 7) + np.arange(7, dtype=">i4").tobytes()
    (tmp_path / "train-labels-idx1-ubyte").write_bytes(int32_labels)
    with pytest.raises(DataError) as info:
        load_mnist_like(tmp_path, "train")
    assert str(info.value) == (
        f"{tmp_path / 'train-labels-idx1-ubyte'}: expected labels as a 1-D uint8 IDX array (n,), "
        "found shape (7,) of int32"
    )


def test_damaged_file_error_passes_through(tmp_path: Path) -> None:
    make_folder(tmp_path, compress=False)
    path = tmp_path / "t10k-images-idx3-ubyte"
    path.write_bytes(path.read_bytes()[:-5])
    with pytest.raises(DataError, match=rf"^{path}: truncated IDX data: "):
        load_mnist_like(tmp_path, "test")


@pytest.mark.parametrize("loader", [load_mnist_like, load_fashion_mnist])
def test_bad_split_is_named(tmp_path: Path, loader: object) -> None:
    make_folder(tmp_path)
    with pytest.raises(ConfigurationError, match=r"^split must be one of 'train', 'test'; got 'all'$"):
        loader(tmp_path, split="all")  # type: ignore[operator]


def test_bad_dtype_is_named(tmp_path: Path) -> None:
    make_folder(tmp_path)
    with pytest.raises(ConfigurationError, match=r"^dtype must be one of 'float32', 'float64'; got 'uint8'$"):
        load_fashion_mnist(tmp_path, dtype="uint8")


# --- Fashion-MNIST: where it is looked for ------------------------------------------------------------------


def test_fashion_from_path(tmp_path: Path) -> None:
    written = make_folder(tmp_path / "fm")
    X, y = load_fashion_mnist(tmp_path / "fm", split="test", dtype="float64")
    assert X.shape == (3, 784) and X.dtype == np.float64
    assert y.tolist() == written["t10k-labels-idx1-ubyte"].tolist()


def test_fashion_from_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    make_folder(tmp_path / "fm")
    monkeypatch.setenv(ENV, str(tmp_path / "fm"))
    monkeypatch.setattr(_mnist, "FASHION_MNIST_SYSTEM_DIR", str(tmp_path / "not-used"))
    assert load_fashion_mnist()[0].shape == (7, 784)


def test_fashion_from_system_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    make_folder(tmp_path / "system")
    monkeypatch.setattr(_mnist, "FASHION_MNIST_SYSTEM_DIR", str(tmp_path / "system"))
    assert load_fashion_mnist(split="test")[0].shape == (3, 784)


def test_path_wins_over_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    make_folder(tmp_path / "given", n_train=4)
    make_folder(tmp_path / "env", n_train=5)
    monkeypatch.setenv(ENV, str(tmp_path / "env"))
    assert len(load_fashion_mnist(tmp_path / "given")[1]) == 4


def _how_to_get_them() -> str:
    return (
        "To get them: on Debian or Ubuntu run `apt-get install dataset-fashion-mnist` (installs them in "
        "/usr/share/datasets/fashion-mnist, found automatically); or download the four files "
        "train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz and "
        "t10k-labels-idx1-ubyte.gz from https://github.com/zalandoresearch/fashion-mnist and pass path= to their "
        "folder or set BPFRAME_FASHION_MNIST_DIR to it."
    )


def test_not_found_with_path(tmp_path: Path) -> None:
    with pytest.raises(DataError) as info:
        load_fashion_mnist(tmp_path / "nowhere")
    assert str(info.value) == (
        "Fashion-MNIST files not found: no train-images-idx3-ubyte[.gz] and no train-labels-idx1-ubyte[.gz] "
        f"in {tmp_path / 'nowhere'} (given as path=). " + _how_to_get_them()
    )


def test_not_found_with_environment_names_the_variable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    make_folder(tmp_path)
    (tmp_path / "t10k-images-idx3-ubyte.gz").unlink()
    monkeypatch.setenv(ENV, str(tmp_path))
    with pytest.raises(DataError) as info:
        load_fashion_mnist(split="test")
    assert str(info.value).startswith(
        f"Fashion-MNIST files not found: no t10k-images-idx3-ubyte[.gz] in {tmp_path} (from {ENV}). To get them: "
    )


def test_not_found_in_system_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_mnist, "FASHION_MNIST_SYSTEM_DIR", str(tmp_path / "absent"))
    with pytest.raises(DataError) as info:
        load_fashion_mnist()
    message = str(info.value)
    assert f"in {tmp_path / 'absent'} (where the Debian package dataset-fashion-mnist installs them). " in message
    assert "To get them: on Debian or Ubuntu run `apt-get install dataset-fashion-mnist`" in message
    assert "pass path= to their folder or set BPFRAME_FASHION_MNIST_DIR to it." in message


def test_fashion_rejects_other_image_sizes_and_labels(tmp_path: Path) -> None:
    make_folder(tmp_path / "small", side=8)
    expected = (
        r"not Fashion-MNIST: expected 28x28 images \(784 pixels\) and labels 0\.\.9, "
        r"found 64 pixels and labels up to 6$"
    )
    with pytest.raises(DataError, match=expected):
        load_fashion_mnist(tmp_path / "small")
    make_folder(tmp_path / "labels", compress=False)
    (tmp_path / "labels" / "train-labels-idx1-ubyte").write_bytes(idx_u8(np.full(7, 10, dtype=np.uint8)))
    with pytest.raises(DataError, match=r"found 784 pixels and labels up to 10$"):
        load_fashion_mnist(tmp_path / "labels")


def test_class_names() -> None:
    assert len(FASHION_MNIST_CLASSES) == 10
    assert FASHION_MNIST_CLASSES[0] == "T-shirt/top" and FASHION_MNIST_CLASSES[9] == "Ankle boot"


# --- the real data, when the Debian package is installed ----------------------------------------------------

_INSTALLED = all((DEBIAN_DIR / f"{stem}.gz").is_file() for stem in STANDARD)


@pytest.mark.skipif(
    not _INSTALLED,
    reason=f"Fashion-MNIST is not installed in {DEBIAN_DIR}: `apt-get install dataset-fashion-mnist` to run this",
)
@pytest.mark.parametrize(
    ("split", "n", "first_labels"),
    [("train", 60_000, [9, 0, 0, 3, 0, 2, 7, 2, 5, 5]), ("test", 10_000, [9, 2, 1, 1, 6, 1, 4, 6, 5, 7])],
)
def test_real_fashion_mnist(split: str, n: int, first_labels: list[int]) -> None:
    X, y = load_fashion_mnist(split=split)
    assert X.shape == (n, 784) and X.dtype == np.float32
    assert y.shape == (n,) and y.dtype == np.int64
    assert y[:10].tolist() == first_labels
    assert np.bincount(y).tolist() == [n // 10] * 10
    assert X.min() == 0.0 and X.max() == 1.0
    # Oracle: the fixed-offset reading of the Fashion-MNIST authors' mnist_reader.py (16- and 8-byte headers).
    prefix = "train" if split == "train" else "t10k"
    with gzip.open(DEBIAN_DIR / f"{prefix}-images-idx3-ubyte.gz", "rb") as f:
        pixels = np.frombuffer(f.read(), dtype=np.uint8, offset=16).reshape(n, 784)
    with gzip.open(DEBIAN_DIR / f"{prefix}-labels-idx1-ubyte.gz", "rb") as f:
        labels = np.frombuffer(f.read(), dtype=np.uint8, offset=8)
    assert np.array_equal(y, labels)
    assert np.array_equal(X, pixels.astype(np.float32) / np.float32(255))


def test_docstring_examples_run() -> None:
    result = doctest.testmod(_mnist)
    assert result.failed == 0
