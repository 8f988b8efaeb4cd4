"""The ``repro`` console command: one entry point whose subcommands are the module commands."""

import json
import subprocess
import sys

import pytest

from repro.cli import COMMANDS, main

from .conftest import ROOT


def test_every_subcommand_is_a_module_with_a_main():
    import importlib

    for name, (module, _) in COMMANDS.items():
        assert callable(importlib.import_module(module).main), name


def test_a_subcommand_is_its_module_command(capsys):
    assert main(["jobs", "plan", "--notebook", "01_vae_compression", "--profile", "smoke", "--json"]) == 0
    via_repro = json.loads(capsys.readouterr().out)
    from repro.jobs.cli import main as jobs_main

    assert jobs_main(["plan", "--notebook", "01_vae_compression", "--profile", "smoke", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == via_repro and via_repro


def test_usage_and_unknown_commands(capsys):
    assert main([]) == 2 and "commands:" in capsys.readouterr().out
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    assert all(name in out for name in COMMANDS)
    assert main(["replay"]) == 2
    assert "unknown command 'replay'; valid commands: run, jobs, replot, report, site, drift" in capsys.readouterr().err


@pytest.mark.skipif(not (ROOT / ".venv" / "bin" / "repro").exists(), reason="the console script is installed by "
                    "scripts/setup_env.sh (pip install -e .)")
def test_the_installed_console_script_runs():
    r = subprocess.run([str(ROOT / ".venv" / "bin" / "repro"), "--help"], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and "usage: repro <command>" in r.stdout
    r = subprocess.run([sys.executable, "-m", "repro.cli", "jobs", "--help"], capture_output=True, text=True,
                       timeout=120, cwd=ROOT)
    assert r.returncode == 0 and "plan" in r.stdout
