// panva's openid-client (certified OpenID Connect Relying Party) against Gatehouse.
// GATEHOUSE_URL is the issuer of a running Gatehouse with the integration-test config.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as oidc from 'openid-client';
import { Browser } from './browser.mjs';
import { createHmac } from 'node:crypto';

const issuer = new URL(process.env.GATEHOUSE_URL ?? 'http://127.0.0.1:8080');
// Plain http is only used on loopback in tests; the library requires saying so.
const options = { execute: [oidc.allowInsecureRequests] };

async function configure(clientId, auth) {
  const config = await oidc.discovery(issuer, clientId, undefined, auth, options);
  // Verify ID token signatures against the JWKS, not just trust TLS.
  oidc.enableNonRepudiationChecks(config);
  return config;
}

async function codeFlow(config, { redirect_uri, scope }, browser = new Browser()) {
  const verifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  const nonce = oidc.randomNonce();
  const url = oidc.buildAuthorizationUrl(config, {
    redirect_uri, scope, state, nonce,
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
  });
  const callback = await browser.signIn(url.href, 'alice', 'alice-password');
  return oidc.authorizationCodeGrant(config, callback, {
    pkceCodeVerifier: verifier, expectedState: state, expectedNonce: nonce, idTokenExpected: true,
  });
}

test('discovery document is accepted', async () => {
  const config = await oidc.discovery(issuer, 'webapp', 'webapp-secret', undefined, options);
  const md = config.serverMetadata();
  assert.equal(md.issuer, issuer.href.replace(/\/$/, ''));
  assert.ok(md.code_challenge_methods_supported.includes('S256'));
});

test('public SPA: authorization code + PKCE, refresh with rotation', async () => {
  const config = await configure('spa', oidc.None());
  const tokens = await codeFlow(config, { redirect_uri: 'http://127.0.0.1:5173/callback', scope: 'openid profile offline_access' });
  const claims = tokens.claims();
  assert.ok(claims.sub);
  assert.equal(claims.aud, 'spa');
  assert.ok(tokens.refresh_token);
  const refreshed = await oidc.refreshTokenGrant(config, tokens.refresh_token);
  assert.notEqual(refreshed.refresh_token, tokens.refresh_token, 'rotated');
  assert.equal(refreshed.claims().sub, claims.sub);
  // A repeat inside the reuse grace window (a retry, a second tab) gets the same successor.
  const retried = await oidc.refreshTokenGrant(config, tokens.refresh_token);
  assert.equal(retried.refresh_token, refreshed.refresh_token, 'the same successor');
  assert.notEqual(retried.access_token, refreshed.access_token, 'a fresh access token');
  // Once the successor has been used, the rotated token is spent: presenting it is a replay.
  const next = await oidc.refreshTokenGrant(config, refreshed.refresh_token);
  await assert.rejects(oidc.refreshTokenGrant(config, tokens.refresh_token), (e) => e.error === 'invalid_grant');
  await assert.rejects(oidc.refreshTokenGrant(config, next.refresh_token), (e) => e.error === 'invalid_grant');
});

test('DPoP (RFC 9449): a DPoP-requiring public client, token, refresh and userinfo bound to its key', async () => {
  const config = await configure('dpop-spa', oidc.None());
  const DPoP = oidc.getDPoPHandle(config, await oidc.randomDPoPKeyPair('ES256'));
  const verifier = oidc.randomPKCECodeVerifier();
  const url = oidc.buildAuthorizationUrl(config, {
    redirect_uri: 'http://127.0.0.1:5174/cb', scope: 'openid offline_access',
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
  });
  const callback = await new Browser().signIn(url.href, 'alice', 'alice-password');
  // The server wants nonces: the library learns one from use_dpop_nonce and retries.
  const tokens = await oidc.authorizationCodeGrant(config, callback, { pkceCodeVerifier: verifier, idTokenExpected: true }, undefined, { DPoP });
  assert.equal(tokens.token_type.toLowerCase(), 'dpop');
  const sub = tokens.claims().sub;
  const info = await oidc.fetchUserInfo(config, tokens.access_token, sub, { DPoP });
  assert.equal(info.sub, sub);
  const refreshed = await oidc.refreshTokenGrant(config, tokens.refresh_token, undefined, { DPoP });
  assert.equal(refreshed.token_type.toLowerCase(), 'dpop');
  assert.equal((await oidc.fetchUserInfo(config, refreshed.access_token, sub, { DPoP })).sub, sub);
  // Another key cannot use the refresh token, nor the access token.
  const other = oidc.getDPoPHandle(config, await oidc.randomDPoPKeyPair('ES256'));
  await assert.rejects(oidc.refreshTokenGrant(config, refreshed.refresh_token, undefined, { DPoP: other }), (e) => e.error === 'invalid_dpop_proof');
  await assert.rejects(oidc.fetchUserInfo(config, refreshed.access_token, sub, { DPoP: other }));
  // Nor can it be used as a bearer token.
  await assert.rejects(oidc.fetchUserInfo(config, refreshed.access_token, sub));
});

test('confidential client, client_secret_basic: code flow, userinfo', async () => {
  const config = await configure('webapp', oidc.ClientSecretBasic('webapp-secret'));
  const tokens = await codeFlow(config, { redirect_uri: 'http://127.0.0.1:3000/callback', scope: 'openid email roles offline_access' });
  const claims = tokens.claims();
  assert.deepEqual(claims.roles, ['admin']);
  const info = await oidc.fetchUserInfo(config, tokens.access_token, claims.sub);
  assert.equal(info.email, 'alice@example.com');
  const refreshed = await oidc.refreshTokenGrant(config, tokens.refresh_token);
  assert.ok(refreshed.access_token);
});

test('confidential client, client_secret_post, ES256 ID token', async () => {
  const config = await configure('postapp', oidc.ClientSecretPost('postapp-secret'));
  const tokens = await codeFlow(config, { redirect_uri: 'http://127.0.0.1:4000/cb', scope: 'openid profile' });
  assert.equal(tokens.claims().aud, 'postapp');
  const info = await oidc.fetchUserInfo(config, tokens.access_token, tokens.claims().sub);
  assert.equal(info.name, 'Alice Example');
});

test('client_credentials', async () => {
  const config = await configure('service', oidc.ClientSecretBasic('service-secret'));
  const tokens = await oidc.clientCredentialsGrant(config, { scope: 'roles' });
  assert.equal(tokens.token_type, 'bearer');
  assert.equal(tokens.scope, 'roles');
  assert.equal(tokens.id_token, undefined);
});

test('password grant', async () => {
  const config = await configure('pwapp', oidc.ClientSecretBasic('pwapp-secret'));
  const tokens = await oidc.genericGrantRequest(config, 'password', {
    username: 'alice', password: 'alice-password', scope: 'openid roles offline_access',
  });
  assert.deepEqual(tokens.claims().roles, ['admin']);
  assert.ok(tokens.refresh_token);
  await assert.rejects(
    oidc.genericGrantRequest(config, 'password', { username: 'alice', password: 'wrong' }),
    (e) => e.error === 'invalid_grant',
  );
});

test('wrong client secret: 401 with the Basic challenge (RFC 6749 §5.2)', async () => {
  const config = await configure('service', oidc.ClientSecretBasic('not-the-secret'));
  let caught;
  try {
    await oidc.clientCredentialsGrant(config);
  } catch (e) {
    caught = e;
  }
  assert.ok(caught, 'the grant must fail');
  assert.equal(caught.status, 401);
  assert.equal(caught.cause[0].scheme, 'basic');
  assert.equal((await caught.response.json()).error, 'invalid_client');
});

test('device authorization grant (RFC 8628)', async () => {
  const config = await configure('tv', oidc.None());
  const da = await oidc.initiateDeviceAuthorization(config, { scope: 'openid profile offline_access' });
  assert.match(da.user_code, /^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$/);
  // A person approves on another screen while the device polls.
  const stop = new AbortController();
  const approval = new Browser()
    .approveDevice(da.verification_uri_complete, da.user_code, 'alice', 'alice-password')
    .catch((e) => { stop.abort(); throw e; });
  const [tokens] = await Promise.all([
    oidc.pollDeviceAuthorizationGrant(config, da, undefined, { signal: stop.signal }),
    approval,
  ]);
  assert.ok(tokens.claims().sub);
  assert.equal(tokens.claims().aud, 'tv');
  assert.ok(tokens.refresh_token);
});

test('introspection and revocation', async () => {
  const config = await configure('webapp', oidc.ClientSecretBasic('webapp-secret'));
  const tokens = await codeFlow(config, { redirect_uri: 'http://127.0.0.1:3000/callback', scope: 'openid offline_access' });
  const live = await oidc.tokenIntrospection(config, tokens.access_token);
  assert.equal(live.active, true);
  assert.equal(live.client_id, 'webapp');
  assert.equal(live.username, 'alice');
  await oidc.tokenRevocation(config, tokens.refresh_token, { token_type_hint: 'refresh_token' });
  assert.equal((await oidc.tokenIntrospection(config, tokens.refresh_token)).active, false);
  // The access token issued with the revoked refresh token is revoked too.
  assert.equal((await oidc.tokenIntrospection(config, tokens.access_token)).active, false);
});

test('RP-initiated logout', async () => {
  const config = await configure('webapp', oidc.ClientSecretBasic('webapp-secret'));
  const browser = new Browser();
  const tokens = await codeFlow(config, { redirect_uri: 'http://127.0.0.1:3000/callback', scope: 'openid' }, browser);
  assert.ok(config.serverMetadata().end_session_endpoint);
  const url = oidc.buildEndSessionUrl(config, {
    id_token_hint: tokens.id_token, post_logout_redirect_uri: 'http://127.0.0.1:3000/', state: 'bye',
  });
  const page = await browser.get(url.href);
  assert.equal(page.status, 303);
  assert.equal(page.location, 'http://127.0.0.1:3000/?state=bye');
  // The session is gone: a silent request now needs a login.
  const silent = oidc.buildAuthorizationUrl(config, {
    redirect_uri: 'http://127.0.0.1:3000/callback', scope: 'openid', prompt: 'none',
    code_challenge: await oidc.calculatePKCECodeChallenge(oidc.randomPKCECodeVerifier()), code_challenge_method: 'S256',
  });
  const again = await browser.get(silent.href);
  assert.equal(new URL(again.location).searchParams.get('error'), 'login_required');
});

// Dynamic client registration (RFC 7591) with the library's own registration call, then the
// registered client used at once. The server runs with an initial access token.
test('dynamic client registration, then the registered client signs in', { skip: !process.env.GATEHOUSE_REGISTRATION_TOKEN }, async () => {
  const config = await oidc.dynamicClientRegistration(issuer, {
    redirect_uris: ['http://127.0.0.1:3100/cb'],
    grant_types: ['authorization_code', 'client_credentials'],
    token_endpoint_auth_method: 'client_secret_post',
    scope: 'openid profile roles',
    client_name: 'Registered by openid-client',
  }, undefined, { ...options, initialAccessToken: process.env.GATEHOUSE_REGISTRATION_TOKEN });
  oidc.enableNonRepudiationChecks(config);
  const md = config.clientMetadata();
  assert.ok(md.client_id && md.client_secret && md.registration_access_token);
  const cc = await oidc.clientCredentialsGrant(config, { scope: 'roles' });
  assert.ok(cc.access_token);
  const tokens = await codeFlow(config, { redirect_uri: 'http://127.0.0.1:3100/cb', scope: 'openid profile' });
  assert.equal(tokens.claims().aud, md.client_id);
  // Registration without the initial access token is refused.
  await assert.rejects(
    oidc.dynamicClientRegistration(issuer, { redirect_uris: ['http://127.0.0.1:3100/cb'] }, undefined, options),
    (e) => e.status === 401 || e.cause?.status === 401 || /401|invalid_token/.test(String(e)),
  );
});

// The admin API, called with a token the library obtained: Gatehouse protects itself with its
// own tokens.
test('admin API with a gatehouse:admin token from client_credentials', { skip: !process.env.GATEHOUSE_REGISTRATION_TOKEN }, async () => {
  const config = await configure('ops', oidc.ClientSecretBasic('ops-secret'));
  const { access_token } = await oidc.clientCredentialsGrant(config, { scope: 'gatehouse:admin' });
  const res = await oidc.fetchProtectedResource(config, access_token, new URL('/admin/v1/clients?limit=200', issuer), 'GET');
  assert.equal(res.status, 200);
  const body = await res.json();
  assert.ok(body.items.some((c) => c.client_id === 'webapp'));
});

// A client that holds a key instead of a secret: it registers its public key, authenticates
// with private_key_jwt, pushes its authorization request (PAR), and signs another as a request
// object (JAR), all through the library's own support for them.
test('private_key_jwt, pushed authorization requests and signed request objects', { skip: !process.env.GATEHOUSE_REGISTRATION_TOKEN }, async () => {
  const { privateKey, publicKey } = await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify']);
  const jwk = { ...(await crypto.subtle.exportKey('jwk', publicKey)), kid: 'rp-key-1', use: 'sig', alg: 'ES256' };
  delete jwk.key_ops;
  delete jwk.ext;
  const registered = await oidc.dynamicClientRegistration(issuer, {
    redirect_uris: ['http://127.0.0.1:3200/cb'],
    grant_types: ['authorization_code', 'client_credentials'],
    token_endpoint_auth_method: 'private_key_jwt',
    token_endpoint_auth_signing_alg: 'ES256',
    jwks: { keys: [jwk] },
    scope: 'openid profile roles',
  }, oidc.PrivateKeyJwt({ key: privateKey, kid: 'rp-key-1' }), { ...options, initialAccessToken: process.env.GATEHOUSE_REGISTRATION_TOKEN });
  const md = registered.clientMetadata();
  assert.equal(md.client_secret, undefined, 'a key client gets no secret');
  const config = await oidc.discovery(issuer, md.client_id, { token_endpoint_auth_signing_alg: 'ES256' },
    oidc.PrivateKeyJwt({ key: privateKey, kid: 'rp-key-1' }), options);
  oidc.enableNonRepudiationChecks(config);
  assert.ok(config.serverMetadata().pushed_authorization_request_endpoint);

  const cc = await oidc.clientCredentialsGrant(config, { scope: 'roles' });
  assert.ok(cc.access_token, 'client_credentials with private_key_jwt');

  for (const how of ['par', 'jar']) {
    const verifier = oidc.randomPKCECodeVerifier();
    const state = oidc.randomState();
    const nonce = oidc.randomNonce();
    const params = {
      redirect_uri: 'http://127.0.0.1:3200/cb', scope: 'openid profile', state, nonce,
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
    };
    const url = how === 'par'
      ? await oidc.buildAuthorizationUrlWithPAR(config, params)
      : await oidc.buildAuthorizationUrlWithJAR(config, params, { key: privateKey, kid: 'rp-key-1' });
    assert.ok(url.searchParams.has(how === 'par' ? 'request_uri' : 'request'), url.href);
    const callback = await new Browser().signIn(url.href, 'alice', 'alice-password');
    const tokens = await oidc.authorizationCodeGrant(config, callback, {
      pkceCodeVerifier: verifier, expectedState: state, expectedNonce: nonce, idTokenExpected: true,
    });
    assert.equal(tokens.claims().aud, md.client_id, how);
  }
});

// JARM and signed userinfo: a client registered for signed authorization responses and signed
// userinfo; the library asks for response_mode=jwt, verifies the response JWT, and verifies the
// userinfo JWT against the JWKS.
test('JWT-secured authorization responses (JARM) and signed userinfo', { skip: !process.env.GATEHOUSE_REGISTRATION_TOKEN }, async () => {
  const registered = await oidc.dynamicClientRegistration(issuer, {
    redirect_uris: ['http://127.0.0.1:3300/cb'],
    grant_types: ['authorization_code'],
    token_endpoint_auth_method: 'client_secret_basic',
    authorization_signed_response_alg: 'ES256',
    userinfo_signed_response_alg: 'ES256',
    scope: 'openid profile',
  }, undefined, { ...options, initialAccessToken: process.env.GATEHOUSE_REGISTRATION_TOKEN });
  const md = registered.clientMetadata();
  const config = await oidc.discovery(issuer, md.client_id, {
    authorization_signed_response_alg: 'ES256',
    userinfo_signed_response_alg: 'ES256',
  }, oidc.ClientSecretBasic(md.client_secret), options);
  oidc.enableNonRepudiationChecks(config);
  oidc.useJwtResponseMode(config);
  assert.ok(config.serverMetadata().response_modes_supported.includes('jwt'));
  const tokens = await codeFlow(config, { redirect_uri: 'http://127.0.0.1:3300/cb', scope: 'openid profile' });
  const sub = tokens.claims().sub;
  const info = await oidc.fetchUserInfo(config, tokens.access_token, sub);
  assert.equal(info.sub, sub);
  assert.equal(info.name, 'Alice Example');
});

// Encrypted responses (OIDC Core §10.2, §5.3.2): a client registers its public encryption keys
// and asks for its ID tokens encrypted with RSA-OAEP-256 and its userinfo signed then encrypted
// with ECDH-ES+A128KW; the library decrypts both with its private keys, verifies the ID token
// and the userinfo JWT against the JWKS, and refuses them when it holds no key to decrypt with.
test('encrypted ID tokens and userinfo', { skip: !process.env.GATEHOUSE_REGISTRATION_TOKEN }, async () => {
  const rsa = await crypto.subtle.generateKey(
    { name: 'RSA-OAEP', modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' },
    true, ['encrypt', 'decrypt']);
  const ec = await crypto.subtle.generateKey({ name: 'ECDH', namedCurve: 'P-256' }, true, ['deriveBits']);
  const publicJwk = async (key, kid, alg) => {
    const { kty, n, e, crv, x, y } = await crypto.subtle.exportKey('jwk', key);
    return Object.fromEntries(Object.entries({ kty, n, e, crv, x, y, kid, alg, use: 'enc' }).filter(([, v]) => v));
  };
  const jwks = { keys: [await publicJwk(rsa.publicKey, 'rp-enc-rsa', 'RSA-OAEP-256'), await publicJwk(ec.publicKey, 'rp-enc-ec', 'ECDH-ES+A128KW')] };
  const metadata = {
    redirect_uris: ['http://127.0.0.1:3400/cb'],
    grant_types: ['authorization_code'],
    token_endpoint_auth_method: 'client_secret_basic',
    jwks,
    id_token_encrypted_response_alg: 'RSA-OAEP-256',
    userinfo_signed_response_alg: 'ES256',
    userinfo_encrypted_response_alg: 'ECDH-ES+A128KW',
    userinfo_encrypted_response_enc: 'A256GCM',
    scope: 'openid profile',
  };
  const registered = await oidc.dynamicClientRegistration(issuer, metadata, undefined,
    { ...options, initialAccessToken: process.env.GATEHOUSE_REGISTRATION_TOKEN });
  const md = registered.clientMetadata();
  assert.equal(md.id_token_encrypted_response_enc, 'A128CBC-HS256', 'the default enc, echoed');
  const config = await oidc.discovery(issuer, md.client_id, {
    id_token_encrypted_response_alg: 'RSA-OAEP-256',
    userinfo_signed_response_alg: 'ES256',
  }, oidc.ClientSecretBasic(md.client_secret), options);
  oidc.enableNonRepudiationChecks(config);
  assert.ok(config.serverMetadata().id_token_encryption_alg_values_supported.includes('RSA-OAEP-256'));

  // Without its keys the library cannot read what it is sent.
  await assert.rejects(codeFlow(config, { redirect_uri: 'http://127.0.0.1:3400/cb', scope: 'openid profile' }));

  oidc.enableDecryptingResponses(config, ['A128CBC-HS256', 'A256GCM'],
    { key: rsa.privateKey, kid: 'rp-enc-rsa' }, { key: ec.privateKey, kid: 'rp-enc-ec', alg: 'ECDH-ES+A128KW' });
  const tokens = await codeFlow(config, { redirect_uri: 'http://127.0.0.1:3400/cb', scope: 'openid profile' });
  assert.equal(tokens.claims().aud, md.client_id);
  const sub = tokens.claims().sub;
  const info = await oidc.fetchUserInfo(config, tokens.access_token, sub);
  assert.equal(info.sub, sub);
  assert.equal(info.name, 'Alice Example');
});

// RFC 6238 TOTP, as an authenticator app computes it: HMAC-SHA1 over the 30-second step.
function totp(base32, at = Date.now() / 1000) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const c of base32) bits += alphabet.indexOf(c).toString(2).padStart(5, '0');
  const key = Buffer.from(bits.match(/.{8}/g).map((b) => parseInt(b, 2)));
  const step = Buffer.alloc(8);
  step.writeBigUInt64BE(BigInt(Math.floor(at / 30)));
  const mac = createHmac('sha1', key).update(step).digest();
  const offset = mac[mac.length - 1] & 0x0f;
  return String((mac.readUInt32BE(offset) & 0x7fffffff) % 1_000_000).padStart(6, '0');
}

test('second factor: enrolment for a client that requires one, then amr/acr verified; acr_values=mfa', async () => {
  const config = await configure('mfa-app', oidc.ClientSecretBasic('mfa-app-secret'));
  const redirect_uri = 'http://127.0.0.1:5175/cb';
  const flow = async (extra, answer) => {
    const verifier = oidc.randomPKCECodeVerifier();
    const [state, nonce] = [oidc.randomState(), oidc.randomNonce()];
    const url = oidc.buildAuthorizationUrl(config, {
      redirect_uri, scope: 'openid profile', state, nonce, ...extra,
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
    });
    const b = new Browser();
    const base = url.origin;
    let page = await b.get(url.href);
    const hidden = (body) => ({ interaction: Browser.field(body, 'interaction'), csrf: Browser.field(body, 'csrf') });
    page = await b.post(`${base}/login`, { ...hidden(page.body), username: 'tess', password: 'tess-password' });
    page = await answer(b, base, page, hidden);
    assert.equal(page.status, 303, page.body.slice(0, 300));
    return oidc.authorizationCodeGrant(config, new URL(page.location), {
      pkceCodeVerifier: verifier, expectedState: state, expectedNonce: nonce, idTokenExpected: true,
    });
  };
  // First sign-in: tess has no factor and the client requires one, so she sets one up.
  let secret;
  const enrolled = await flow({}, async (b, base, page, hidden) => {
    assert.match(page.body, /Set up an authenticator app/);
    secret = page.body.match(/class="secret">([A-Z2-7]+)</)[1];
    const sealed = Browser.field(page.body, 'sealed');
    page = await b.post(`${base}/login/enrol`, { ...hidden(page.body), sealed, name: 'node', code: totp(secret) });
    assert.match(page.body, /Recovery codes/);
    return b.post(`${base}/login/continue`, hidden(page.body));
  });
  assert.equal(enrolled.claims().acr, 'mfa');
  assert.deepEqual(enrolled.claims().amr, ['pwd', 'otp', 'mfa']);
  // Later: the code of the next step (the enrolment used this one), and the acr asked for.
  const later = await flow({ acr_values: 'mfa' }, async (b, base, page, hidden) => {
    assert.match(page.body, /name="code"/);
    return b.post(`${base}/login/factor`, { ...hidden(page.body), code: totp(secret, Date.now() / 1000 + 30) });
  });
  assert.equal(later.claims().acr, 'mfa');
  assert.ok(later.claims().amr.includes('otp'));
});
