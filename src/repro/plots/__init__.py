"""Every committed figure as a pure function of the tables (and image arrays) a run wrote.

Each paper part declares its figures once, in its module here (:mod:`repro.plots.necst`, ...), with
:func:`repro.plots.registry.figure`: the figure's name (a pattern such as ``figure3_left_{dataset}``), the tables
and arrays it is drawn from (patterns too), what it reproduces, and the function that draws it. A notebook calls
:meth:`repro.bundle.results.Run.draw` after writing the inputs; ``repro replot`` (:mod:`repro.bundle.replot`)
calls the same function on the committed files, so a figure can be restyled in seconds, without a checkpoint, a
dataset or a model.

The modules of this package import only numpy, pandas, matplotlib and the bundle's ground (plotting helpers, the
papers' numbers, seed intervals): they never train or evaluate anything.

Importing a part's module registers its figures; :mod:`repro.plots.catalog` imports every part (what
``repro replot`` and the tests use), so that reading results (the report, the drift checks) stays light.
"""
