"""The README's "Project layout" block is what docs/layout.py draws from the code now."""

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_readme_layout_is_drawn_from_the_code():
    drawn = subprocess.run(
        [sys.executable, str(ROOT / "docs" / "layout.py")],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    readme = (ROOT / "README.md").read_text()
    block = re.search(r"<!-- layout:start -->\n```\n(.*?)```\n<!-- layout:end -->", readme, re.S)
    assert block is not None, "README.md lost its layout markers"
    assert block.group(1) == drawn, "README layout is stale: run `python docs/layout.py`"
