import sys

from repro.jobs.cli import main

sys.exit(main())
