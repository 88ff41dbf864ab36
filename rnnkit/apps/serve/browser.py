"""A headless Chromium driven by selenium, for the page tests and ``make serve-screenshots``.

Debian's ``chromium`` and ``chromium-driver`` packages (``/usr/bin/chromium``,
``/usr/bin/chromedriver``); nothing is downloaded. :func:`try_page` fills a run's page with an
example input and waits for the answer to appear, as a person would.
"""

from __future__ import annotations

import shutil
import tempfile
import threading
import time
from contextlib import contextmanager
from pathlib import Path

__all__ = ["CHROMEDRIVER", "browser_missing", "chrome", "running_server", "try_page"]

CHROMEDRIVER = "/usr/bin/chromedriver"
CHROMIUM_NAMES = ("chromium", "chromium-browser")
FLAGS = ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
         "--disable-background-networking", "--no-first-run", "--disable-component-update", "--disable-sync",
         "--window-size=1200,1000")


def _chromium() -> str | None:
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    return None


def browser_missing() -> str | None:
    """Why a browser cannot run here (None when it can)."""
    if _chromium() is None:
        return "chromium is not installed (apt-get install -y chromium chromium-driver)"
    if not Path(CHROMEDRIVER).is_file():
        return f"{CHROMEDRIVER} is missing (apt-get install -y chromium-driver)"
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed (pip install 'rnnkit[serve]')"
    return None


@contextmanager
def chrome(width: int = 1200, height: int = 1000):
    """A fresh headless Chromium (its own empty profile folder, removed afterwards)."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    why = browser_missing()
    if why:
        raise RuntimeError(why)
    with tempfile.TemporaryDirectory(prefix="rnnkit-chromium-") as profile:
        opts = webdriver.ChromeOptions()
        opts.binary_location = _chromium()
        for f in FLAGS:
            opts.add_argument(f)
        opts.add_argument(f"--window-size={width},{height}")
        opts.add_argument(f"--user-data-dir={profile}")
        driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=opts)
        driver.set_page_load_timeout(60)
        try:
            yield driver
        finally:
            driver.quit()


@contextmanager
def running_server(app, host: str = "127.0.0.1", port: int = 0, timeout: float = 60.0):
    """Serve ``app`` with uvicorn on a thread; yields its base URL (``port=0``: a free port)."""
    import uvicorn

    server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, name="rnnkit-serve", daemon=True)
    thread.start()
    deadline = time.monotonic() + timeout
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the server did not start")
        time.sleep(0.05)
    bound = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://{host}:{bound}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)


# What a person would type or upload on each page, for screenshots (tests check more).
EXAMPLES = {
    "textgen": {"prompt": None, "seed": "1"},
    "classify": {"text": "a moving, beautiful film with a clever script\nthe plot is dull and the acting is awful"},
    "translate": {"text": None},
    "music": {"primer": None},
}


def _wait_done(driver, timeout: float) -> str:
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(driver, timeout).until(lambda d: d.find_element("tag name", "body").get_attribute("data-state")
                                         in ("done", "error"))
    return driver.find_element("tag name", "body").get_attribute("data-state")


def try_page(driver, base_url: str, run_name: str, app: str, upload: str | Path | None = None,
             timeout: float = 120.0) -> str:
    """Open the run's page, give it its example input (``upload``: a file for the upload pages),
    press its button and wait for the answer; returns the page's state (``done`` or ``error``)."""
    from selenium.webdriver.support.ui import WebDriverWait

    driver.get(f"{base_url}/{run_name}")
    WebDriverWait(driver, 30).until(lambda d: d.find_element("id", "run-name").text == run_name)
    find = lambda i: driver.find_element("id", i)  # noqa: E731
    if app == "textgen":
        find("seed").send_keys("1")
        find("max-new-tokens").clear()
        find("max-new-tokens").send_keys("160")
        find("generate").click()
    elif app == "classify":
        find("text").send_keys(EXAMPLES["classify"]["text"])
        find("classify").click()
    elif app in ("translate",):
        if not find("text").get_attribute("value"):
            find("text").send_keys(find("text").get_attribute("placeholder"))
        find("translate").click()
    elif app == "music":
        find("generate").click()
    elif upload is not None:
        find("file" if app != "forecast" else "csv").send_keys(str(Path(upload).resolve()))
        find("forecast" if app == "forecast" else "submit").click()
    elif app == "forecast":
        find("own-data").click()
    else:
        return "no input"
    return _wait_done(driver, timeout)
