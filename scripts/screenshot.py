"""Screenshot an HTML file with headless Chromium.

`python scripts/screenshot.py IN.html OUT.png`
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.browser import browser_page  # noqa: E402


def main(html: str, png: str) -> None:
    with browser_page(width=1150, height=900) as page:
        page.goto(Path(html).resolve().as_uri())
        page.wait_for_load_state("load")
        page.screenshot(path=png, full_page=True)
    print(f"wrote {png}")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
