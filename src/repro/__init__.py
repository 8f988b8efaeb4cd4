"""Shared machinery of the reproducibility bundle.

The notebooks under ``notebooks/`` tell the story of each paper; this package holds what they share and what
deserves tests: data loading, channels, quantizers, models, metrics, training with a resumable checkpoint cache,
and the provenance-recording writers of results and figures.
"""

__version__ = "0.1.0"
