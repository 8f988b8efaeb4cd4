"""The bundle as a browsable site: ``python -m repro.bundle.site`` (or ``bash scripts/site.sh``).

Two steps, both from what is committed, and no notebook is ever executed:

1. :func:`write_sources` writes a Sphinx source tree (MyST markdown and copies of the executed notebooks) into
   ``build/site-src/``:

   - ``index``: the claims ledger (``figures/claims.csv``) as the front page: the counts per standing (final and
     provisional counted separately, never summed), then one row per claim with its verdict and standing, linked
     to the notebook section and the figure that carry its evidence, to the result tables it reads (the ledger's
     ``sources``) and to the claim's detail; the paper's place is the registry's ``where``;
   - ``claims``: every claim in detail (measure, interval, why, rule, evidence);
   - ``rules``: the verdict rules, generated from the ledger's registry (:data:`repro.bundle.claims.RULES`) and the
     constants of :mod:`repro.bundle.verdict` and :mod:`repro.bundle.sanity`, so the site stands alone;
   - ``notebooks/``: one page per committed executed notebook (``notebooks/*.ipynb``), and for the notebooks run
     once per dataset (``figures/<nb>/executed/<dataset>.ipynb``) one page per dataset run; each heading gets a
     label so the ledger can link to it, and the section that writes each artifact (``run.write_table`` /
     ``run.save_figure`` in its code cells) is found from the cells;
   - ``figures/``: every figure of the manifest with its provenance, one page per notebook;
   - ``tables/``: one page per result table (the CSV as written, every cell verbatim, with its provenance from
     ``figures/manifest.json``);
   - ``guide/``: the README's sections, one page each, and ``report``: ``figures/REPORT.md``.

2. :func:`build` runs ``sphinx-build -W`` (MyST-NB with ``nb_execution_mode = "off"``, sphinx-book-theme) into
   ``build/site/``; open ``build/site/index.html``. Sources are rewritten only when they change, so a rebuild
   re-reads only what changed.

Numbers are never typed here: every value shown is read from the committed files (the ledger, the CSVs, the
manifest, the notebooks' stored outputs) or is a constant of the code that decides the verdicts.
"""

from __future__ import annotations

import argparse
import csv
import html
import json
import math
import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from repro.bundle import claims as C
from repro.bundle import sanity as S
from repro.bundle import verdict as V
from repro.bundle.report import _interval, _num
from repro.core.checks import ConfigError
from repro.core.convergence import PLATEAU_REL
from repro.core.paths import repo_root, resolve_path
from repro.plots import catalog  # noqa: F401  (registers every part's figures)
from repro.plots.registry import specs_for

SRC_DIR, OUT_DIR, CACHE_DIR = "build/site-src", "build/site", "build/site-doctrees"
MAX_ROWS = 200  # a table page shows at most this many rows of a CSV (and says so); the file itself is linked
ROOT_TABLES = {  # results files outside the manifest, written by python -m repro.bundle.report
    "claims.csv": "the claims ledger: one row per claim, its verdict and standing",
    "claims_points.csv": "every measured point behind the ledger, with its interval, p-value and sanity notes",
    "sanity_mean_image.csv": "the mean-image baselines of the sanity rules, per dataset, split and unit",
}
HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*$")
WRITES = re.compile(r"(?:write_table|save_figure|write_json)\(\s*[^,()]+,\s*(f?)\"([^\"]+)\"")
WRITES_NAME_FIRST = re.compile(r"write_array\(\s*(f?)\"([^\"]+)\"")
DRAWS = re.compile(r"\.draw\(\s*\w+\.(\w+)")  # run.draw(plots.figure4, ...): a registered figure (repro.plots)
EXECUTED_LINK = re.compile(r"\(\.\./figures/([0-9A-Za-z_]+)/executed/([0-9A-Za-z_]+)\.ipynb\)")
CLAIMS_MD = re.compile(r"`(?:\.\./)?shared/CLAIMS\.md`")
MD_SPECIAL = re.compile(r"([\\`*_\[\]<>|$~{}#])")


def slug(text: str) -> str:
    s = re.sub(r"[^0-9a-z]+", "-", text.lower()).strip("-")
    return s or "section"


def md(text) -> str:
    """``text`` as literal MyST inline text (markdown, HTML, roles and math escaped)."""
    if text is None or (isinstance(text, float) and math.isnan(text)):
        return ""
    return MD_SPECIAL.sub(r"\\\1", str(text)).replace("\n", " ")


def plain(text: str) -> str:
    """A heading as plain text for a link (inline TeX and markup dropped: ``$N_{bit}$`` -> ``N_bit``)."""
    text = re.sub(r"\\v?(?:ar)?epsilon", "ε", str(text))
    return re.sub(r"[$\\{}<>`*]", "", text).strip()


def ref(label: str, text: str) -> str:
    text = plain(text)
    return f"{{ref}}`{text} <{label}>`"


def rel(target: str, page: str) -> str:
    """Relative path from the docname ``page`` to the source file ``target`` (both relative to the source root)."""
    return os.path.relpath(target, os.path.dirname(page) or ".").replace(os.sep, "/")


def table_label(relpath: str) -> str:
    nb, _, name = relpath.rpartition("/")
    return f"tbl-{nb or 'bundle'}-{Path(name).stem}".lower()


def table_doc(relpath: str) -> str:
    nb, _, name = relpath.rpartition("/")
    return f"tables/{nb or 'bundle'}/{Path(name).stem}"


def figure_label(relpath: str) -> str:
    nb, _, name = relpath.rpartition("/")
    return f"fig-{nb}-{Path(name).stem}".lower()


# ------------------------------------------------------------------------------------------ notebooks


@dataclass
class NotebookPage:
    """One committed executed notebook shown as one page."""

    notebook: str
    dataset: str | None
    source: Path
    sections: list[tuple[str, str, int]] = field(default_factory=list)  # (label, heading, level)
    artifacts: dict[str, str] = field(default_factory=dict)  # artifact path -> label of the section writing it

    @property
    def key(self) -> str:
        return self.notebook if self.dataset is None else f"{self.notebook}-{self.dataset}"

    @property
    def docname(self) -> str:
        return (f"notebooks/{self.notebook}" if self.dataset is None
                else f"notebooks/{self.notebook}/{self.dataset}")

    @property
    def title(self) -> str:
        return self.sections[0][1] if self.sections else self.key

    @property
    def top(self) -> str:
        return self.sections[0][0] if self.sections else f"nb-{self.key}".lower()


def notebook_pages(repo: Path) -> list[NotebookPage]:
    """The committed executed notebooks: ``notebooks/NN_name.ipynb``, or each dataset run's executed notebook in
    ``figures/NN_name/executed/`` where the notebook is run once per dataset (the paired notebook then shows only
    the first of those runs)."""
    pages = []
    for paired in sorted((repo / "notebooks").glob("*.ipynb")):
        runs = sorted((repo / "figures" / paired.stem / "executed").glob("*.ipynb"))
        if runs:
            pages += [NotebookPage(paired.stem, r.stem, r) for r in runs]
        else:
            pages.append(NotebookPage(paired.stem, None, paired))
    if not pages:
        raise ConfigError(f"no executed notebooks in {repo / 'notebooks'}")
    return pages


def _source(cell) -> str:
    s = cell.get("source", "")
    return "".join(s) if isinstance(s, list) else s


def _name_matches(name: str, fstring: bool, stem: str, dataset: str | None) -> bool:
    """Does the name a write call gives (``"sweep"``, ``f"figure3_left_{dataset}"``) produce ``stem``? ``{dataset}``
    stands for the run's dataset, any other placeholder for one name part."""
    if not fstring:
        return name == stem
    parts = re.split(r"(\{[^}]*\})", name)
    pattern = "".join(re.escape(dataset) if p == "{dataset}" and dataset else "[^/]+" if p.startswith("{")
                      else re.escape(p) for p in parts)
    return re.fullmatch(pattern, stem) is not None


def drawn_names(notebook: str, code: str) -> list[tuple[str, str]]:
    """``("f", name pattern)`` of every registered figure a cell draws (``run.draw(plots.<function>, ...)``), in
    the form :data:`WRITES` gives, so that a figure drawn by :mod:`repro.plots` is placed like one saved inline."""
    by_function = {spec.draw.__name__: spec.name for spec in specs_for(notebook)}
    return [("f", by_function[fn]) for fn in DRAWS.findall(code) if fn in by_function]


def prepare_notebook(page: NotebookPage, manifest: dict, pages: list[NotebookPage]) -> dict:
    """The page's notebook with a label before each heading, links between dataset runs and to the rules made
    site links, and the run's dataset in its title; fills ``page.sections`` and ``page.artifacts``."""
    nb = json.loads(page.source.read_text())
    by_key = {(p.notebook, p.dataset): p for p in pages}
    ours = {path: meta for path, meta in manifest.items() if meta["notebook"] == page.notebook
            and (page.dataset is None or (meta.get("params") or {}).get("dataset") == page.dataset)}
    used, current, code = set(), None, []
    page.sections, page.artifacts = [], {}
    for cell in nb["cells"]:
        text = _source(cell)
        if cell["cell_type"] == "markdown":
            out, fence = [], False
            for line in text.split("\n"):
                if line.lstrip().startswith(("```", "~~~")):
                    fence = not fence
                m = None if fence else HEADING.match(line)
                if m:
                    heading = m.group(2)
                    if not page.sections and page.dataset is not None:
                        heading = f"{heading} (dataset run: {page.dataset})"
                        line = f"{m.group(1)} {heading}"
                    label = base = f"nb-{page.key}-{slug(heading)}".lower()
                    n = 2
                    while label in used:
                        label, n = f"{base}-{n}", n + 1
                    used.add(label)
                    page.sections.append((label, heading, len(m.group(1))))
                    current = label
                    if out and out[-1].strip():
                        out.append("")
                    out.append(f"({label})=")
                out.append(line)
            text = "\n".join(out)
            text = EXECUTED_LINK.sub(lambda m: f"({_run_link(m, page, by_key)})", text)
            text = CLAIMS_MD.sub(f"[the verdict rules]({rel('rules.md', page.docname)})", text)
            cell["source"] = text
        elif cell["cell_type"] == "code" and current is not None:
            code.append((current, text, WRITES.findall(text) + WRITES_NAME_FIRST.findall(text)
                         + drawn_names(page.notebook, text)))
    # the section whose code writes the artifact by name (f-string names matched as patterns), else the one
    # whose write call carries the artifact's `reproduces` text literally (a name held in a variable)
    for path in ours:
        stem, dataset = Path(path).stem, (ours[path].get("params") or {}).get("dataset")
        hit = next((label for label, _, names in code
                    if any(_name_matches(n, bool(f), stem, dataset) for f, n in names)), None)
        if hit is None:
            call = "save_figure" if ours[path]["kind"] == "figure" else "write_"
            hit = next((label for label, text, _ in code
                        if call in text and f'"{ours[path]["reproduces"]}"' in text), None)
        if hit is not None:
            page.artifacts[path] = hit
    return nb


def _run_link(m: re.Match, page: NotebookPage, by_key: dict) -> str:
    target = by_key.get((m.group(1), m.group(2)))
    if target is None:
        raise ConfigError(f"{page.source} links to figures/{m.group(1)}/executed/{m.group(2)}.ipynb, which is not "
                          "committed")
    return rel(target.docname + ".ipynb", page.docname)


# ------------------------------------------------------------------------------------------ the site


@dataclass
class Site:
    """Everything the pages are drawn from, read once from the repository."""

    repo: Path
    figures: Path
    manifest: dict
    ledger: pd.DataFrame
    pages: list[NotebookPage]
    notebooks: dict[str, dict] = field(default_factory=dict)  # docname -> prepared notebook JSON

    @classmethod
    def read(cls, repo: Path | None = None) -> Site:
        repo = Path(repo or repo_root())
        figures = repo / "figures"
        for need in ("claims.csv", "manifest.json"):
            if not (figures / need).exists():
                raise ConfigError(f"{figures / need} is missing: the site is built from the committed results "
                                  "(run python -m repro.bundle.report after the notebooks)")
        manifest = json.loads((figures / "manifest.json").read_text())["artifacts"]
        ledger = pd.read_csv(figures / "claims.csv", keep_default_na=False, na_values=[""])
        site = cls(repo, figures, manifest, ledger, notebook_pages(repo))
        for page in site.pages:
            site.notebooks[page.docname] = prepare_notebook(page, manifest, site.pages)
        return site

    # --- where an artifact or a claim's evidence is shown

    def page_of(self, notebook: str, dataset: str | None) -> NotebookPage | None:
        for p in self.pages:
            if p.notebook == notebook and (p.dataset is None or p.dataset == dataset):
                return p
        return None

    def section_of(self, artifact: str) -> tuple[NotebookPage, str, str] | None:
        """(page, label, heading) of the notebook section that writes ``artifact``."""
        for p in self.pages:
            if artifact in p.artifacts:
                label = p.artifacts[artifact]
                return p, label, next(h for lab, h, _ in p.sections if lab == label)
        return None

    def claim_section(self, row) -> tuple[NotebookPage, str, str] | None:
        for art in [s for s in str(row.sources or "").split(";") if s] + list(C.FIGURES[row.claim_id]):
            found = self.section_of(art)
            if found:
                return found
        page = self.page_of(row.notebook, None) or next((p for p in self.pages if p.notebook == row.notebook),
                                                        None)
        return (page, page.top, page.title) if page else None

    def tables(self) -> list[str]:
        """Every result table: the manifest's tables and comparisons, then the ledger's own files."""
        out = [p for p, m in self.manifest.items() if m["kind"] in ("table", "comparison")]
        return out + [name for name in ROOT_TABLES if (self.figures / name).exists()]

    def figure_files(self) -> list[str]:
        return [p for p, m in self.manifest.items() if m["kind"] == "figure" and p.endswith(".png")]

    def claims_citing(self, artifact: str) -> list[str]:
        out = [r.claim_id for r in self.ledger.itertuples() if artifact in str(r.sources or "").split(";")]
        return out + [c for c, figs in C.FIGURES.items() if artifact in figs and c not in out]


def _where_written(site: Site, artifact: str, page: str) -> str:
    found = site.section_of(artifact)
    if not found:
        return "not found in the committed executed notebooks"
    nb_page, label, heading = found
    run = f" (run on `{nb_page.dataset}`)" if nb_page.dataset else ""
    return f"{ref(label, f'{nb_page.notebook}: {heading}')}{run}"


def _claim_links(ids: list[str]) -> str:
    return ", ".join(ref(f"claim-{i}", i) for i in ids) or "none"


def _provenance(site: Site, artifact: str, page: str) -> list[str]:
    meta = site.manifest[artifact]
    lines = [f"- **reproduces**: {md(meta['reproduces'])}",
             f"- **notebook**: `{meta['notebook']}`; written in {_where_written(site, artifact, page)}",
             f"- **profile** `{meta['profile']}`, **seeds** {md(meta['seeds'])}, **commit** `{meta['commit']}`, "
             f"**date** {md(meta['date'])}",
             f"- **evidence for**: {_claim_links(site.claims_citing(artifact))}"]
    return lines


# ------------------------------------------------------------------------------------------ pages


def counts_table(led: pd.DataFrame) -> list[str]:
    lines = ["| standing | claims | " + " | ".join(C.VERDICTS) + " |", "|---|---|" + "---|" * len(C.VERDICTS)]
    for st in C.STANDINGS:
        part = led[led.standing == st]
        vc = part.verdict.value_counts()
        lines.append(f"| **{st}** | {len(part)} | " + " | ".join(str(vc.get(v, 0)) for v in C.VERDICTS) + " |")
    return lines


def evidence_cell(site: Site, row, page: str) -> str:
    parts = []
    sec = site.claim_section(row)
    if sec:
        nb_page, label, heading = sec
        parts.append(ref(label, f"{nb_page.key} § {heading}"))
    parts += [ref(figure_label(f), f"figure {Path(f).stem}") for f in C.FIGURES[row.claim_id]
              if f in site.manifest]
    parts += [ref(table_label(s), f"table {Path(s).stem}") for s in str(row.sources or "").split(";")
              if s in site.manifest]
    return " · ".join(parts)


def index_page(site: Site) -> str:
    led = site.ledger
    readme = (site.repo / "README.md").read_text().splitlines()
    title = next((line[2:] for line in readme if line.startswith("# ")), "Reproducibility bundle")
    profile = ", ".join(sorted(set(led.profile.astype(str))))
    commit = ", ".join(sorted(set(led.commit.astype(str))))
    out = [f"# {md(title)}", "",
           f"The claims ledger of the committed results (`figures/claims.csv`, profile `{profile}`, commit "
           f"`{commit}`): one row per claim of the four papers, its verdict computed from the result tables by "
           f"the {ref('rules', 'verdict rules')}. Each row links to the notebook section and the figure that carry "
           "its evidence, to the result tables the verdict reads, and names the paper's place. The pages are the "
           "committed executed notebooks, rendered as they are: nothing here is re-executed.", "",
           "## Verdicts by standing", "",
           "A verdict is *final* when every trained model it rests on converged, else *provisional*. The two are "
           "counted separately and never added up.", ""]
    out += counts_table(led) + ["", "## The ledger", ""]
    out += ["```{table} The claims ledger (figures/claims.csv)", ":name: ledger-table", ":class: ledger", "",
            "| claim | verdict | standing | ours [95 % interval] | paper | evidence | paper's place |",
            "|---|---|---|---|---|---|---|"]
    for r in led.itertuples():
        claim = next(c for c in C.CLAIMS if c.id == r.claim_id)
        out.append(f"| {ref('claim-' + r.claim_id, r.claim_id)}: {md(r.statement)} | **{r.verdict}** | "
                   f"{r.standing} | {md(_interval(r))} | {md(_num(r.paper_value))} | "
                   f"{evidence_cell(site, r, 'index')} | {md(C.PAPERS[claim.paper])}: {md(claim.where)} |")
    out += ["```", "", "```{toctree}", ":hidden:", ":caption: Claims", "", "claims", "rules", "report", "```", "",
            "```{toctree}", ":hidden:", ":caption: Notebooks", ""]
    out += [f"notebooks/{nb}" if not any(p.dataset for p in site.pages if p.notebook == nb)
            else f"notebooks/{nb}/index" for nb in dict.fromkeys(p.notebook for p in site.pages)]
    out += ["```", "", "```{toctree}", ":hidden:", ":caption: Figures and tables", ""]
    out += [f"figures/{nb}" for nb in _figure_notebooks(site)] + ["tables/index", "```", "",
                                                                   "```{toctree}", ":hidden:",
                                                                   ":caption: Using the bundle", ""]
    out += [f"guide/{name}" for name, _ in readme_sections(site.repo)] + ["```", ""]
    return "\n".join(out)


def claims_page(site: Site) -> str:
    out = ["(claims)=", "# The ledger, claim by claim", "",
           "Every row of `figures/claims.csv` in full: what was measured, the interval, the verdict and its "
           f"standing, the reason (`why`), the {ref('rules', 'rule')} that decides it and where its evidence is.",
           ""]
    for paper, title in C.PAPERS.items():
        out += [f"## {md(title)}", ""]
        for r in site.ledger[site.ledger.paper == paper].itertuples():
            claim = next(c for c in C.CLAIMS if c.id == r.claim_id)
            out += [f"(claim-{r.claim_id})=", f"### `{r.claim_id}`", "", f"*{md(r.statement)}*", "",
                    f"- **verdict** **{r.verdict}**, **standing** {r.standing}",
                    f"- **paper's place**: {md(C.PAPERS[paper])}, {md(claim.where)}; paper's value "
                    f"{md(_num(r.paper_value)) or 'none stated'}",
                    f"- **measure**: {md(r.measure)}",
                    f"- **ours [95 % interval]**: {md(_interval(r)) or 'not measured'} ({md(r.uncertainty)}; "
                    f"{md(r.n_seeds)} seed(s))",
                    f"- **compute fraction**: {md(_num(r.compute_fraction, 2)) or 'not stated'}; **converged**: "
                    f"{md(r.converged) or 'not applicable'}; **sanity ok**: {md(r.sanity_ok) or 'not assessed'}",
                    f"- **rule**: {md(C.RULES[r.claim_id])}",
                    f"- **evidence**: {evidence_cell(site, r, 'claims') or 'none written yet'}",
                    "", f"**Why.** {md(r.why)}", ""]
    return "\n".join(out)


def mean_image_lines(site: Site) -> list[str]:
    path = site.figures / C.BASELINES_CSV
    if not path.exists():
        return []
    d = pd.read_csv(path)
    d = d[d.unit == "l2_per_image"]
    return [", ".join(f"{r.dataset} {r.value:.1f}" for r in d.itertuples())]


def rules_page(site: Site) -> str:
    """The verdict rules, in this project's words, from the code that applies them."""
    level, alpha = int(V.LEVEL * 100), V.ALPHA
    mean_images = mean_image_lines(site)
    out = ["(rules)=", "# The verdict rules", "",
           "These rules were fixed before the runs that test them, and the code applies them as written "
           "(`src/repro/bundle/verdict.py`, `sanity.py`, `claims.py`). A rule is never tuned after seeing results: "
           "when one proves wrong it is changed in the code first, with its reason, and every verdict is "
           "recomputed by `python -m repro.bundle.report`. This page is generated from that code.", "",
           "## Verdicts", "",
           f"- **{C.VERDICTS[0]}** / **{C.VERDICTS[1]}**: the {level} % interval of the effect (signed so that "
           "positive is the direction the paper claims) lies on one side of zero, and every model it rests on "
           "passes the sanity rules.",
           f"- **{C.VERDICTS[2]}**: the interval crosses zero.",
           f"- **{C.VERDICTS[3]}**: there is no evidence the rules accept (no interval, too few seeds or repeats, a "
           "sanity rule failed, or the results file is not written); the row's `why` says what would test it.",
           "- Verdicts are computed from the result tables, never typed.", "",
           "## Standing", "",
           "- **final**: every trained model the verdict rests on converged; **provisional** otherwise. Final and "
           "provisional verdicts are counted separately and never added up.",
           f"- A trained model has **converged** when any one holds: its test distortion is within "
           f"{V.WITHIN_PAPER:.0%} of the paper's own number for that model and setting; its validation distortion "
           f"improved by less than {PLATEAU_REL:.0%} (relative) over the last quarter of its epochs; it had at "
           f"least {V.HALF_THE_PAPER} of the paper's training (`compute_fraction`, image passes used over the "
           "paper's).",
           "- Untrained artefacts (codecs, sizes of a quantized code, decoders timed without training, code-level "
           "facts) are final by nature: " + ", ".join(ref(f"claim-{c}", c) for c in C.CLAIM_IDS
                                                       if c in C.UNTRAINED) + ".", "",
           "## Intervals and tests", "",
           f"- Effects are differences of means, paired by seed where the systems share seeds, with a {level} % "
           "two-sided Student t-interval over seeds (at least 3 seeds for a verdict on trained models). "
           "Proportions use a Clopper-Pearson or a two-proportion interval. A bootstrap over test images is used "
           "only for claims about one fixed, untrained artefact.",
           f"- **Multi-point rule.** A claim over several points (every eps, each SNR, every bandwidth, each "
           f"classifier) is decided by Holm-corrected tests at a family-wise {alpha:.0%}: it holds when every point "
           "is significant in the claimed direction, fails when at least one is significant against it, and is "
           "inconclusive otherwise. Claims worded \"most\" use the rule given with them below.", "",
           "## Sanity rules", "",
           "- **The mean image** `M`: the distortion of always outputting the training-set mean image, computed "
           "from the data in each table's own unit (`figures/sanity_mean_image.csv`"
           + (f"; per image: {mean_images[0]}" if mean_images else "") + "). For wrong-pixel or wrong-bit "
           "fractions it is the error of the best constant output.",
           f"- **S1, it works**: every trained system a verdict uses is below {S.CLEARLY_BELOW} `M` at its least "
           "noisy point (eps 0, the highest SNR, the largest bandwidth); a system that fails S1 makes the verdict "
           "untested.",
           "- **S2, never worse than trivial**: at every point a system is credited with min(its distortion, `M`), "
           "since a decoder that outputs the mean image is always available; points where the system the claim "
           "favours is itself at or above `M` carry no information and are excluded (the row lists them).",
           f"- **S3, message dependence** (generative decoders, Markov chains): the distortion to the source image "
           f"is below {S.S3_FACTOR} times the distortion to a random other test image.",
           "- Variants, hyperparameters and epochs are chosen on the validation split, never on the test split.",
           ""]
    for paper, title in C.PAPERS.items():
        out += [f"## {md(title)}", "", "| claim | statement | rule | paper's place | final by nature |",
                "|---|---|---|---|---|"]
        for c in C.CLAIMS:
            if c.paper == paper:
                out.append(f"| {ref('claim-' + c.id, c.id)} | {md(c.statement)} | {md(C.RULES[c.id])} | "
                           f"{md(c.where)} | {'yes' if c.id in C.UNTRAINED else ''} |")
        out.append("")
    return "\n".join(out)


def _figure_notebooks(site: Site) -> list[str]:
    return list(dict.fromkeys(site.manifest[f]["notebook"] for f in site.figure_files()))


def figures_page(site: Site, notebook: str) -> str:
    doc = f"figures/{notebook}"
    out = [f"(figures-{notebook.lower()})=", f"# Figures of {notebook}", "",
           f"Every figure notebook `{notebook}` wrote (PNG; the PDF beside it), with its provenance from "
           "`figures/manifest.json`.", ""]
    for f in site.figure_files():
        meta = site.manifest[f]
        if meta["notebook"] != notebook:
            continue
        name = Path(f).name
        out += [f"({figure_label(f)})=", f"## {md(meta['reproduces'])}: `{name}`", "",
                f"![{md(meta['description'])}]({rel('_artifacts/' + f, doc)})", "",
                f"*{md(meta['description'])}*", ""] + _provenance(site, f, doc)
        pdf = f[:-4] + ".pdf"
        if pdf in site.manifest:
            out.append(f"- **PDF**: {{download}}`{Path(pdf).name} <{rel('_artifacts/' + pdf, doc)}>`")
        out.append("")
    return "\n".join(out)


def _read_csv_cells(path: Path) -> tuple[list[str], list[list[str]]]:
    with path.open(newline="") as fh:
        rows = list(csv.reader(fh))
    return (rows[0], rows[1:]) if rows else ([], [])


def html_table(header: list[str], rows: list[list[str]]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>" for row in rows)
    return (f'<div class="csv-table"><table class="table csv"><thead><tr>{head}</tr></thead>'
            f"<tbody>{body}</tbody></table></div>")


def table_page(site: Site, table: str) -> str:
    doc = table_doc(table)
    header, rows = _read_csv_cells(site.figures / table)
    nb = table.rpartition("/")[0]
    out = [f"({table_label(table)})=", f"# Table `{Path(table).name}`" + (f" ({nb})" if nb else ""), ""]
    if table in site.manifest:
        meta = site.manifest[table]
        out += [f"*{md(meta['description'])}*", "", f"- **kind**: {meta['kind']}"] + _provenance(site, table, doc)
        params = meta.get("params")
    else:
        profiles = sorted({r[header.index("profile")] for r in rows}) if "profile" in header else []
        commits = sorted({r[header.index("commit")] for r in rows}) if "commit" in header else []
        out += [f"*{md(ROOT_TABLES[Path(table).name])}*", "",
                "- **written by**: `python -m repro.bundle.report` (not a notebook, so not in the manifest)",
                f"- **profile** {md(', '.join(profiles)) or 'n/a'}, **commit** {md(', '.join(commits)) or 'n/a'}"]
        params = None
    shown = rows[:MAX_ROWS]
    note = (f"all {len(rows)} rows" if len(rows) <= MAX_ROWS
            else f"the first {MAX_ROWS} of {len(rows)} rows")
    out += [f"- **file**: {{download}}`{Path(table).name} <{rel('_artifacts/' + table, doc)}>` "
            f"({len(header)} columns, {len(rows)} rows)", "", f"## The table ({note}, every cell as written)", "",
            "```{raw} html", html_table(header, shown), "```", ""]
    if params:
        body = ",\n".join(f" {json.dumps(k)}: {json.dumps(v)}" for k, v in params.items())
        out += ["## Parameters of the run that wrote it", "", "```json", "{\n" + body + "\n}", "```", ""]
    return "\n".join(out)


def tables_index(site: Site) -> list[tuple[str, str]]:
    """(docname, text) of the tables' index pages: one overall, one per notebook (with its run metadata)."""
    groups: dict[str, list[str]] = {}
    for t in site.tables():
        groups.setdefault(t.rpartition("/")[0] or "bundle", []).append(t)
    top = ["(tables)=", "# Result tables", "",
           "Every CSV the notebooks wrote (`figures/<notebook>/`, listed in `figures/manifest.json`) and the ledger's "
           "own files, one page each: the file as written, with its provenance.", "", "```{toctree}",
           ":maxdepth: 1", ""] + [f"{g}/index" for g in groups] + ["```", ""]
    docs = [("tables/index", "\n".join(top))]
    for g, tables in groups.items():
        what = "the claims ledger and its baselines" if g == "bundle" else f"notebook `{g}`"
        lines = [f"# Tables of {what}", "", "| table | reproduces | description |", "|---|---|---|"]
        for t in tables:
            meta = site.manifest.get(t, {})
            lines.append(f"| {ref(table_label(t), Path(t).name)} | {md(meta.get('reproduces', ''))} | "
                         f"{md(meta.get('description', ROOT_TABLES.get(Path(t).name, '')))} |")
        runs = [p for p, m in site.manifest.items() if m["kind"] == "json" and m["notebook"] == g]
        for p in runs:
            lines += ["", f"## Run metadata: `{Path(p).name}`", "", f"*{md(site.manifest[p]['description'])}*", "",
                      "```json", (site.figures / p).read_text().strip(), "```"]
        lines += ["", "```{toctree}", ":hidden:", ""] + [f"{Path(t).name} <{Path(t).stem}>" for t in tables]
        lines += ["```", ""]
        docs.append((f"tables/{g}/index", "\n".join(lines)))
    return docs


def notebook_index(site: Site, notebook: str) -> str:
    runs = [p for p in site.pages if p.notebook == notebook]
    title = re.sub(r"\s*\(dataset run: [^)]*\)$", "", runs[0].title)
    out = [f"# {md(title)}", "",
           f"This notebook runs once per dataset; each run's executed notebook is committed as "
           f"`figures/{notebook}/executed/<dataset>.ipynb` and shown here as it is (the paired "
           f"`notebooks/{notebook}.ipynb` holds the first run). Each run writes these artifacts:", "",
           "| run | artifacts it wrote |", "|---|---|"]
    for p in runs:
        arts = [a for a, m in site.manifest.items() if m["notebook"] == notebook
                and (m.get("params") or {}).get("dataset") == p.dataset and m["kind"] != "json"
                and not a.endswith(".pdf")]
        # arrays (a figure's saved pixels) have no page of their own: named, not linked
        links = [f"`{Path(a).name}`" if site.manifest[a]["kind"] == "array" else
                 ref(table_label(a) if not a.endswith(".png") else figure_label(a), Path(a).name) for a in arts]
        out.append(f"| {{doc}}`{p.dataset} <{p.dataset}>` | {', '.join(links) or 'none'} |")
    out += ["", "```{toctree}", ":hidden:", ""] + [f"run on {p.dataset} <{p.dataset}>" for p in runs] + ["```", ""]
    return "\n".join(out)


def readme_sections(repo: Path) -> list[tuple[str, str]]:
    """(name, markdown) for the README's introduction and each of its ``##`` sections, headings lifted one level;
    the generated results section is left out (the front page is the ledger itself)."""
    text = (repo / "README.md").read_text()
    text = re.sub(r"<!-- claims:begin -->.*?<!-- claims:end -->\n?", "", text, flags=re.S)
    parts = re.split(r"^(?=## )", text, flags=re.M)
    out = []
    for i, part in enumerate(parts):
        if i == 0:
            body = re.sub(r"^# .*\n", "", part, count=1)
            out.append(("overview", "# Overview: the notebooks and the papers\n" + body))
            continue
        head = part.splitlines()[0][3:]
        lifted = re.sub(r"^#(#+) ", r"\1 ", part, flags=re.M)
        out.append((slug(head)[:48].rstrip("-"), lifted if lifted.startswith("# ") else f"# {head}\n{lifted}"))
    return out


def _guide_page(text: str) -> str:
    return CLAIMS_MD.sub("[the verdict rules](../rules.md)", text)


def report_page(site: Site) -> str:
    text = (site.figures / "REPORT.md").read_text()
    return CLAIMS_MD.sub("[the verdict rules](rules.md)", text)


CONF = '''\
# Generated by python -m repro.bundle.site; do not edit (build/ is not committed).
project = {project!r}
author = "the bundle's authors"
extensions = ["myst_nb"]
html_theme = "sphinx_book_theme"
html_title = {project!r}
# collapse_navbar: the sidebar expands only the current page's branch (rendering every branch on every page was
# most of the build time); the tables are one level deeper, under their notebook's index
html_theme_options = {{"show_toc_level": 2, "home_page_in_toc": True, "use_download_button": False,
                      "use_fullscreen_button": False, "navigation_with_keys": False, "collapse_navbar": True,
                      "max_navbar_depth": 3, "secondary_sidebar_items": {{"**": ["page-toc"], "index": []}}}}
html_show_sourcelink = False
html_copy_source = False
html_last_updated_fmt = None
html_css_files = ["bundle.css"]
html_static_path = ["_static"]
nb_execution_mode = "off"  # the committed executed notebooks are shown as they are, never re-executed
nb_merge_streams = True
myst_enable_extensions = ["dollarmath", "amsmath"]
myst_heading_anchors = 0
exclude_patterns = ["_artifacts"]
suppress_warnings = ["myst.header"]  # the notebooks' own markdown may skip a heading level
'''
CSS = """\
.bd-page-width { max-width: 100%; }
.bd-main .bd-content .bd-article-container:has(table.ledger) { max-width: 100%; }
table.ledger td, table.ledger th { vertical-align: top; font-size: 0.85em; }
div.csv-table { overflow-x: auto; max-height: 40em; }
table.csv { font-size: 0.8em; border-collapse: collapse; }
table.csv td, table.csv th { border: 1px solid #ddd; padding: 2px 6px; white-space: nowrap; }
"""


def write_sources(site: Site, src: Path) -> list[Path]:
    """Write the Sphinx source tree into ``src`` (only files whose content changed are rewritten; files of an
    earlier build that are no longer part of the site are removed). Returns the files written or kept."""
    src.mkdir(parents=True, exist_ok=True)
    keep: list[Path] = []

    def put(relpath: str, content: str | bytes) -> None:
        path = src / relpath
        data = content.encode() if isinstance(content, str) else content
        if not path.exists() or path.read_bytes() != data:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
        keep.append(path)

    readme_title = next((line[2:] for line in (site.repo / "README.md").read_text().splitlines()
                         if line.startswith("# ")), "Reproducibility bundle")
    project = readme_title.split(":")[0].strip() or "Reproducibility bundle"
    put("conf.py", CONF.format(project=project))
    put("_static/bundle.css", CSS)
    put("index.md", index_page(site))
    put("claims.md", claims_page(site))
    put("rules.md", rules_page(site))
    put("report.md", report_page(site))
    for name, text in readme_sections(site.repo):
        put(f"guide/{name}.md", _guide_page(text))
    for page in site.pages:
        put(page.docname + ".ipynb", json.dumps(site.notebooks[page.docname], indent=1, ensure_ascii=False) + "\n")
    for nb in dict.fromkeys(p.notebook for p in site.pages):
        if any(p.dataset for p in site.pages if p.notebook == nb):
            put(f"notebooks/{nb}/index.md", notebook_index(site, nb))
    for nb in _figure_notebooks(site):
        put(f"figures/{nb}.md", figures_page(site, nb))
    for f in site.figure_files():
        put(f"_artifacts/{f}", (site.figures / f).read_bytes())
        pdf = f[:-4] + ".pdf"
        if pdf in site.manifest:
            put(f"_artifacts/{pdf}", (site.figures / pdf).read_bytes())
    for t in site.tables():
        put(table_doc(t) + ".md", table_page(site, t))
        put(f"_artifacts/{t}", (site.figures / t).read_bytes())
    for docname, text in tables_index(site):
        put(docname + ".md", text)
    kept = set(keep)
    for path in sorted(src.rglob("*"), reverse=True):
        if path.is_file() and path not in kept:
            path.unlink()
        elif path.is_dir() and not any(path.iterdir()):
            path.rmdir()
    return keep


def build(src: Path, out: Path, doctrees: Path, *, jobs: str = "auto", quiet: bool = True) -> float:
    """``sphinx-build -W`` of ``src`` into ``out``; returns the seconds it took. A warning fails the build."""
    cmd = [sys.executable, "-m", "sphinx", "-b", "html", "-W", "--keep-going", "-j", jobs, "-d", str(doctrees),
           str(src), str(out)]
    if quiet:
        cmd.insert(3, "-q")
    t0 = time.perf_counter()
    res = subprocess.run(cmd, env={**os.environ, "PYTHONWARNINGS": "ignore::DeprecationWarning"})
    if res.returncode != 0:
        raise ConfigError(f"sphinx-build failed (exit status {res.returncode}); its messages are above. Sources: "
                          f"{src}")
    return time.perf_counter() - t0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m repro.bundle.site",
                                     description="Build the bundle's site from the committed notebooks and results "
                                                 "(nothing is executed).")
    parser.add_argument("--src-dir", default=SRC_DIR, help=f"where the Sphinx sources go (default {SRC_DIR})")
    parser.add_argument("--out-dir", default=OUT_DIR, help=f"where the HTML goes (default {OUT_DIR})")
    parser.add_argument("--doctree-dir", default=CACHE_DIR, help=f"Sphinx's cache (default {CACHE_DIR})")
    parser.add_argument("--jobs", default="auto", help="sphinx-build -j (default auto)")
    parser.add_argument("--clean", action="store_true", help="remove the sources, cache and output first")
    parser.add_argument("--sources-only", action="store_true", help="write the sources, do not run Sphinx")
    args = parser.parse_args(argv)
    src, out, doctrees = (resolve_path(p) for p in (args.src_dir, args.out_dir, args.doctree_dir))
    if args.clean:
        for d in (src, out, doctrees):
            shutil.rmtree(d, ignore_errors=True)
    t0 = time.perf_counter()
    try:
        site = Site.read()
        files = write_sources(site, src)
        print(f"[site] {len(files)} source files in {src} ({len(site.pages)} notebook pages, {len(site.tables())} "
              f"tables, {len(site.figure_files())} figures)", flush=True)
        if args.sources_only:
            return 0
        build(src, out, doctrees, jobs=args.jobs)
    except ConfigError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(f"[site] built {out / 'index.html'} in {time.perf_counter() - t0:.1f} s", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
