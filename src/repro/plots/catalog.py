"""Every paper part's figures, registered: import this module to fill :data:`repro.plots.registry.FIGURES`. The
modules are the parts' own (:data:`repro.parts.PARTS`, each part's ``plots``)."""

import importlib

from repro.parts import PARTS as _PARTS

PARTS = tuple(importlib.import_module(p.plots) for p in _PARTS)
