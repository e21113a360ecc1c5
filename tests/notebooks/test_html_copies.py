"""An executed notebook's HTML copy, opened in headless Chromium, draws every chart.

The HTML copy is what nbconvert makes (``make run`` writes the same kind of copies); a
figure with only plotly's JSON would be an empty cell there.  A script added to the page
counts, after load, the figures that really drew: a decoded image with a size on the page,
or a plotly plot with its SVG.  Chromium comes from Debian (``make test`` installs it on CI;
elsewhere a missing browser is a skip that says so, on CI a failure).
"""

from __future__ import annotations

import json
import re
import subprocess

import nbformat
import papermill
from nbconvert import HTMLExporter

from falco_lab.lab.figures import PLOTLY_MIMETYPE
from tests.analysis.test_browser import _chromium
from tests.notebooks.test_notebooks_run import NOTEBOOKS, SMALL

COUNT_DRAWN = """<script>
window.addEventListener("load", () => {
  const images = [...document.images].filter(i => i.naturalWidth > 0 && i.getBoundingClientRect().height > 50);
  const plots = document.querySelectorAll(".js-plotly-plot .main-svg").length;
  document.body.setAttribute("data-drawn", String(images.length + plots));
});
</script>"""


def test_every_figure_of_an_executed_notebook_is_drawn_in_its_html_copy(tmp_path) -> None:
    executed = tmp_path / "04.ipynb"
    papermill.execute_notebook(
        str(NOTEBOOKS / "04_analyze_events.ipynb"), str(executed), parameters=SMALL,
        kernel_name="python3", cwd=str(NOTEBOOKS), progress_bar=False, execution_timeout=300,
    )  # fmt: skip
    notebook = json.loads(executed.read_text(encoding="utf-8"))
    figures = sum(
        PLOTLY_MIMETYPE in (output.get("data") or {})
        for cell in notebook["cells"]
        for output in cell.get("outputs", [])
    )
    assert figures >= 6
    html, _ = HTMLExporter(exclude_input=True).from_notebook_node(nbformat.read(executed, as_version=4))
    page = tmp_path / "04.html"
    page.write_text(html.replace("</body>", COUNT_DRAWN + "</body>"), encoding="utf-8")
    command = [
        _chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        f"--user-data-dir={tmp_path / 'profile'}", "--window-size=1400,2000", "--virtual-time-budget=10000",
        "--dump-dom", page.as_uri(),
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, timeout=180, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    drawn = re.search(r'data-drawn="(\d+)"', done.stdout)
    assert drawn is not None, "the counting script did not run"
    assert int(drawn.group(1)) == figures
