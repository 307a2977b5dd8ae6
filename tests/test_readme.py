"""The README's test command is the one CI runs."""

import pathlib
import re

ROOT = pathlib.Path(__file__).resolve().parents[1]


def test_ci_runs_the_readme_test_command():
    readme = (ROOT / "README.md").read_text()
    block = re.search(r"## Run the tests\s+```bash\n(.+?)\n```", readme, re.S)
    assert block, "README has no test command block"
    command = block.group(1).strip()
    assert command in (ROOT / ".ci" / "run").read_text()


def test_readme_shows_the_committed_results_table():
    readme = (ROOT / "README.md").read_text()
    results = (ROOT / "docs" / "figures" / "results.md").read_text()
    table = [line for line in results.splitlines() if line.startswith("|")]
    assert table, "docs/figures/results.md holds no table"
    start = readme.index(table[0])
    shown = readme[start:].splitlines()[: len(table)]
    assert shown == table
