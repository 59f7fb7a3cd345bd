"""Baseline GNNs for Action100M segment classification (see the models issue).

This package is reserved for the baseline suite; it holds no models yet.
"""

__all__: list[str] = []
