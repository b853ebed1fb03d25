"""Checks run in the page: labelled controls, text contrast, width at 360 px, script bytes."""

from collections.abc import Callable
from typing import Any

from playwright.sync_api import Page, Response

SCRIPT_BUDGET = 300 * 1024

UNLABELLED = """() => Array.from(document.querySelectorAll('input, select, textarea, button'))
  .filter(el => el.type !== 'hidden' && el.offsetParent !== null)
  .filter(el => {
    if (el.tagName === 'BUTTON') return !el.textContent.trim() && !el.getAttribute('aria-label');
    return !(el.labels && el.labels.length) && !el.getAttribute('aria-label');
  })
  .map(el => el.outerHTML.slice(0, 120))"""

# WCAG 2 contrast of each element's own text against its effective background.
LOW_CONTRAST = """() => {
  const rgb = s => (s.match(/[\\d.]+/g) || []).map(Number);
  const lum = ([r, g, b]) => {
    const f = c => {
      c /= 255;
      return c <= 0.03928 ? c / 12.92 : Math.pow((c + 0.055) / 1.055, 2.4);
    };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  const background = el => {
    for (; el; el = el.parentElement) {
      const c = rgb(getComputedStyle(el).backgroundColor);
      if (c.length === 3 || (c.length === 4 && c[3] > 0.5)) return c.slice(0, 3);
    }
    return [255, 255, 255];
  };
  const bad = [];
  for (const el of document.querySelectorAll('body *')) {
    if (el.offsetParent === null && el.tagName !== 'BODY') continue;
    const ownText = Array.from(el.childNodes).some(n => n.nodeType === 3 && n.textContent.trim());
    if (!ownText) continue;
    const style = getComputedStyle(el);
    const a = lum(rgb(style.color).slice(0, 3)), b = lum(background(el));
    const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
    const size = parseFloat(style.fontSize), bold = parseInt(style.fontWeight) >= 700;
    const large = size >= 24 || (bold && size >= 18.66);
    if (ratio < (large ? 3 : 4.5)) {
      bad.push(`${el.tagName} "${el.textContent.trim().slice(0, 20)}" ${ratio.toFixed(2)}`);
    }
  }
  return bad;
}"""


def accessibility_problems(page: Page) -> dict[str, list[str]]:
    problems = {
        "unlabelled": page.evaluate(UNLABELLED),
        "low_contrast": page.evaluate(LOW_CONTRAST),
        "too_wide": [],
    }
    width = page.evaluate("document.documentElement.scrollWidth")
    if width > page.viewport_size["width"]:
        problems["too_wide"].append(f"scrollWidth {width}")
    return {k: v for k, v in problems.items() if v}


class ScriptMeter:
    """Bytes of script each page load fetched (successful responses only)."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.pending: list[Response] = []
        # Every load fetches its scripts again, so each page is measured on its own.
        page.context.new_cdp_session(page).send("Network.setCacheDisabled",
                                                {"cacheDisabled": True})
        page.on("response", self._seen)

    def _seen(self, response: Response) -> None:
        if response.request.resource_type == "script" and response.ok:
            self.pending.append(response)

    def measure(self, load: Callable[[], Any]) -> int:
        self.pending = []
        load()
        self.page.wait_for_load_state("load")
        return sum(len(r.body()) for r in self.pending)
