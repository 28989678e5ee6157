"""The panel's story in a real browser: headless Chromium driven by selenium. The inbox
(a support lead), then the flow studio (an editor changing the greeting), in one browser.

usage: browser_story.py PANEL_URL TELEGRAM_FAKE_URL API_KEY ADMIN_PASSWORD AGENT_PASSWORD EDITOR_PASSWORD OUT_DIR

PANEL_URL is the server's base URL (http://127.0.0.1:PORT); TELEGRAM_FAKE_URL the fake
Telegram's (its /fake/private-message plays a customer). The admin is `lead`, the agent
`sam`, the editor `erin`. Prints one line per step ("step: ..."), the measured live latency
("live: N ms") and the live check's ("check: N ms"), and "story: done" at the end; a failed
step prints "FAILED: why" to stderr and exits 1. Screenshots go to OUT_DIR (inbox.png,
studio-*.png for the README, and failure.png when a step fails).
"""
import json
import os
import socket
import sys
import threading
import traceback
import time
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, HTTPServer

try:
    from selenium import webdriver
    from selenium.common.exceptions import NoAlertPresentException, StaleElementReferenceException, TimeoutException
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import WebDriverWait
except ImportError:
    sys.stderr.write('selenium is missing: pip install "selenium>=4.11,<5" (and apt-get install chromium chromium-driver)\n')
    sys.exit(3)

XSS_NAME = "<img src=x onerror=alert(1)>"


LAST_STEP = ["starting"]


def step(text):
    LAST_STEP[0] = text
    print("step: " + text, flush=True)


def post_form(url, fields):
    data = urllib.parse.urlencode(fields).encode()
    with urllib.request.urlopen(urllib.request.Request(url, data=data, method="POST"), timeout=10) as response:
        return json.loads(response.read())


def history(base, user_id, name):
    """The app's history fetch: what makes the day's greeting."""
    query = urllib.parse.urlencode({"user_name": name})
    with urllib.request.urlopen(base + "/message_history/%s?%s" % (user_id, query), timeout=10) as response:
        return [item.get("message") or "" for item in json.loads(response.read())["messages"]]


def api_get(base, path, key):
    request = urllib.request.Request(base + path, headers={"X-API-Key": key})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def customer_writes(telegram, user_id, first_name, text):
    answer = post_form(telegram + "/fake/private-message", {"user_id": user_id, "first_name": first_name, "text": text})
    if not answer.get("ok"):
        raise AssertionError("the fake Telegram refused the customer's message: %r" % answer)


class Story:
    def __init__(self, base, telegram, key, out):
        self.base, self.telegram, self.key, self.out = base, telegram, key, out
        options = webdriver.ChromeOptions()
        options.binary_location = "/usr/bin/chromium"
        for argument in ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,800"]:
            options.add_argument(argument)
        self.driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
        self.driver.set_page_load_timeout(20)

    def wait(self, what, condition, seconds=10):
        """Waits until `condition` is truthy; the live page redraws parts of itself, so an
        element found a moment ago may be gone: that counts as not yet."""
        def attempt(driver):
            try:
                return condition()
            except StaleElementReferenceException:
                return None
        try:
            return WebDriverWait(self.driver, seconds, poll_frequency=0.05).until(attempt)
        except TimeoutException:
            raise AssertionError("timed out waiting for " + what)

    def click(self, what, css_or_finder):
        """Clicks an element found afresh until the click lands on a live element."""
        def attempt():
            element = self.find(css_or_finder) if isinstance(css_or_finder, str) else css_or_finder()
            if element is None:
                return None
            element.click()
            return True
        self.wait("to click " + what, attempt)

    def type_and_enter(self, what, css, text):
        """Types `text` into a field found afresh and presses Enter there; starts again
        when a live update replaced the field meanwhile (a stale element never got the key)."""
        def attempt():
            field = self.find(css)
            if field.get_attribute("value") != text:
                field.clear()
                field.send_keys(text)
                if field.get_attribute("value") != text:
                    return None
            field.send_keys(Keys.ENTER)
            return True
        self.wait("to type and send " + what, attempt)

    def find(self, css):
        return self.driver.find_element(By.CSS_SELECTOR, css)

    def finds(self, css):
        return self.driver.find_elements(By.CSS_SELECTOR, css)

    def log_in(self, name, password):
        self.driver.get(self.base + "/admin")
        self.wait("the login page", lambda: "/admin/login" in self.driver.current_url)
        self.find("input[name=username]").send_keys(name)
        self.find("input[name=password]").send_keys(password)
        self.find("form[action='/admin/login'] button, form[action='/admin/login'] [type=submit]").click()
        self.wait("the inbox after logging in", lambda: self.finds("#inbox"))

    def chat_named(self, name):
        for item in self.finds("#chats li.chat"):
            if item.find_element(By.CSS_SELECTOR, ".name").text == name:
                return item
        return None

    def alert(self):
        """The open alert or confirmation, or None."""
        try:
            return self.driver.switch_to.alert
        except NoAlertPresentException:
            return None

    def no_alert(self):
        try:
            alert = self.driver.switch_to.alert
            raise AssertionError("a script ran from customer data: alert %r" % alert.text)
        except NoAlertPresentException:
            pass

    def run(self, admin_password, agent_password, editor_password):
        self.inbox(admin_password, agent_password)
        self.studio(editor_password)
        print("story: done", flush=True)

    def shot(self, name):
        os.makedirs(self.out, exist_ok=True)
        self.driver.save_screenshot(os.path.join(self.out, name))

    def studio(self, editor_password):
        """An editor changes the greeting in the browser alone: a mistake pointed out at its
        line as they type, the fix tried on an event, compared with what the live flows did
        with this week's events, saved, seen in use, and rolled back."""
        driver = self.driver
        step("customers opened the app this week: greetings the comparison can show")
        for user, name in [("app-501", "Анна"), ("app-502", "Олег")]:
            if not any(message.startswith("Здравствуйте") for message in history(self.base, user, name)):
                raise AssertionError("no greeting for %s before the change" % user)

        step("an editor opens the greeting")
        self.log_in("erin", editor_password)
        driver.get(self.base + "/admin/flows")
        self.click("the greeting in the flows list", "a[href='/admin/flows/daily-greeting.yaml']")
        self.wait("the editor", lambda: self.finds("#flow-content"))
        original = self.find("#flow-content").get_attribute("value")

        step("type a misspelt action; the error appears at its line")
        text = self.find("#flow-content")
        text.click()
        text.send_keys(Keys.CONTROL, Keys.END)
        text.send_keys("\n  - gret: \"Hi\"")
        typed = time.monotonic()
        # The typed line's number: the file's lines, then the new one after the line break typed.
        mistake_line = original.count("\n") + 2
        self.wait("the error at line %d" % mistake_line, lambda: any(
            (":%d:" % mistake_line) in item.text and "gret" in item.text and "greet" in item.text
            for item in self.finds("#diagnostics li.error")), seconds=1.5)
        check_ms = (time.monotonic() - typed) * 1000
        print("check: %.0f ms" % check_ms, flush=True)
        if check_ms > 1000:
            raise AssertionError("the error took %.0f ms to appear, over a second" % check_ms)
        # Tall enough to show the editor and the error list below it together.
        driver.set_window_size(1280, 1100)
        self.shot("studio-mistake.png")
        driver.set_window_size(1280, 800)

        step("fix it: a new greeting; the check is clean")
        draft = original.replace("Здравствуйте", "Добрый день")
        text = self.find("#flow-content")
        text.send_keys(Keys.CONTROL, "a")
        text.send_keys(Keys.DELETE)
        driver.execute_script("arguments[0].value = arguments[1]; arguments[0].dispatchEvent(new Event('input'));", text, draft)
        self.wait("no problems", lambda: self.find("#check-summary").text == "No problems found.", seconds=3)

        step("try the draft on a history fetch")
        self.click("try it", "details.try-it summary")
        kind = self.find("select[name=try_kind]")
        kind.find_element(By.CSS_SELECTOR, "option[value=history_fetch]").click()
        name = self.find("input[name=try_user_name]")
        name.clear()
        name.send_keys("Анна")
        self.click("try the draft", "button[formaction='/admin/flows/try']")
        self.wait("the tried greeting", lambda: "greet: Добрый день, Анна!" in self.find("#try-outcome").text.replace("\n", " "))
        if "Добрый день" not in self.find("#flow-content").get_attribute("value"):
            raise AssertionError("the draft was lost after trying it")

        step("compare with the live flows on this week's events")
        self.click("what would change", "details.compare summary")
        self.click("compare", "button[formaction='/admin/flows/compare']")
        self.wait("the comparison", lambda: self.finds("#compare-outcome"), seconds=20)
        outcome = self.find("#compare-outcome").text
        if "Daily greeting" not in outcome or "greet: Добрый день!" not in outcome or "greet: Здравствуйте!" not in outcome:
            raise AssertionError("the comparison does not show the greetings that change: %r" % outcome[:600])
        driver.execute_script("document.getElementById('compare-outcome').scrollIntoView()")
        self.shot("studio-compare.png")

        step("save; the server greets with the new text")
        comment = self.find("input[name=comment]")
        comment.send_keys("A warmer greeting")
        self.click("save", ".editor-form .actions button:not([formaction])")
        self.wait("saved", lambda: "Saved." in self.find("body").text)
        if not any(message.startswith("Добрый день") for message in history(self.base, "app-503", "Ира")):
            raise AssertionError("the server did not greet with the saved text")

        step("restore the previous version")
        driver.get(self.base + "/admin/flows/daily-greeting.yaml/history")
        self.wait("the history", lambda: self.finds("table tbody tr"))
        self.shot("studio-history.png")
        self.click("restore", "form[action='/admin/flows/daily-greeting.yaml/restore'] button")
        self.wait("the confirmation", self.alert).accept()
        self.wait("restored", lambda: "Restored." in self.find("body").text)
        if not any(message.startswith("Здравствуйте") for message in history(self.base, "app-504", "Ян")):
            raise AssertionError("the server did not greet with the restored text")

        step("log out")
        self.click("log out", "form[action='/admin/logout'] button")
        self.wait("the login page after logout", lambda: "/admin/login" in driver.current_url)

    def inbox(self, admin_password, agent_password):
        driver = self.driver
        step("log in as the admin")
        self.log_in("lead", admin_password)

        step("a customer writes in Telegram; the chat appears without a reload")
        driver.execute_script("document.body.setAttribute('data-story-marker', 'same-page')")
        started = time.monotonic()
        customer_writes(self.telegram, 7770001, "Olga", "Where is my order 123?")
        chat = self.wait("Olga's chat to appear live", lambda: self.chat_named("Olga"), seconds=10)
        live_ms = (time.monotonic() - started) * 1000
        if driver.find_element(By.TAG_NAME, "body").get_attribute("data-story-marker") != "same-page":
            raise AssertionError("the page was reloaded")
        print("live: %.0f ms" % live_ms, flush=True)
        self.wait("the unread count in the title", lambda: driver.title.startswith("("))

        step("open the chat")
        self.click("Olga's chat", lambda: self.chat_named("Olga").find_element(By.CSS_SELECTOR, "a"))
        self.wait("Olga's message in the conversation",
                  lambda: any("Where is my order 123?" in item.text for item in self.finds("#messages li.message")))
        self.wait("the AI's answer (auto mode is on)",
                  lambda: any("author-assistant" in (item.get_attribute("class") or "") or "author-flow" in (item.get_attribute("class") or "")
                              for item in self.finds("#messages li.message")), seconds=15)
        self.click("why", "#why summary")
        self.wait("why the bot answered", lambda: self.finds("#why .run"))

        step("take over from the AI")
        self.click("take over", "#toggle-auto")
        self.wait("the staff banner", lambda: "Give back" in self.find("#toggle-auto").text)

        step("reply; Enter sends")
        self.type_and_enter("the reply", "#reply", "Your order ships today")
        self.wait("the reply in the conversation",
                  lambda: any("Your order ships today" in item.text for item in self.finds("#messages li.message")))
        chat_id = self.wait("the open chat's id", lambda: self.find("#chats li.current").get_attribute("data-chat-id"))
        try:
            self.wait("the reply delivered to Telegram", lambda: self.delivered(chat_id, "Your order ships today"), seconds=15)
        except AssertionError as error:
            raise AssertionError("%s; the /api has: %r" % (error, api_get(self.base, "/api/chats/%s/messages?perPage=100" % chat_id, self.key)))

        step("give back to the AI")
        self.click("give back", "#toggle-auto")
        self.wait("the AI banner", lambda: "Take over" in self.find("#toggle-auto").text)
        os.makedirs(self.out, exist_ok=True)
        driver.save_screenshot(os.path.join(self.out, "inbox.png"))

        step("a customer's name with HTML stays text")
        customer_writes(self.telegram, 7770002, XSS_NAME, "hello")
        self.wait("the XSS-named chat", lambda: self.chat_named(XSS_NAME))
        if self.finds("#chats img"):
            raise AssertionError("the customer's name became an <img> element")
        self.click("the XSS chat", lambda: self.chat_named(XSS_NAME).find_element(By.CSS_SELECTOR, "a"))
        self.wait("the XSS chat open", lambda: self.find("#conversation h2").text == XSS_NAME)
        time.sleep(0.3)
        self.no_alert()

        step("a form posted from another site is refused")
        status = self.cross_site_post(chat_id)
        if status != 403:
            raise AssertionError("a cross-site reply was answered %s, not 403" % status)
        if self.delivered(chat_id, "forged"):
            raise AssertionError("the forged reply was sent")

        step("log out")
        self.click("log out", "form[action='/admin/logout'] button")
        self.wait("the login page after logout", lambda: "/admin/login" in driver.current_url)
        driver.get(self.base + "/admin")
        self.wait("a redirect to login after logout", lambda: "/admin/login" in driver.current_url)

        step("an agent is refused the users page")
        self.log_in("sam", agent_password)
        driver.get(self.base + "/admin/users")
        if "/admin/login" in driver.current_url or not self.finds("body"):
            raise AssertionError("the agent was not shown a refusal")
        page = self.find("body").text
        if "lead" in page and "sam" in page and "Add" in page:
            raise AssertionError("the agent saw the users page")
        if "403" not in page and "not allowed" not in page.lower() and "forbidden" not in page.lower():
            raise AssertionError("the agent's refusal does not say so: %r" % page[:300])
        # The refusal page has no logout form: the agent leaves by closing the browser's session.
        driver.delete_all_cookies()

    def delivered(self, chat_id, text):
        messages = api_get(self.base, "/api/chats/%s/messages?perPage=100" % chat_id, self.key)["messages"]
        return any(text in (message.get("content") or "") and message.get("deliveryStatus") == "sent" for message in messages)

    def cross_site_post(self, chat_id):
        """Serves a page on another origin whose form posts a reply to the panel, submits it
        in the logged-in browser, and returns the status the panel answered."""
        target = "%s/admin/chats/%s/reply" % (self.base, chat_id)
        page = ('<!doctype html><form id="f" method="post" action="%s"><input name="text" value="forged"></form>'
                '<script>document.getElementById("f").submit()</script>' % target).encode()

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                self.send_response(200)
                self.send_header("Content-Type", "text/html")
                self.end_headers()
                self.wfile.write(page)

            def log_message(self, *args):
                pass

        server = HTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        try:
            self.driver.get("http://127.0.0.1:%d/" % server.server_address[1])
            self.wait("the forged post's answer", lambda: "/admin/chats/" in self.driver.current_url)
            status = self.driver.execute_script(
                "var e = performance.getEntriesByType('navigation')[0]; return e && e.responseStatus;")
            if not status:
                body = self.find("body").text
                status = 403 if ("403" in body or "refused" in body.lower() or "forbidden" in body.lower()) else 200
            return status
        finally:
            server.shutdown()
            self.driver.get(self.base + "/admin")


def main():
    base, telegram, key, admin_password, agent_password, editor_password, out = sys.argv[1:8]
    watchdog = threading.Timer(210, lambda: (sys.stderr.write("FAILED: the story took over 210 s\n"), os._exit(2)))
    watchdog.daemon = True
    watchdog.start()
    story = Story(base.rstrip("/"), telegram.rstrip("/"), key, out)
    try:
        story.run(admin_password, agent_password, editor_password)
    except Exception as error:
        os.makedirs(out, exist_ok=True)
        try:
            story.driver.save_screenshot(os.path.join(out, "failure.png"))
            with open(os.path.join(out, "failure.html"), "w") as page:
                page.write(story.driver.page_source)
        except Exception:
            pass
        sys.stderr.write("FAILED at step '%s': %s\n%s" % (LAST_STEP[0], error, traceback.format_exc()))
        sys.exit(1)
    finally:
        story.driver.quit()


if __name__ == "__main__":
    main()
