import pytest
from typer.testing import CliRunner

import miner.concepts.space

from miner.store import open_db


@pytest.fixture
def db():
    """A fresh in-memory store per test."""
    return open_db(":memory:")


@pytest.fixture
def db_path(tmp_path):
    return tmp_path / "test.db"


@pytest.fixture
def runner():
    return CliRunner()


@pytest.fixture
def write(tmp_path):
    """write(name, text_or_bytes, encoding='utf-8') -> path of a new input file."""

    def _write(name, content, encoding="utf-8"):
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content if isinstance(content, bytes) else content.encode(encoding))
        return path

    return _write


@pytest.fixture(autouse=True, scope="session")
def concept_spaces_in_a_temporary_folder(tmp_path_factory):
    """Concept spaces the tests build are cached in a folder of their own, never in ~/.cache/miner."""
    folder = tmp_path_factory.mktemp("miner-cache")
    original = miner.concepts.space.cache_dir
    miner.concepts.space.cache_dir = lambda: folder
    yield
    miner.concepts.space.cache_dir = original
