"""``repro``: one command for the bundle (the console entry point of ``pyproject.toml``).

    repro run [options]                 execute the notebooks headlessly    (= python -m repro.bundle.runner)
    repro jobs plan|measure|run [...]   training jobs                       (= python -m repro.jobs)
    repro replot [options]              redraw the figures from the tables  (= python -m repro.bundle.replot)
    repro report [options]              ledger, REPORT.md, README results   (= python -m repro.bundle.report)
    repro site [options]                the static site                     (= python -m repro.bundle.site)
    repro drift [options]               committed results against the code  (= python -m repro.bundle.drift)

Each subcommand hands the rest of the command line to that module's ``main``, so the module commands stay
valid aliases and ``repro <command> --help`` is the module's own help.
"""

from __future__ import annotations

import importlib
import sys

COMMANDS = {
    "run": ("repro.bundle.runner", "execute the notebooks headlessly (papermill), regenerate ledger and report"),
    "jobs": ("repro.jobs.cli", "plan, measure or run the training jobs"),
    "replot": ("repro.bundle.replot", "redraw the committed figures from the committed tables, in seconds"),
    "report": ("repro.bundle.report", "regenerate the claims ledger, REPORT.md and README results from the tables"),
    "site": ("repro.bundle.site", "build the static site from the committed results"),
    "drift": ("repro.bundle.drift", "check the committed results against the code (manifest, ledger, columns)"),
}


def usage() -> str:
    width = max(map(len, COMMANDS))
    lines = [f"  {name:<{width}}  {text}" for name, (_, text) in COMMANDS.items()]
    return "usage: repro <command> [options]\n\ncommands:\n" + "\n".join(lines) + \
        "\n\n`repro <command> --help` shows the command's options."


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help"):
        print(usage())
        return 0 if argv else 2
    command, rest = argv[0], argv[1:]
    if command not in COMMANDS:
        print(f"error: unknown command {command!r}; valid commands: {', '.join(COMMANDS)}", file=sys.stderr)
        return 2
    module = importlib.import_module(COMMANDS[command][0])
    sys.argv = [f"repro {command}", *rest]
    return int(module.main(rest) or 0)


if __name__ == "__main__":
    sys.exit(main())
