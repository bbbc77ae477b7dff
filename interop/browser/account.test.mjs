// The account page and the second step of a sign-in in headless Chromium, without JavaScript:
// tess adds an authenticator app on /account (QR code drawn by the server, the key to type in
// beside it), sees her recovery codes once, and her next sign-in asks for a code. Every page
// passes the accessibility checks of pages.mjs and is photographed for the book.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { accessible, launch, shoot } from './pages.mjs';

const BASE = process.env.GATEHOUSE_URL;
let browser;

before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

// RFC 6238, as an authenticator app computes it.
function totp(base32, at = Date.now() / 1000) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const c of base32.trim()) bits += alphabet.indexOf(c).toString(2).padStart(5, '0');
  const key = Buffer.from(bits.match(/.{8}/g).map((b) => parseInt(b, 2)));
  const step = Buffer.alloc(8);
  step.writeBigUInt64BE(BigInt(Math.floor(at / 30)));
  const mac = createHmac('sha1', key).update(step).digest();
  const offset = mac[mac.length - 1] & 0x0f;
  return String((mac.readUInt32BE(offset) & 0x7fffffff) % 1_000_000).padStart(6, '0');
}

test('an authenticator app is added on the account page and asked for at the next sign-in', async () => {
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 }, javaScriptEnabled: false });
  const page = await ctx.newPage();
  await page.goto(`${BASE}/account`);
  await page.getByLabel('Username').fill('tess');
  await page.getByLabel('Password').fill('tess-password');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Your account' }).waitFor();
  await accessible(page);
  await shoot(page, 'account');

  await page.getByRole('link', { name: 'Add an authenticator app' }).click();
  await page.getByRole('heading', { name: 'Set up an authenticator app' }).waitFor();
  assert.equal(await page.locator('figure.qr svg').count(), 1, 'the QR code is inline SVG');
  await accessible(page);
  await shoot(page, 'enrol-totp', ['figure.qr', 'code.secret']);
  const secret = await page.locator('code.secret').textContent();
  await page.getByLabel('Code from the app').fill('000000');
  await page.getByRole('button', { name: 'Confirm' }).click();
  await page.getByRole('alert').waitFor();
  await page.getByLabel('Code from the app').fill(totp(secret));
  await page.getByRole('button', { name: 'Confirm' }).click();
  await page.getByRole('heading', { name: 'Recovery codes' }).waitFor();
  assert.equal(await page.locator('ul.codes li').count(), 10);
  await accessible(page);
  await shoot(page, 'recovery-codes', ['ul.codes']);
  await page.getByRole('button', { name: 'Continue' }).click();
  await page.getByText('Recovery codes left: 10').waitFor();

  // A new browser: password, then the code.
  const other = await browser.newContext({ viewport: { width: 375, height: 740 }, javaScriptEnabled: false });
  const p2 = await other.newPage();
  await p2.goto(`${BASE}/account`);
  await p2.getByLabel('Username').fill('tess');
  await p2.getByLabel('Password').fill('tess-password');
  await p2.getByRole('button', { name: 'Sign in' }).click();
  await p2.getByRole('heading', { name: 'Second factor' }).waitFor();
  await accessible(p2);
  await shoot(p2, 'second-factor-phone');
  await p2.getByLabel('Code from the app').fill(totp(secret, Date.now() / 1000 + 30));
  await p2.getByRole('button', { name: 'Verify' }).click();
  await p2.getByRole('heading', { name: 'Your account' }).waitFor();
  // The first browser's session is listed there and can be ended.
  assert.equal(await p2.getByText('Another browser').count(), 1);
  await other.close();
  await ctx.close();
});
