// Opens a reply link in headless Chromium as a delegate would, reads the page, presses
// the button of ANSWER and reads the page the form leads to; prints what it saw as JSON.
// Used by tests/api/browser.rs. Usage: node rsvp.mjs URL ANSWER (with playwright-core
// resolvable and CHROMIUM naming the browser, default /usr/bin/chromium).
import { chromium } from "playwright-core";

const [url, answer] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--no-sandbox"],
});
try {
  const page = await browser.newPage({ locale: "vi-VN" });
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  const opened = await page.goto(url);
  const read = async () => ({
    title: await page.title(),
    heading: (await page.locator("h1").innerText()).normalize("NFC"),
    recipient: await page.locator("#recipient").innerText(),
    reply: await page.locator("#reply").getAttribute("data-reply"),
    buttons: await page.locator("form button").allInnerTexts(),
    proposed: (await page.locator("button.proposed").count())
      ? await page.locator("button.proposed").getAttribute("value")
      : null,
    status: (await page.locator("[role=status]").count())
      ? await page.locator("[role=status]").innerText()
      : null,
    // Whether the page lays out for a phone: the buttons fit the viewport.
    fits: await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth),
  });
  const before = { http: opened.status(), ...(await read()) };
  await page.setViewportSize({ width: 360, height: 740 });
  before.fits = (await read()).fits;
  const [response] = await Promise.all([
    page.waitForNavigation(),
    page.locator(`button[value="${answer}"]`).click(),
  ]);
  const after = { http: response.status(), ...(await read()) };
  console.log(JSON.stringify({ before, after, errors }));
} finally {
  await browser.close();
}
