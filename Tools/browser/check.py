#!/usr/bin/env python3
"""Browser checks of Accord's web view (issue 18), in headless Chromium through Selenium.

Usage:
  check.py --base http://127.0.0.1:PORT --journal DIR --funding SUBJECT,PROVIDER,RECEIVER,CURRENCY \
           [--tls-base https://127.0.0.1:PORT --user NAME --password-file FILE] [--page FILE_OR_URL ...]
  check.py --page FILE_OR_URL ...            (only the page checks: e.g. `accord report --html` output)

What it checks (each printed as it passes; exit status 1 on any failure, 2 on a setup problem):
  - the dashboard (`/`) shows `#totals`, `#finance-charts` with SVG, `#ratios`, `#roadmap`,
    `#projects` and `#offices`;
  - a disbursement recorded through `/record/finance.disbursed.v1` answers with `/events/ID`,
    the row `tr[data-event-id=ID]` is in the log, and the dashboard's disbursed total in that
    currency grew by exactly the amount (decimal arithmetic, digits grouped or not);
  - a bad amount shows `#error-amount` beside the field, and the journal's segment files hash the
    same before and after;
  - over TLS with `--login`: `/` leads to `/login` when logged out, logging in reaches the
    dashboard, `POST /logout` (the page's logout button) ends the session;
  - every page visited (and every `--page`): axe-core finds no "serious" or "critical"
    violation (all are printed), and the page's transfer size is at most 200 KB (`MAX_PAGE_BYTES`);
  - a full-page screenshot of every page is written to $ACCORD_SCREENSHOTS (default
    `.build/screenshots/`).

Chromium and chromedriver are Debian's (`/usr/bin/chromium`, `/usr/bin/chromedriver`), passed
explicitly so Selenium Manager never reaches the network. The contract it tests is the one in
Tools/browser/README.md.
"""

import argparse
import glob
import hashlib
import os
import re
import sys
import time
from decimal import Decimal, InvalidOperation
from urllib.parse import urljoin, urlparse

MAX_PAGE_BYTES = 200 * 1024
CHROMIUM = os.environ.get("ACCORD_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("ACCORD_CHROMEDRIVER", "/usr/bin/chromedriver")
BLOCKING_IMPACTS = ("serious", "critical")

try:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from axe_selenium_python import Axe
except ImportError as error:  # pragma: no cover - reported to the Swift test, which says so loudly
    print(f"SETUP: missing Python package: {error}. Install: python3 -m pip install selenium axe-selenium-python", file=sys.stderr)
    sys.exit(2)


class Checks:
    def __init__(self, screenshots):
        self.failures = []
        self.passed = 0
        self.screenshots = screenshots
        os.makedirs(screenshots, exist_ok=True)
        self.shot_names = set()

    def ok(self, what):
        self.passed += 1
        print(f"ok    {what}", flush=True)

    def fail(self, what):
        self.failures.append(what)
        print(f"FAIL  {what}", flush=True)

    def expect(self, condition, what):
        (self.ok if condition else self.fail)(what)
        return condition


def new_driver(ignore_certificates=False):
    for path in (CHROMIUM, CHROMEDRIVER):
        if not os.access(path, os.X_OK):
            print(f"SETUP: {path} is missing. Install Debian's chromium and chromium-driver (.ci/run does).", file=sys.stderr)
            sys.exit(2)
    os.environ.setdefault("SE_OFFLINE", "true")  # Selenium Manager must never fetch anything
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                     "--window-size=1280,1000", "--lang=en-GB", "--disable-background-networking",
                     "--no-first-run", "--disable-extensions"):
        options.add_argument(argument)
    if ignore_certificates:
        options.add_argument("--ignore-certificate-errors")  # the test's self-signed certificate
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(120)
    driver.set_script_timeout(120)
    return driver


def page_bytes(driver, url):
    """The bytes the page's document and its resources took over the network (file: its size)."""
    if url.startswith("file://"):
        return os.path.getsize(urlparse(url).path)
    total = driver.execute_script(
        "const n = performance.getEntriesByType('navigation')[0];"
        "let t = n ? Math.max(n.transferSize, n.encodedBodySize) : 0;"
        "for (const r of performance.getEntriesByType('resource')) t += Math.max(r.transferSize, r.encodedBodySize);"
        "return t;")
    return int(total or 0)


def response_status(driver):
    return driver.execute_script(
        "const n = performance.getEntriesByType('navigation')[0]; return n && n.responseStatus !== undefined ? n.responseStatus : null;")


def check_page(checks, driver, name, top=False):
    """axe-core, weight and a screenshot of the page the driver shows now."""
    url = driver.current_url
    size = page_bytes(driver, url)
    checks.expect(0 < size <= MAX_PAGE_BYTES, f"{name}: {size:,} bytes transferred (limit {MAX_PAGE_BYTES:,})")
    axe = Axe(driver)
    axe.inject()
    results = axe.run()
    blocking = [v for v in results["violations"] if v.get("impact") in BLOCKING_IMPACTS]
    for violation in results["violations"]:
        targets = ", ".join(str(node.get("target")) for node in violation.get("nodes", [])[:5])
        print(f"      axe {violation.get('impact')}: {violation['id']} — {violation['help']} ({len(violation.get('nodes', []))} nodes: {targets})")
    checks.expect(not blocking, f"{name}: axe-core {len(results['passes'])} rules pass, "
                                f"{len(blocking)} serious or critical violations, {len(results['violations']) - len(blocking)} minor")
    shot = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "page"
    while shot in checks.shot_names:
        shot += "-2"
    checks.shot_names.add(shot)
    driver.execute_script("window.scrollTo(0, 0);")  # axe-core scrolls while it checks contrast
    if top:  # the first screenful too (1280×1000), small enough for the README
        checks.expect(driver.save_screenshot(os.path.join(checks.screenshots, shot + "-top.png")), f"{name}: screenshot {shot}-top.png")
    height = driver.execute_script("return Math.max(document.body.scrollHeight, document.documentElement.scrollHeight);")
    driver.set_window_size(1280, max(600, min(int(height or 1000) + 40, 12000)))
    path = os.path.join(checks.screenshots, shot + ".png")
    checks.expect(driver.save_screenshot(path), f"{name}: screenshot {path}")
    driver.set_window_size(1280, 1000)


def click_and_wait(driver, element):
    """Clicks a submit button and waits until the browser has left the page it was on (a click
    returns before the navigation it starts has finished)."""
    from selenium.webdriver.support.ui import WebDriverWait
    from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
    element.click()

    def left(_):
        # Chromedriver answers "Node with given id does not belong to the document" instead of a
        # stale-element error when the old document goes away during the check
        # (expected_conditions.staleness_of raised it): either way, the page was left.
        try:
            element.is_enabled()
            return False
        except StaleElementReferenceException:
            return True
        except WebDriverException as error:
            if "does not belong to the document" in str(error):
                return True
            raise

    WebDriverWait(driver, 120).until(left)
    WebDriverWait(driver, 120).until(lambda d: d.execute_script("return document.readyState") == "complete")


def find(driver, css):
    elements = driver.find_elements(By.CSS_SELECTOR, css)
    return elements[0] if elements else None


def decimal_text(text):
    try:
        return Decimal(text.strip().replace(",", "").replace("\u202f", "").replace("\u00a0", ""))
    except InvalidOperation:
        return None


def disbursed_total(driver, currency):
    cell = find(driver, f'#totals dd[data-currency="{currency}"][data-measure="disbursed"]')
    return decimal_text(cell.text) if cell is not None else Decimal(0)


def journal_hash(journal):
    digest = hashlib.sha256()
    for path in sorted(glob.glob(os.path.join(journal, "segments", "*"))):
        digest.update(path.encode())
        with open(path, "rb") as file:
            digest.update(file.read())
    return digest.hexdigest()


def fill(driver, field, value):
    element = find(driver, f"#field-{field}")
    if element is None:
        return False
    if element.tag_name == "select":
        from selenium.webdriver.support.ui import Select
        Select(element).select_by_value(value)
        return True
    element.clear()
    element.send_keys(value)
    return True


def record_disbursement(checks, driver, base, funding, amount):
    subject, provider, receiver, currency = funding
    driver.get(urljoin(base, "/record/finance.disbursed.v1"))
    if not checks.expect(find(driver, "#submit") is not None and find(driver, 'input[name="csrf"]') is not None,
                         "record form: fields, a hidden csrf token and #submit"):
        return None
    for field, value in (("subject", subject), ("provider", provider), ("receiver", receiver), ("amount", amount),
                         ("currency", currency), ("date", time.strftime("%Y-%m-%d", time.gmtime()))):
        checks.expect(fill(driver, field, value), f"record form: #field-{field} filled")
    click_and_wait(driver, find(driver, "#submit"))
    return driver.current_url


def run_ui(checks, args):
    base = args.base.rstrip("/") + "/"
    funding = args.funding.split(",")
    if len(funding) != 4:
        print("SETUP: --funding is SUBJECT,PROVIDER,RECEIVER,CURRENCY", file=sys.stderr)
        sys.exit(2)
    currency = funding[3]
    driver = new_driver()
    try:
        driver.get(base)
        for part in ("#totals", "#finance-charts", "#ratios", "#roadmap", "#projects", "#offices"):
            checks.expect(find(driver, part) is not None, f"dashboard: {part} is shown")
        checks.expect(find(driver, "#finance-charts svg") is not None, "dashboard: #finance-charts holds an SVG chart")
        before = disbursed_total(driver, currency)
        checks.expect(before is not None, f"dashboard: disbursed {currency} reads as a decimal ({before})")
        check_page(checks, driver, "dashboard", top=True)
        links = {}
        for kind in ("stakeholders", "fundings", "actions", "projects"):
            link = find(driver, f'a[href^="/{kind}/"]')
            if link is not None:
                links[kind] = link.get_attribute("href")

        # A disbursement through the form: in the log and in the totals.
        amount = "1234.56"
        landed = record_disbursement(checks, driver, base, funding, amount)
        event_id = None
        if landed is not None:
            match = re.search(r"/events/([0-9a-f]{16,64})$", urlparse(landed).path)
            if match is None:
                print(f"      landed on {landed} (status {response_status(driver)}): {driver.title}")
                for error in driver.find_elements(By.CSS_SELECTOR, ".error, #error-form"):
                    print(f"      refused: {error.get_attribute('id')}: {error.text}")
            if checks.expect(match is not None, f"recording answers with the event's page ({urlparse(landed).path})"):
                event_id = match.group(1)
                check_page(checks, driver, "event")
                driver.get(urljoin(base, "/events?type=finance.disbursed.v1"))
                checks.expect(find(driver, f'#events tr[data-event-id="{event_id}"]') is not None
                              or find(driver, f'#events tr[data-event-id^="{event_id[:16]}"]') is not None,
                              "the new disbursement is a row of the event log")
                driver.get(base)
                after = disbursed_total(driver, currency)
                checks.expect(before is not None and after == before + Decimal(amount),
                              f"dashboard: disbursed {currency} {before} + {amount} = {after}")
        driver.get(urljoin(base, "/events"))
        checks.expect(find(driver, "#events") is not None and find(driver, "#events tr[data-event-id]") is not None, "event log: rows with data-event-id")
        check_page(checks, driver, "event log")
        for field in ("type", "subject", "site", "from", "to", "q"):
            checks.expect(find(driver, f'[name="{field}"]') is not None, f"event log: filter '{field}'")
        for link in find_all_links(driver, base):
            links.setdefault(link[0], link[1])
        # Subject pages, in an order that lets each page's links lead to the next kinds (a
        # funding's page names its provider and receiver).
        for kind in ("fundings", "actions", "projects", "stakeholders"):
            if checks.expect(kind in links, f"a link to a {kind[:-1]} page is shown"):
                driver.get(links[kind])
                checks.expect(response_status(driver) in (None, 200), f"{kind[:-1]} page answers 200")
                for link in find_all_links(driver, base):
                    links.setdefault(link[0], link[1])
                check_page(checks, driver, kind[:-1])

        # A bad amount: the error beside the field, the journal unchanged.
        before_hash = journal_hash(args.journal)
        record_disbursement(checks, driver, base, funding, "12,5x")
        error = find(driver, "#error-amount.error")
        checks.expect(error is not None and error.text.strip() != "", "a bad amount is refused with #error-amount beside the field")
        status = response_status(driver)
        checks.expect(status in (None, 422), f"the refusal answers 422 (got {status})")
        checks.expect(journal_hash(args.journal) == before_hash, "the journal's segment files are byte for byte unchanged")
        check_page(checks, driver, "record form refused")
        driver.get(urljoin(base, "/record/finance.disbursed.v1"))
        check_page(checks, driver, "record form")
    finally:
        driver.quit()


def find_all_links(driver, base):
    found = []
    for link in driver.find_elements(By.CSS_SELECTOR, "a[href]"):
        href = link.get_attribute("href") or ""
        path = urlparse(href).path
        for kind in ("stakeholders", "fundings", "actions", "projects"):
            if path.startswith(f"/{kind}/") and len(path) > len(kind) + 2:
                found.append((kind, href))
    return found


def run_tls(checks, args):
    base = args.tls_base.rstrip("/") + "/"
    checks.expect(base.startswith("https://"), f"the login server is served over TLS ({base})")
    password = open(args.password_file, encoding="utf-8").read().strip("\n")
    driver = new_driver(ignore_certificates=True)
    try:
        driver.get(base)
        checks.expect("/login" in urlparse(driver.current_url).path and find(driver, "#field-password") is not None,
                      "logged out, the dashboard leads to the login form")
        check_page(checks, driver, "login")
        fill(driver, "name", args.user)
        fill(driver, "password", "not-" + password)
        click_and_wait(driver, find(driver, "#submit"))
        checks.expect(find(driver, "#totals") is None, "a wrong password does not log in")
        fill(driver, "name", args.user)
        fill(driver, "password", password)
        click_and_wait(driver, find(driver, "#submit"))
        driver.get(base)
        checks.expect(find(driver, "#totals") is not None, "logged in over TLS, the dashboard is shown")
        logout = find(driver, 'form[action="/logout"] [type="submit"], form[action="/logout"] button')
        if checks.expect(logout is not None, "the dashboard has a logout button (POST /logout)"):
            click_and_wait(driver, logout)
            driver.get(base)
            checks.expect("/login" in urlparse(driver.current_url).path and find(driver, "#totals") is None,
                          "after logging out, the dashboard leads to the login form again")
    finally:
        driver.quit()


def run_pages(checks, pages):
    driver = new_driver()
    try:
        for page in pages:
            url = page if re.match(r"^[a-z]+://", page) else "file://" + os.path.abspath(page)
            driver.get(url)
            checks.expect(find(driver, "svg[role=img] title") is not None or not url.startswith("file://"),
                          f"{os.path.basename(page)}: SVG charts with role=img and a title")
            check_page(checks, driver, os.path.basename(page).rsplit(".", 1)[0])
    finally:
        driver.quit()


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--base", help="the plain loopback `accord ui` (no login)")
    parser.add_argument("--journal", help="its journal directory (its segments are hashed)")
    parser.add_argument("--funding", help="SUBJECT,PROVIDER,RECEIVER,CURRENCY of a committed funding to disburse on")
    parser.add_argument("--tls-base", help="an `accord ui --login --tls-cert … --tls-key …`")
    parser.add_argument("--user", help="a user of the TLS server")
    parser.add_argument("--password-file", help="that user's password")
    parser.add_argument("--page", action="append", default=[], help="another page (file or URL): axe, weight, screenshot")
    args = parser.parse_args()
    checks = Checks(os.environ.get("ACCORD_SCREENSHOTS") or ".build/screenshots/")
    if args.base:
        if not args.journal or not args.funding:
            parser.error("--base needs --journal and --funding")
        run_ui(checks, args)
    if args.tls_base:
        if not args.user or not args.password_file:
            parser.error("--tls-base needs --user and --password-file")
        run_tls(checks, args)
    if args.page:
        run_pages(checks, args.page)
    if not (args.base or args.tls_base or args.page):
        parser.error("nothing to check: give --base, --tls-base or --page")
    print(f"{checks.passed} checks passed, {len(checks.failures)} failed; screenshots in {checks.screenshots}")
    for failure in checks.failures:
        print(f"FAILED: {failure}", file=sys.stderr)
    sys.exit(1 if checks.failures else 0)


if __name__ == "__main__":
    main()
