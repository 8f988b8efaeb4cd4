"""Shared machinery of the reproducibility bundle.

The notebooks under ``notebooks/`` tell the story of each paper; this package holds what they share and what
deserves tests, one folder per concept: ``core`` (checks, paths, runtime, the checkpoint cache, the training loop),
``data``, ``channels``, ``coding`` (quantizers, LDPC, classic codecs, VIMCO), ``models``, ``metrics``,
``systems`` (the communication-system protocol and the systems built from the pieces above), ``dna``,
``experiments`` (each paper's settings and training jobs), ``jobs`` (local and Ray workers) and ``bundle``
(profiles, results with provenance, plotting, the claims ledger, the report and the notebook runner).
"""

__version__ = "0.1.0"
