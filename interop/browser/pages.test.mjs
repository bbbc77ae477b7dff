// The pages end users see (login, consent, device, logout, error) in headless Chromium: they
// work without JavaScript (it is off here), pass the accessibility checks of pages.mjs at a
// desktop and a phone width, and are photographed for the README.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { accessible, launch, shoot } from './pages.mjs';

const BASE = process.env.GATEHOUSE_URL;
const WEBAPP_CB = 'http://127.0.0.1:3000/callback';
let browser;

before(async () => {
  browser = await launch();
});
after(async () => { await browser?.close(); });

const authorizeUrl = (extra = {}) => `${BASE}/authorize?${new URLSearchParams({
  response_type: 'code', client_id: 'webapp', redirect_uri: WEBAPP_CB, scope: 'openid profile email', state: 's', prompt: 'consent', ...extra,
})}`;

for (const [label, viewport] of [['desktop', { width: 1280, height: 800 }], ['phone', { width: 375, height: 740 }]]) {
  test(`sign-in, consent, logout and error pages at ${label} size`, async () => {
    const ctx = await browser.newContext({ viewport, javaScriptEnabled: false });
    await ctx.route(`${WEBAPP_CB}**`, (r) => r.fulfill({ status: 200, body: 'back at the app' }));
    await ctx.route('http://127.0.0.1:3000/', (r) => r.fulfill({ status: 200, body: 'signed out' }));
    const page = await ctx.newPage();
    const suffix = label === 'desktop' ? '' : '-phone';

    await page.goto(authorizeUrl());
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    await shoot(page, `login${suffix}`);
    await accessible(page);

    // A wrong password: the error is announced and tied to the field.
    await page.getByLabel('Username').fill('alice');
    await page.getByLabel('Password').fill('wrong');
    await page.getByRole('button', { name: 'Sign in' }).click();
    const error = page.getByRole('alert');
    await error.waitFor();
    assert.equal(await page.getByLabel('Username').getAttribute('aria-describedby'), await error.getAttribute('id'));
    await accessible(page);

    await page.getByLabel('Password').fill('alice-password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('button', { name: 'Allow' }).waitFor();
    await shoot(page, `consent${suffix}`);
    await accessible(page);
    await page.getByRole('button', { name: 'Allow' }).click();
    await page.waitForURL(`${WEBAPP_CB}**`);
    assert.ok(new URL(page.url()).searchParams.get('code'), 'the code reached the app: no CSP in the way');

    // Logout asks first, then returns to the app.
    await page.goto(`${BASE}/end_session?${new URLSearchParams({ client_id: 'webapp', post_logout_redirect_uri: 'http://127.0.0.1:3000/' })}`);
    await page.getByRole('heading').first().waitFor();
    await shoot(page, `logout${suffix}`);
    await accessible(page);
    await page.getByRole('button', { name: /sign out/i }).click();
    await page.waitForURL('http://127.0.0.1:3000/');

    // An error the user cannot be sent back to the client with.
    await page.goto(`${BASE}/authorize?client_id=webapp&redirect_uri=https://evil.example/&response_type=code`);
    await shoot(page, `error${suffix}`);
    await accessible(page);
    await ctx.close();
  });
}

test('the sign-in page offers upstream providers as links, accessibly', async () => {
  const base = process.env.GATEHOUSE_UPSTREAMS_URL;
  assert.ok(base, 'GATEHOUSE_UPSTREAMS_URL is set by crates/gatehouse/tests/it/interop.rs');
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 }, javaScriptEnabled: false });
  const page = await ctx.newPage();
  await page.goto(`${base}/authorize?${new URLSearchParams({
    response_type: 'code', client_id: 'webapp', redirect_uri: WEBAPP_CB, scope: 'openid profile', state: 's',
  })}`);
  const github = page.getByRole('link', { name: 'Sign in with GitHub' });
  await github.waitFor();
  assert.match(await github.getAttribute('href'), /\/login\/upstream\/github\?interaction=/);
  await page.getByRole('link', { name: 'Sign in with Example Corp' }).waitFor();
  await page.getByLabel('Password').waitFor();
  await shoot(page, 'sign-in-upstreams');
  await accessible(page);
  await ctx.close();
});

test('the device page accepts a code and signs the user in without JavaScript', async () => {
  const res = await fetch(`${BASE}/device_authorization`, {
    method: 'POST',
    body: new URLSearchParams({ client_id: 'tv', scope: 'openid profile' }),
  });
  assert.equal(res.status, 200);
  const grant = await res.json();
  const ctx = await browser.newContext({ javaScriptEnabled: false });
  const page = await ctx.newPage();
  await page.goto(`${BASE}/device`);
  await shoot(page, 'device');
  await accessible(page);
  await page.getByLabel('Code').fill(grant.user_code);
  await page.getByRole('button', { name: 'Continue' }).click();
  await page.getByLabel('Username').fill('alice');
  await page.getByLabel('Password').fill('alice-password');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('button', { name: 'Allow' }).click();
  await page.getByRole('heading').first().waitFor();
  assert.match(await page.content(), /connected|done|return to your device/i);
  await ctx.close();
});

test('a German browser gets German pages; ui_locales overrides it', async () => {
  const ctx = await browser.newContext({ locale: 'de-DE', javaScriptEnabled: false });
  const page = await ctx.newPage();
  await page.goto(authorizeUrl());
  await page.getByRole('heading', { name: 'Anmelden' }).waitFor();
  assert.equal(await page.locator('html').getAttribute('lang'), 'de');
  await page.getByLabel('Benutzername').fill('alice');
  await page.getByLabel('Passwort').fill('alice-password');
  await page.getByRole('button', { name: 'Anmelden' }).click();
  await page.getByRole('button', { name: 'Zulassen' }).waitFor();
  await shoot(page, 'consent-de');
  await accessible(page);
  await page.goto(authorizeUrl({ ui_locales: 'en' }));
  await page.getByRole('button', { name: 'Allow' }).waitFor();
  await ctx.close();
});
