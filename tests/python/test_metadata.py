"""test_metadata.py: the installed distribution's metadata (what ``pip show -v pergil`` prints)
is complete and agrees with the repository's LICENSE and the package's version."""

import importlib.metadata
import sys
from pathlib import Path

import pytest

import pergil

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def meta():
    return importlib.metadata.metadata("pergil")


def test_version_matches_the_package(meta):
    assert meta["Version"] == pergil.__version__


def test_license_is_mit_and_ships_its_text(meta):
    assert meta["License-Expression"] == "MIT"
    assert "LICENSE" in (meta.get_all("License-File") or [])
    shipped = [f for f in importlib.metadata.files("pergil") if f.name == "LICENSE"]
    assert len(shipped) == 1
    text = shipped[0].read_text()
    assert text.startswith("MIT License") and "the pergil developers" in text
    assert text == (ROOT / "LICENSE").read_text()


def test_authors_keywords_and_python_versions(meta):
    assert meta["Author"] == "the pergil developers"
    assert "subinterpreters" in meta["Keywords"].split(",")
    assert meta["Requires-Python"] == ">=3.12"
    classifiers = meta.get_all("Classifier")
    assert "Typing :: Typed" in classifiers
    running = f"Programming Language :: Python :: {sys.version_info.major}.{sys.version_info.minor}"
    assert running in classifiers  # every Python the tests run on is declared


def test_changelog_has_this_version():
    changelog = (ROOT / "CHANGELOG.md").read_text()
    assert f"## {pergil.__version__} - " in changelog
    assert "## Unreleased" in changelog
