"""Shared paths: the repository's traces and test data, found from this file
(the tests run from any working directory)."""

import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
TRACE = REPO / "traces" / "diurnal-test-2d.csv"
TINY_CONFIG = REPO / "tests" / "data" / "tiny.toml"
GOLDEN = REPO / "tests" / "golden"


def qscale_binary():
    """The command-line binary built by `cargo build --release` (or on PATH),
    or None."""
    built = REPO / "target" / "release" / "qscale"
    if built.exists():
        return built
    found = shutil.which("qscale")
    return Path(found) if found else None


@pytest.fixture
def cli():
    binary = qscale_binary()
    if binary is None:
        pytest.skip("the qscale binary is not built (cargo build --release)")
    return binary
