"""The webtext umbrella command: help, version, unknown commands, missing optional parts."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from webtext import __version__
from webtext.cli import COMMANDS, main, run


def test_help_lists_every_command(capsys):
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    assert all(name in out for name in COMMANDS)


def test_version(capsys):
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"webtext {__version__}"


def test_unknown_command_is_one_line_and_status_2(capsys):
    assert main(["frobnicate"]) == 2
    assert capsys.readouterr().err.startswith("webtext: error: unknown command 'frobnicate'")


def test_a_missing_optional_dependency_names_the_extra(monkeypatch, capsys):
    monkeypatch.setitem(COMMANDS, "estimate", ("webtext.tests_missing_module:main", "x"))

    def missing(name, *a, **k):
        raise ModuleNotFoundError("No module named 'torch'", name="torch")

    monkeypatch.setattr("importlib.import_module", missing)
    assert run("estimate", []) == 2
    assert "pip install 'webtext[train]'" in capsys.readouterr().err


@pytest.mark.slow
@pytest.mark.parametrize("script", ["webtext", "build-corpus", "train-on-shards"])
def test_console_scripts_are_installed(script):
    exe = shutil.which(script, path=str(Path(sys.executable).parent))
    assert exe, f"{script} is not installed next to {sys.executable}"
    out = subprocess.run([exe, "--help"], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0 and "usage" in out.stdout.lower()
