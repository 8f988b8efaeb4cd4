"""The site (``python -m repro.bundle.site``): generated from the committed notebooks and results, never executing a
notebook, built warning-free (``sphinx-build -W``), every internal link resolving to a file (and anchor); and shown
in a real browser: headless Chromium (the Debian package) loads the front page and a notebook page from a server on
127.0.0.1, and the screenshots show the ledger table and a figure.

The build (about 50 CPU-seconds from scratch, shared by the tests of this module) runs once per module."""

from __future__ import annotations

import functools
import html
import http.server
import json
import re
import resource
import shutil
import subprocess
import threading
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import numpy as np
import pandas as pd
import pytest
from docutils.nodes import make_id
from PIL import Image

from repro.bundle import claims as C
from repro.bundle import site as S

from .conftest import ROOT

pytest.importorskip("myst_nb", reason="the site needs sphinx, myst-nb and sphinx-book-theme (requirements.txt)")
pytest.importorskip("sphinx_book_theme")

LEDGER = pd.read_csv(ROOT / "figures" / "claims.csv", keep_default_na=False)
NOTEBOOK_PAGE = "notebooks/02_necst/binary_mnist.html"  # a dataset run's executed notebook, with figures
CPU_BUDGET_S = 120  # a from-scratch build within a minute on 2 cores


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    base = tmp_path_factory.mktemp("site")
    info = S.Site.read(ROOT)
    S.write_sources(info, base / "src")
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    wall = S.build(base / "src", base / "site", base / "doctrees", jobs="auto")
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    print(f"site built in {wall:.1f} s wall, {cpu:.1f} s CPU")
    return dict(info=info, base=base, out=base / "site", wall=wall, cpu=cpu)


# ------------------------------------------------------------------------------------------ without building


def test_registry_names_each_claims_figures_rule_and_paper():
    manifest = json.loads((ROOT / "figures" / "manifest.json").read_text())["artifacts"]
    notebook = {c.id: c.notebook for c in C.CLAIMS}
    for cid, figures in C.FIGURES.items():
        for f in figures:
            assert manifest.get(f, {}).get("kind") == "figure", f"{cid}: {f} is not a committed figure"
            assert manifest[f]["notebook"] == notebook[cid], f"{cid}: {f} belongs to another notebook"
    assert all(len(C.RULES[c]) > 40 for c in C.CLAIM_IDS)
    assert {c.paper for c in C.CLAIMS} == set(C.PAPERS)


def test_every_artifact_and_claim_is_placed_in_a_notebook_section():
    info = S.Site.read(ROOT)
    placed = {a for p in info.pages for a in p.artifacts}
    assert set(info.manifest) == placed, sorted(set(info.manifest) - placed)
    runs = {(p.notebook, p.dataset) for p in info.pages}
    assert {("02_necst", "binary_mnist"), ("03_iabf", "cifar10"), ("01_vae_compression", None)} <= runs
    for r in info.ledger.itertuples():
        page, label, heading = info.claim_section(r)
        assert page.notebook == r.notebook and label.startswith("nb-") and heading


def test_markdown_text_is_escaped_and_names_are_matched():
    assert S.md("figure3_right_<dataset>.csv |x| $a$") == r"figure3\_right\_\<dataset\>.csv \|x\| \$a\$"
    assert S._name_matches("figure3_left_{dataset}", True, "figure3_left_omniglot", "omniglot")
    assert not S._name_matches("table1_{dataset}", True, "table1_mnist_ordering", "mnist")
    assert S._name_matches("sweep", False, "sweep", None) and not S._name_matches("sweep", False, "sweeps", None)


# ------------------------------------------------------------------------------------------ the built site


def test_site_builds_warning_free_from_the_committed_files(site):
    out, info = site["out"], site["info"]
    assert site["cpu"] < CPU_BUDGET_S, f"the build took {site['cpu']:.0f} CPU-seconds"
    for p in info.pages:
        assert (out / f"{p.docname}.html").exists(), p.docname
    for t in info.tables():
        assert (out / f"{S.table_doc(t)}.html").exists(), t
    for page in ("index", "claims", "rules", "report", "guide/overview", "guide/profiles", "guide/data"):
        assert (out / f"{page}.html").exists(), page
    for f in info.figure_files():
        anchor = f'id="{make_id(S.figure_label(f))}"'
        assert anchor in (out / f"figures/{info.manifest[f]['notebook']}.html").read_text(), f
    text = "\n".join(p.read_text() for p in out.rglob("*.html"))
    assert "shared/CLAIMS.md" not in text  # the site stands alone


def _text(html_text: str) -> str:
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", html_text)))


def norm(text: str) -> str:
    """Letters and digits only: compares text through Sphinx's smart quotes, escapes and line breaks."""
    return re.sub(r"[^0-9a-z]", "", text.lower())


def test_front_page_is_the_ledger_with_standings_counted_apart(site):
    page = (site["out"] / "index.html").read_text()
    table = re.search(r'<table[^>]*id="ledger-table".*?</table>', page, flags=re.S)
    assert table, "no ledger table on the front page"
    rows = re.findall(r"<tr[^>]*>(.*?)</tr>", table.group(0).split("<tbody>")[1], flags=re.S)
    assert len(rows) == len(LEDGER)
    for row, r in zip(rows, LEDGER.itertuples()):
        cells = [_text(c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", row, flags=re.S)]
        assert cells[0].startswith(r.claim_id) and cells[1] == r.verdict and cells[2] == r.standing
        assert norm(next(c.where for c in C.CLAIMS if c.id == r.claim_id)) in norm(cells[6])
        assert 'href="notebooks/' in row  # a link into the notebook page carrying the evidence
    counts = page.split('id="ledger-table"')[0].split('<section id="verdicts-by-standing">')[1]
    body = re.findall(r"<tr[^>]*>(.*?)</tr>", counts.split("<tbody>")[1].split("</tbody>")[0], flags=re.S)
    assert len(body) == len(C.STANDINGS), "final and provisional, one row each, and no total"
    for row, st in zip(body, C.STANDINGS):
        part = LEDGER[LEDGER.standing == st]
        vc = part.verdict.value_counts()
        assert _text(row).split() == [st, str(len(part))] + [str(vc.get(v, 0)) for v in C.VERDICTS]


def test_rules_and_claims_pages_come_from_the_registry(site):
    rules = norm(_text((site["out"] / "rules.html").read_text()))
    claims = norm(_text((site["out"] / "claims.html").read_text()))
    for cid in C.CLAIM_IDS:
        assert norm(cid) in rules and norm(C.RULES[cid]) in rules, cid
    for r in LEDGER.itertuples():
        assert norm(r.why) in claims, r.claim_id


def test_table_page_shows_the_csv_verbatim_with_provenance(site):
    rel = "01_vae_compression/jpeg_png_bsc.csv"
    page = (site["out"] / f"{S.table_doc(rel)}.html").read_text()
    meta = site["info"].manifest[rel]
    assert meta["commit"] in page and norm(meta["reproduces"]) in norm(_text(page))
    for line in (ROOT / "figures" / rel).read_text().splitlines()[1:]:
        assert "".join(f"<td>{html.escape(c)}</td>" for c in line.split(",")) in page


class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.links, self.ids = [], set()

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if a.get("id"):
            self.ids.add(a["id"])
        if a.get("name") and tag == "a":
            self.ids.add(a["name"])
        for key in ("href", "src"):
            if a.get(key) and not (tag == "link" and a.get("rel") in ("preconnect", "dns-prefetch")):
                self.links.append(a[key])


def test_every_internal_link_resolves(site):
    out = site["out"]
    parsed = {}
    for page in out.rglob("*.html"):
        if page.relative_to(out).parts[0] == "_static":
            continue  # the themes' template fragments, copied as they are: not pages
        p = _Links()
        p.feed(page.read_text())
        parsed[page.resolve()] = p
    broken = []
    for page, p in parsed.items():
        for link in p.links:
            u = urlsplit(link)
            if u.scheme or link.startswith("//") or link.startswith(("mailto:", "javascript:", "data:")):
                continue
            target = (page.parent / unquote(u.path)).resolve() if u.path else page
            if not target.is_file():
                broken.append(f"{page.relative_to(out.resolve())}: {link}")
            elif u.fragment and target.suffix == ".html" and u.fragment not in parsed[target].ids:
                broken.append(f"{page.relative_to(out.resolve())}: {link} (no such anchor)")
    assert not broken, f"{len(broken)} broken links, e.g. {broken[:10]}"


# ------------------------------------------------------------------------------------------ in a real browser

HARNESS = """<!doctype html><html><head><meta charset="utf-8"><style>body{margin:0} iframe{border:0;display:block}
</style></head><body><iframe id="page" width="1280" height="1000"></iframe><script>
const q = new URLSearchParams(location.search), frame = document.getElementById('page');
frame.addEventListener('load', () => {
  const doc = frame.contentDocument, report = {};
  let el = null;
  if (q.get('what') === 'table') {
    el = doc.getElementById('ledger-table');
    if (el) report.ids = Array.from(el.querySelectorAll('tbody tr'))
                           .map(r => r.cells[0].textContent.split(':')[0].trim());
  } else {
    const imgs = Array.from(doc.querySelectorAll('article img')).filter(i => i.src.includes('/_images/'));
    const shown = imgs.filter(i => i.complete && i.naturalWidth > 0);
    report.images = imgs.length; report.loaded = shown.length;
    el = shown[0] || null;
    if (el) { report.src = el.src; report.natural = [el.naturalWidth, el.naturalHeight]; }
  }
  if (el) { el.scrollIntoView({block: 'start'}); const r = el.getBoundingClientRect();
            report.rect = [r.left, r.top, r.width, r.height]; }
  const pre = document.createElement('pre'); pre.id = 'report'; pre.textContent = JSON.stringify(report);
  document.body.appendChild(pre);
});
frame.src = q.get('page');
</script></body></html>"""


def _chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if shutil.which(name):
            return shutil.which(name)
    return None


@pytest.fixture(scope="module")
def browser(site):
    exe = _chromium()
    if exe is None:
        pytest.skip("Chromium is not installed: the browser test needs Debian's chromium package "
                    "(apt-get install chromium; scripts/setup_env.sh tries it when run as root)")
    base = site["base"]
    (base / "harness.html").write_text(HARNESS)
    handler = functools.partial(_QuietHandler, directory=str(base))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_address[1]}"

    def run(page: str, what: str, shot: Path) -> dict:
        common = [exe, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--no-first-run",
                  "--no-default-browser-check", "--disable-extensions", "--force-device-scale-factor=1",
                  f"--user-data-dir={base / 'chromium-profile'}", "--window-size=1280,1000",
                  "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",  # nothing outside this machine
                  "--virtual-time-budget=8000"]
        target = f"{url}/harness.html?page=site/{page}&what={what}"
        dom = subprocess.run(common + ["--dump-dom", target], capture_output=True, text=True, timeout=180)
        m = re.search(r'<pre id="report">(.*?)</pre>', dom.stdout, flags=re.S)
        assert m, f"no report from the page (chromium exit {dom.returncode}): {dom.stderr[-500:]}"
        subprocess.run(common + [f"--screenshot={shot}", target], capture_output=True, timeout=180, check=True)
        assert shot.exists(), "chromium wrote no screenshot"
        return json.loads(html.unescape(m.group(1)))

    yield run
    server.shutdown()
    server.server_close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def _visible(shot: Path, rect) -> tuple[np.ndarray, tuple[int, int, int, int]]:
    """The part of the screenshot (grey levels) inside ``rect`` (x, y, width, height), and that part's box relative
    to the element."""
    img = np.asarray(Image.open(shot).convert("L"), dtype=np.float64)
    x, y, w, h = (int(round(v)) for v in rect)
    x0, y0 = max(x, 0), max(y, 0)
    x1, y1 = min(x + w, img.shape[1]), min(y + h, img.shape[0])
    assert x1 - x0 > 50 and y1 - y0 > 50, f"the element is not on screen: {rect}"
    return img[y0:y1, x0:x1], (x0 - x, y0 - y, x1 - x, y1 - y)


def test_front_page_shows_the_ledger_table_in_chromium(browser, site, tmp_path):
    shot = tmp_path / "index.png"
    report = browser("index.html", "table", shot)
    assert report.get("ids") == list(LEDGER.claim_id), report
    full = np.asarray(Image.open(shot).convert("L"), dtype=np.float64)
    assert full.std() > 20, "the screenshot is blank"
    table, _ = _visible(shot, report["rect"])
    dark = (table < 128).mean()
    assert table.std() > 20 and 0.01 < dark < 0.5, f"the ledger table is not drawn (std {table.std():.1f}, dark {dark})"


def test_notebook_page_shows_a_figure_in_chromium(browser, site, tmp_path):
    shot = tmp_path / "notebook.png"
    report = browser(NOTEBOOK_PAGE, "figure", shot)
    assert report.get("loaded", 0) >= 1 and report["loaded"] == report["images"], report
    shown, box = _visible(shot, report["rect"])
    assert shown.std() > 10, "the figure's place on the screenshot is blank"
    src = site["out"] / unquote(urlsplit(report["src"]).path).split("/site/", 1)[1]
    original = Image.open(src).convert("RGBA")
    original = Image.alpha_composite(Image.new("RGBA", original.size, "white"), original).convert("L")
    w, h = (int(round(v)) for v in report["rect"][2:])
    expect = np.asarray(original.resize((w, h), Image.BILINEAR), dtype=np.float64)[box[1]:box[3], box[0]:box[2]]
    corr = np.corrcoef(expect.ravel(), shown.ravel())[0, 1]
    assert corr > 0.8, f"the screenshot does not show {src.name} (correlation {corr:.2f})"
