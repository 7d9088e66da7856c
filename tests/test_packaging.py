"""An installed wheel (not only a checkout) finds models/ and the demo corpus, and installs nothing named `cli`."""

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_wheel_carries_models_and_demo_corpus(tmp_path):
    wheels, site = tmp_path / "wheels", tmp_path / "site"
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q"]
    subprocess.run([*pip, "wheel", str(ROOT), "--no-deps", "--no-build-isolation", "-w", str(wheels)], check=True)
    wheel = next(wheels.glob("miner-*.whl"))
    with zipfile.ZipFile(wheel) as zf:
        names = zf.namelist()
        entry_points = zf.read(next(n for n in names if n.endswith(".dist-info/entry_points.txt"))).decode()
    top_level = {n.split("/")[0] for n in names}
    assert not top_level & {"cli.py", "cli"}, "the wheel installs a top-level `cli` module"
    assert "miner = miner.cli.main:main" in entry_points, entry_points
    subprocess.run([*pip, "install", "--no-deps", "--target", str(site), str(wheel)], check=True)
    code = (
        "import miner.paths as p, miner.cli.main; "
        "assert p.models_dir().is_relative_to(p._PKG), p.models_dir(); "
        "assert (p.models_dir() / 'cleaning.yaml').is_file(); "
        "assert (p.models_dir() / 'noninformative.yaml').is_file(); "
        "assert (p.demo_corpus_dir() / 'sources.yaml').is_file(); "
        "print(p.models_dir())"
    )
    env = dict(os.environ, PYTHONPATH=str(site))
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert str(site) in out.stdout
