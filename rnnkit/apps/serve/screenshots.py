"""``python -m rnnkit.apps.serve.screenshots RUN [RUN ...]`` (``make serve-screenshots RUNS="..."``):
serve the runs on a free loopback port, open each run's page in headless Chromium, try it with an
example input, and write ``RUN/screenshots/<page>.png`` (and the index page beside the first run's).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

__all__ = ["take_screenshots"]


def take_screenshots(run_dirs, uploads: dict[str, str] | None = None, echo=print) -> list[Path]:
    """The PNGs written, one per run (its page after an example request) plus the index."""
    from .app import create_app
    from .browser import chrome, running_server, try_page

    uploads = uploads or {}
    app = create_app(run_dirs)
    written = []
    with running_server(app) as url, chrome() as driver:
        for (name, svc), run_dir in zip(app.state.services.items(), run_dirs):
            state = try_page(driver, url, name, svc.app_name, upload=uploads.get(name) or uploads.get(svc.app_name))
            out = Path(run_dir) / "screenshots"
            out.mkdir(parents=True, exist_ok=True)
            path = out / f"{svc.page}.png"
            _full_page(driver, path)
            written.append(path)
            echo(f"{path} ({state})")
        driver.get(url + "/")
        from selenium.webdriver.support.ui import WebDriverWait

        WebDriverWait(driver, 30).until(lambda d: len(d.find_elements("css selector", "#runs li")) == len(run_dirs))
        index = Path(run_dirs[0]) / "screenshots" / "index.png"
        _full_page(driver, index)
        written.append(index)
        echo(str(index))
    return written


def _full_page(driver, path: Path, width: int = 1200) -> None:
    """The whole page, not only the window (Chromium's device metrics set to the page's height)."""
    height = int(driver.execute_script("return Math.max(document.documentElement.scrollHeight, 600)"))
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                           {"width": width, "height": min(height, 4000), "deviceScaleFactor": 1, "mobile": False})
    try:
        driver.save_screenshot(str(path))
    finally:
        driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m rnnkit.apps.serve.screenshots", description=__doc__.split("\n\n")[0])
    p.add_argument("runs", nargs="+", metavar="RUN")
    p.add_argument("--upload", action="append", default=[], metavar="APP_OR_RUN=FILE",
                   help="a file to upload on an upload page (forecast CSV, image, audio, clip)")
    args = p.parse_args(argv)
    uploads = dict(u.split("=", 1) for u in args.upload)
    from .browser import browser_missing

    why = browser_missing()
    if why:
        print(f"serve-screenshots: {why}", file=sys.stderr)
        return 2
    take_screenshots(args.runs, uploads)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
