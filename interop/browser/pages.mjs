// What every page Gatehouse shows must hold, checked in the browser: a language, one main
// heading, a label for every field, a name for every button, text contrast of at least WCAG
// AA (4.5:1, 3:1 for large text), keyboard focus that shows, and a layout that fits the screen.
import assert from 'node:assert/strict';
import { chromium } from 'playwright-core';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';

// Debian's Chromium (or CHROMIUM), headless.
export function launch() {
  return chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium', args: ['--no-sandbox'] });
}

export async function accessible(page) {
  const problems = await page.evaluate(() => {
    const out = [];
    if (!document.documentElement.lang) out.push('<html> has no lang');
    const h1 = document.querySelectorAll('h1');
    if (h1.length !== 1) out.push(`${h1.length} <h1> elements`);
    const visible = (el) => el.getClientRects().length > 0 && getComputedStyle(el).visibility !== 'hidden';
    for (const el of document.querySelectorAll('input:not([type=hidden]), select, textarea')) {
      if (!visible(el)) continue;
      const named = (el.labels && el.labels.length > 0) || el.getAttribute('aria-label') || el.getAttribute('aria-labelledby');
      if (!named) out.push(`field ${el.name || el.id} has no label`);
    }
    for (const el of document.querySelectorAll('button, a[href]')) {
      if (visible(el) && !(el.getAttribute('aria-label') || el.textContent.trim())) out.push(`${el.tagName} without a name`);
    }
    for (const img of document.querySelectorAll('img')) {
      if (!img.hasAttribute('alt')) out.push(`img ${img.src} has no alt`);
    }
    // WCAG 2.1 relative luminance and contrast ratio.
    const rgba = (s) => (s.match(/[\d.]+/g) || []).map(Number);
    const lum = ([r, g, b]) => {
      const c = [r, g, b].map((v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; });
      return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2];
    };
    const background = (el) => {
      for (let e = el; e; e = e.parentElement) {
        const c = rgba(getComputedStyle(e).backgroundColor);
        if (c.length >= 3 && (c.length === 3 || c[3] > 0.5)) return c;
      }
      return [255, 255, 255];
    };
    for (const el of document.querySelectorAll('body *')) {
      const text = [...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim());
      if (!text || !visible(el)) continue;
      const style = getComputedStyle(el);
      const fg = lum(rgba(style.color));
      const bg = lum(background(el));
      const ratio = (Math.max(fg, bg) + 0.05) / (Math.min(fg, bg) + 0.05);
      const size = parseFloat(style.fontSize);
      const large = size >= 24 || (size >= 18.66 && Number(style.fontWeight) >= 700);
      if (ratio < (large ? 3 : 4.5)) out.push(`contrast ${ratio.toFixed(2)} for "${el.textContent.trim().slice(0, 30)}"`);
    }
    if (document.documentElement.scrollWidth > window.innerWidth + 1) out.push('the page scrolls sideways');
    return out;
  });
  assert.deepEqual(problems, [], `${page.url()}: ${problems.join('; ')}`);
  // Keyboard: the first Tab lands on something, and it shows an outline.
  const interactive = await page.evaluate(() =>
    !!document.querySelector('a[href], button, input:not([type=hidden]), select, textarea'));
  if (!interactive) return;
  await page.keyboard.press('Tab');
  const focus = await page.evaluate(() => {
    const el = document.activeElement;
    if (!el || el === document.body) return null;
    const s = getComputedStyle(el);
    return { tag: el.tagName, outline: s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0, left: el.getBoundingClientRect().left };
  });
  assert.ok(focus, `${page.url()}: Tab focuses nothing`);
  assert.ok(focus.outline, `${page.url()}: the focused ${focus.tag} shows no outline`);
}

// A screenshot for the README (SCREENSHOTS_DIR), with `mask` (secrets) covered. Checks first
// that the page rendered styled: its stylesheets loaded and applied, and the picture is not a
// near-empty PNG.
export async function shoot(page, name, mask = []) {
  const styled = await page.evaluate(() =>
    [...document.styleSheets].every((s) => s.cssRules.length > 0) && getComputedStyle(document.body).fontFamily.includes('system-ui'));
  assert.ok(styled, `${name}: the page's stylesheet did not apply`);
  await page.evaluate(() => document.activeElement?.blur());
  const options = { fullPage: true, mask: mask.map((m) => page.locator(m)), maskColor: '#c8ccd2' };
  const png = await page.screenshot(options);
  assert.ok(png.length > 8000, `${name}: the screenshot looks blank (${png.length} bytes)`);
  const dir = process.env.SCREENSHOTS_DIR;
  if (dir) {
    mkdirSync(dir, { recursive: true });
    await page.screenshot({ ...options, path: join(dir, `${name}.png`) });
  }
}
