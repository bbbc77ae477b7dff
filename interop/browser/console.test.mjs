// The admin console end to end in Debian's headless Chromium, driven by Playwright:
// sign in through Gatehouse, create a client, run a real sign-in with it, end that session,
// find all of it in the audit log. Screenshots go to SCREENSHOTS_DIR when it is set.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { accessible, launch, shoot } from './pages.mjs';

const BASE = process.env.GATEHOUSE_URL;
const CALLBACK = 'http://127.0.0.1:9/shop/callback';
let browser;

before(async () => {
  browser = await launch();
});
after(async () => { await browser?.close(); });

async function signIn(page, username, password) {
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

test('an administrator creates a client, a user signs in with it, the session is ended and audited', async () => {
  const admin = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await admin.newPage();

  // Signing in goes through Gatehouse itself: /admin → /authorize → login → back.
  await page.goto(`${BASE}/admin`);
  assert.match(page.url(), /\/authorize\?/);
  await signIn(page, 'root', 'root-password');
  await page.waitForURL(`${BASE}/admin`);
  await assert.doesNotReject(page.getByRole('heading', { name: 'Overview' }).waitFor());
  await accessible(page);
  await shoot(page, 'console-overview');

  // A new confidential client; its secret is shown once.
  await page.getByRole('link', { name: 'Clients', exact: true }).first().click();
  await page.getByRole('link', { name: 'New client' }).click();
  await accessible(page);
  await page.getByLabel('Client ID').fill('shop');
  await page.getByLabel('Name', { exact: true }).fill('The Shop');
  await page.getByLabel('refresh_token').check();
  await page.getByLabel('Redirect URIs', { exact: true }).fill(CALLBACK);
  await page.getByLabel('Scopes').fill('openid profile email');
  await page.getByLabel('Client authentication').selectOption('client_secret_basic');
  await page.getByRole('button', { name: 'Create client' }).click();
  await page.getByRole('heading', { name: 'Client created' }).waitFor();
  const secret = (await page.locator('#client-secret').textContent()).trim();
  assert.ok(secret.length >= 40, `a generated secret: ${secret}`);
  await shoot(page, 'console-client-secret', ['#client-secret']);
  await page.getByRole('link', { name: 'Done' }).click();
  assert.equal(await page.getByLabel('Name', { exact: true }).inputValue(), 'The Shop');

  // Search and paging find it.
  await page.goto(`${BASE}/admin/clients?q=shop`);
  await page.getByRole('link', { name: 'shop', exact: true }).waitFor();
  await shoot(page, 'console-clients');

  // alice signs in to the new client in her own browser, and the code redeems with the secret.
  const user = await browser.newContext();
  const userPage = await user.newPage();
  await user.route(`${CALLBACK}**`, (route) => route.fulfill({ status: 200, body: 'signed in' }));
  const authorize = new URL(`${BASE}/authorize`);
  authorize.search = new URLSearchParams({
    response_type: 'code', client_id: 'shop', redirect_uri: CALLBACK, scope: 'openid email', state: 'st-1',
  });
  await userPage.goto(authorize.href);
  await signIn(userPage, 'alice', 'alice-password');
  await userPage.getByRole('button', { name: 'Allow' }).click();
  await userPage.waitForURL(`${CALLBACK}**`);
  const back = new URL(userPage.url());
  assert.equal(back.searchParams.get('state'), 'st-1');
  const tokenRes = await fetch(`${BASE}/token`, {
    method: 'POST',
    headers: { authorization: `Basic ${Buffer.from(`shop:${secret}`).toString('base64')}` },
    body: new URLSearchParams({ grant_type: 'authorization_code', code: back.searchParams.get('code'), redirect_uri: CALLBACK }),
  });
  assert.equal(tokenRes.status, 200);
  const tokens = await tokenRes.json();
  assert.ok(tokens.id_token && tokens.access_token, 'an ID token and an access token');

  // The administrator finds alice's session and ends it.
  await page.goto(`${BASE}/admin/users`);
  await page.getByLabel('Search').fill('alice');
  await page.getByRole('button', { name: 'Search' }).click();
  await page.getByRole('link', { name: 'alice' }).click();
  const sessions = page.getByRole('table').filter({ has: page.getByRole('columnheader', { name: 'Session' }) });
  assert.equal(await sessions.getByRole('row').count(), 2, 'a header row and alice\'s one session');
  await accessible(page);
  await shoot(page, 'console-user');
  await page.getByRole('button', { name: /^End session/ }).click();
  await page.getByText('The sessions were ended.').waitFor();
  await page.getByText('No active session.').waitFor();

  // alice's browser is signed out: the next authorization asks her to sign in again.
  await userPage.goto(authorize.href);
  await userPage.getByRole('button', { name: 'Sign in' }).waitFor();

  // All of it is in the audit log, attributed to the administrator.
  await page.getByRole('link', { name: 'Audit log' }).click();
  const log = page.getByRole('table');
  for (const action of ['client.create', 'session.revoke']) {
    await log.getByRole('row').filter({ hasText: action }).first().waitFor();
  }
  const creation = await log.getByRole('row').filter({ hasText: 'client.create' }).filter({ hasText: 'client:shop' }).textContent();
  assert.match(creation, /user:/, 'the actor is the signed-in administrator');
  assert.equal(await page.getByLabel('Who').inputValue(), '', 'an empty filter field is empty');
  await page.getByLabel('What (prefix)').fill('session.');
  await page.getByRole('button', { name: 'Filter' }).click();
  await log.getByRole('row').filter({ hasText: 'session.revoke' }).first().waitFor();
  assert.equal(await log.getByRole('row').filter({ hasText: 'client.create' }).count(), 0);
  await shoot(page, 'console-audit');

  // Signing out revokes the console's token and asks to end the Gatehouse session.
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.waitForURL(/\/end_session/);
  await page.goto(`${BASE}/admin/users`);
  assert.match(page.url(), /\/authorize\?|\/admin\/users/);
  await admin.close();
  await user.close();
});

test('a user who is not an administrator is refused, and a secret is never shown twice', async () => {
  const ctx = await browser.newContext();
  const page = await ctx.newPage();
  await page.goto(`${BASE}/admin/keys`);
  await signIn(page, 'alice', 'alice-password');
  await page.getByRole('heading', { name: 'Not an administrator' }).waitFor();
  const res = await page.goto(`${BASE}/admin/clients`);
  assert.equal(res.status(), 403);
  await ctx.close();
});

test('forms without the CSRF token change nothing', async () => {
  const ctx = await browser.newContext();
  const page = await ctx.newPage();
  await page.goto(`${BASE}/admin/scopes`);
  await signIn(page, 'root', 'root-password');
  await page.waitForURL(`${BASE}/admin/scopes`);
  const res = await page.request.post(`${BASE}/admin/scopes`, { form: { name: 'sneaky', csrf: 'wrong' } });
  assert.equal(res.status(), 403);
  await page.reload();
  assert.equal(await page.getByText('sneaky').count(), 0);
  // With the real form it works, and the key rotation form too.
  await page.getByLabel('Name', { exact: true }).fill('inventory');
  await page.getByLabel('Claims it releases').fill('inventory');
  await page.getByRole('button', { name: 'Create scope' }).click();
  await page.getByText('The scope was created.').waitFor();
  await page.goto(`${BASE}/admin/keys`);
  const before = await page.getByRole('row').count();
  await page.getByLabel('Algorithm').selectOption('ES256');
  await page.getByRole('button', { name: 'Rotate' }).click();
  await page.getByText(/^Rotated/).waitFor();
  assert.equal(await page.getByRole('row').count(), before + 1);
  await accessible(page);
  await shoot(page, 'console-keys');
  await ctx.close();
});
