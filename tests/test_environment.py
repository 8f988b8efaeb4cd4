"""requirements.txt (pip) and environment.yml (conda) describe the same pinned environment."""

import re

from .conftest import ROOT


def pins(lines):
    out = {}
    for line in lines:
        line = line.split("#")[0].strip().lstrip("- ").strip()
        m = re.fullmatch(r"([A-Za-z0-9_.\-]+)\s*==?\s*([0-9][^\s]*)", line)
        if m:
            out[m.group(1).lower()] = m.group(2)
    return out


def test_pip_and_conda_pins_agree():
    req = pins((ROOT / "requirements.txt").read_text().splitlines())
    env_text = (ROOT / "environment.yml").read_text()
    pip_section = env_text.split("- pip:")[1]
    conda_section = env_text.split("- pip:")[0].split("dependencies:")[1]
    env = {**pins(conda_section.splitlines()), **pins(pip_section.splitlines())}
    env.pop("python", None)
    env.pop("pip", None)
    assert req, "requirements.txt pins nothing"
    assert env == req
    assert re.search(r"python\s*=\s*3\.11", env_text)
