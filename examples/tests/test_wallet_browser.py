"""The scripted wallet's SEP-24 deposit and withdrawal with the anchor's interactive pages completed in a real
browser: Debian's headless Chromium, driven through its chromedriver by Selenium, against the demo stack's
real processes (examples/tests/stack.py).

The browser types into each labelled field and clicks the button as a person does, so the pages' forms,
labels, CSRF cookie, redirects and polaris.js are exercised as a wallet user meets them; the wallet reads the
bank instructions off the page the browser ends on. Each page is saved as a PNG in the test's tmp dir.
scripts/ensure-chromium (run by `make test`) installs Chromium; without it these tests skip.
"""

from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.wait import WebDriverWait

from examples import wallet as w
from examples.tests.stack import check_deposit, check_withdrawal, new_wallet

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
# Headless as root on a machine with no network but loopback: without the background-networking flags
# Chromium keeps trying to reach Google's hosts.
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--window-size=900,1000"]  # fmt: skip

pytestmark = [
    pytest.mark.skipif(
        not (CHROMIUM.is_file() and CHROMEDRIVER.is_file()),
        reason="Debian's chromium and chromium-driver are not installed: scripts/ensure-chromium, which `make test` "
        "runs, installs them with apt-get and printed why it could not",
    ),
    # The pages and the browser do not depend on the database; test_wallet_flows.py moves money on PostgreSQL.
    pytest.mark.sqlite_only,
]


@pytest.fixture
def driver(tmp_path):
    """Headless Chromium with a fresh profile. The driver path is given, so Selenium Manager downloads nothing."""
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in [*FLAGS, f"--user-data-dir={tmp_path / 'chromium-profile'}"]:
        options.add_argument(flag)
    browser = webdriver.Chrome(options=options, service=Service(executable_path=str(CHROMEDRIVER)))
    yield browser
    browser.quit()


class Person:
    """A w.Interactive that completes the pages in the browser: for each answer it clicks the field's label and
    types, then clicks the form's button; it stops on a page without a form. Each page is screenshotted."""

    def __init__(self, driver: WebDriver, shots: Path, flow: str):
        self.driver, self.shots, self.flow = driver, shots, flow
        self.pages: list[Path] = []

    def __call__(self, url: str, answers: dict) -> str:
        self.driver.get(url)
        for _ in range(10):
            self._screenshot()
            forms = self.driver.find_elements(By.CSS_SELECTOR, "main form")
            if not forms:
                return self.driver.page_source
            alerts = self.driver.find_elements(By.CSS_SELECTOR, ".error-summary li")
            assert not alerts, f"the anchor refused the form: {[alert.text for alert in alerts]}"
            for name, value in answers.items():
                for field in forms[0].find_elements(By.NAME, name):
                    self._label_of(field).click()
                    assert self.driver.switch_to.active_element == field, f"the label of {name} does not focus it"
                    field.clear()
                    field.send_keys(value)
            self._submit(forms[0])
        raise AssertionError("the interactive flow did not end after 10 forms")

    def _submit(self, form) -> None:
        """Clicks the form's button and waits for the next page to load. The old page is marked and the wait is
        for a loaded document without the mark: Chromium 156's driver answers a query on a node of the old page
        with an "unknown error" instead of a stale element, so Selenium's staleness_of cannot be relied on."""
        self.driver.execute_script("document.documentElement.dataset.leaving = 'yes'")
        form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
        next_page_loaded = "return document.readyState === 'complete' && !document.documentElement.dataset.leaving"
        WebDriverWait(self.driver, 15, ignored_exceptions=[WebDriverException]).until(
            lambda driver: driver.execute_script(next_page_loaded)
        )

    def _label_of(self, field):
        """The field's visible <label for=...>: a person, and a screen reader, find the field by it."""
        [label] = self.driver.find_elements(By.CSS_SELECTOR, f"label[for='{field.get_attribute('id')}']")
        assert label.is_displayed() and label.text.strip(), f"field {field.get_attribute('name')} has no visible label"
        return label

    def _screenshot(self) -> None:
        path = self.shots / f"{self.flow}-{len(self.pages) + 1}.png"
        self.driver.save_screenshot(str(path))
        self.pages.append(path)
        html = self.driver.find_element(By.TAG_NAME, "html")
        assert html.get_attribute("lang") and self.driver.title.strip() and self.driver.find_element(By.TAG_NAME, "h1").text
        styled = "return [...document.styleSheets].some(sheet => sheet.cssRules.length)"
        assert self.driver.execute_script(styled), f"no stylesheet on the page {self.driver.title!r}"


def test_sep24_deposit_then_withdrawal_in_chromium_each_move_the_money_once(stack, driver, tmp_path):
    wallet = new_wallet(stack)
    bank_account = w.bank_customer(stack.bank, cash="25")
    deposit_pages, withdrawal_pages = Person(driver, tmp_path, "deposit"), Person(driver, tmp_path, "withdraw")
    try:
        done = w.deposit(wallet, stack.bank, "25", "24", bank_account, interactive=deposit_pages)
        check_deposit(stack, wallet, done, bank_account, "25")
        done = w.withdraw(wallet, stack.bank, "25", "24", bank_account, interactive=withdrawal_pages)
        check_withdrawal(stack, wallet, done, bank_account, "25")
    except Exception:
        print(stack.log_tail())
        raise
    # A form, then the transaction's page with the instructions or the payment to make.
    assert len(deposit_pages.pages) == 2 and len(withdrawal_pages.pages) == 2
    print("screenshots:", *deposit_pages.pages, *withdrawal_pages.pages)
