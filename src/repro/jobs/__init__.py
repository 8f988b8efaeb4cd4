"""Training jobs as a layer of their own: ``python -m repro.jobs plan|run``.

* :mod:`repro.jobs.spec`: the :class:`Job` (a trainer plus its arguments), its lock and done marker.
* :mod:`repro.jobs.local`: N worker processes on this machine, one torch thread each by default.
* :mod:`repro.jobs.ray_backend`: the same jobs as Ray tasks on a cluster sharing ``REPRO_CACHE_DIR``.
* :mod:`repro.jobs.cli`: the command line (``plan`` lists jobs with their estimated cost, ``run`` trains them).
"""

from repro.jobs.spec import Job, JobBusy, status

__all__ = ["Job", "JobBusy", "status"]
