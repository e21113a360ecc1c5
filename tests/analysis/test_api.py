"""The package's public API."""

from __future__ import annotations

import falco_lab.analysis as analysis


def test_every_exported_name_exists():
    missing = [name for name in analysis.__all__ if not hasattr(analysis, name)]
    assert missing == []


def test_exports_are_unique():
    assert len(set(analysis.__all__)) == len(analysis.__all__)
