// Passkeys in headless Chromium with its virtual authenticator (CDP's WebAuthn domain), through
// Gatehouse's own page script: tess adds a passkey on /account (her first factor brings
// recovery codes), signs in with it alone from the login page in another browser, uses it as
// the second factor after her password in a third, and removes it, after which it no longer
// signs in. The issuer is on localhost (GATEHOUSE_PASSKEY_URL): WebAuthn refuses IP addresses.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { accessible, launch, shoot } from './pages.mjs';

const BASE = process.env.GATEHOUSE_PASSKEY_URL;
let browser;

before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

// A browser (its own cookies) with a platform authenticator that verifies the user, holding
// `credential` when given (a passkey copied from another browser, as a synced passkey is).
// Each copy's signature counter starts beyond every earlier copy's: a counter that went back
// is what a cloned authenticator shows, and Gatehouse refuses it.
let copies = 0;
function copy(credential) {
  copies += 1;
  return { ...credential, signCount: copies * 1000 };
}

async function withAuthenticator(credential, viewport = { width: 1280, height: 900 }) {
  const ctx = await browser.newContext({ viewport });
  const page = await ctx.newPage();
  const cdp = await ctx.newCDPSession(page);
  await cdp.send('WebAuthn.enable');
  const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: {
      protocol: 'ctap2', ctap2Version: 'ctap2_1', transport: 'internal', hasResidentKey: true,
      hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true,
    },
  });
  if (credential) await cdp.send('WebAuthn.addCredential', { authenticatorId, credential: copy(credential) });
  return { ctx, page, cdp, authenticatorId };
}

test('a passkey is added, signs in alone and as the second factor, and is removed', async () => {
  // Add one on the account page.
  const first = await withAuthenticator();
  const page = first.page;
  await page.goto(`${BASE}/account`);
  assert.match(await page.getByLabel('Username').getAttribute('autocomplete'), /\bwebauthn\b/);
  await page.getByLabel('Username').fill('tess');
  await page.getByLabel('Password').fill('tess-password');
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await page.getByRole('heading', { name: 'Your account' }).waitFor();
  await page.getByRole('link', { name: 'Add a passkey' }).click();
  await page.getByRole('heading', { name: 'Add a passkey' }).waitFor();
  await page.getByRole('button', { name: 'Create passkey' }).waitFor();
  await accessible(page);
  await shoot(page, 'add-passkey');
  await page.getByLabel('Name of this passkey').fill('Laptop');
  await page.getByRole('button', { name: 'Create passkey' }).click();
  await page.getByRole('heading', { name: 'Recovery codes' }).waitFor();
  assert.equal(await page.locator('ul.codes li').count(), 10);
  await page.getByRole('button', { name: 'Continue' }).click();
  await page.getByRole('button', { name: 'Remove Laptop' }).waitFor();
  const { credentials } = await first.cdp.send('WebAuthn.getCredentials', { authenticatorId: first.authenticatorId });
  assert.equal(credentials.length, 1);
  assert.equal(credentials[0].isResidentCredential, true, 'discoverable');
  assert.equal(credentials[0].rpId, 'localhost');
  const passkey = credentials[0];

  // Another browser: the login page's passkey button, no password (the passkey arrives after
  // the page opened, so the autofill request has nothing to offer and the button asks).
  const second = await withAuthenticator(null, { width: 375, height: 740 });
  await second.page.goto(`${BASE}/account`);
  await second.page.getByRole('button', { name: 'Sign in with a passkey' }).waitFor();
  await accessible(second.page);
  await shoot(second.page, 'sign-in-passkey-phone');
  await second.cdp.send('WebAuthn.addCredential', { authenticatorId: second.authenticatorId, credential: copy(passkey) });
  await second.page.getByRole('button', { name: 'Sign in with a passkey' }).click();
  await second.page.getByRole('heading', { name: 'Your account' }).waitFor();
  await second.page.getByText(/(hwk|swk), user, mfa/).first().waitFor();

  // And from the username field's autofill (conditional mediation): the virtual authenticator
  // picks the passkey as a person would from the list, and the page signs in by itself.
  const autofill = await withAuthenticator(passkey);
  await autofill.page.goto(`${BASE}/account`);
  await autofill.page.getByRole('heading', { name: 'Your account' }).waitFor();

  // A third: the password, then the passkey as the second factor.
  // (The passkey arrives once the password was taken, or the autofill would use it first.)
  const third = await withAuthenticator(null);
  await third.page.goto(`${BASE}/account`);
  await third.page.getByLabel('Username').fill('tess');
  await third.page.getByLabel('Password').fill('tess-password');
  await third.page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await third.page.getByRole('heading', { name: 'Second factor' }).waitFor();
  await accessible(third.page);
  await third.cdp.send('WebAuthn.addCredential', { authenticatorId: third.authenticatorId, credential: copy(passkey) });
  await third.page.getByRole('button', { name: 'Use your passkey' }).click();
  await third.page.getByRole('heading', { name: 'Your account' }).waitFor();
  await third.page.getByText(/pwd, (hwk|swk), user, mfa/).first().waitFor();

  // Removed, it signs in no more (the autofill offers it; the server refuses it, once: a page
  // that shows an error does not ask the autofill again).
  await page.getByRole('button', { name: 'Remove Laptop' }).click();
  await page.getByText('The second factor was removed.').waitFor();
  const fourth = await withAuthenticator(passkey);
  await fourth.page.goto(`${BASE}/account`);
  await fourth.page.getByText('That passkey was not accepted.').waitFor();
  await fourth.page.getByRole('button', { name: 'Sign in with a passkey' }).click();
  await fourth.page.getByText('That passkey was not accepted.').waitFor();
  await fourth.page.getByLabel('Password').waitFor();
  for (const b of [first, second, autofill, third, fourth]) await b.ctx.close();
});
