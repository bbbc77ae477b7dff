// node-oidc-provider (panva's certified provider), configured like bench/bench.toml, so that
// `bench/run --peer` measures both servers on the same scenarios in one run.
//
//   node bench/peer/server.js PORT SEEDS_FILE CODES
//
// Equivalences with Gatehouse's bench config:
// - clients svc-es256 / svc-eddsa / svc-rs256 (client_credentials, JWT access tokens signed
//   with that algorithm), `web` (authorization_code + refresh_token, ES256 ID tokens), `pw`
//   (introspection caller); secrets are "bench-secret", client_secret_basic.
// - JWT access tokens come from resource indicators (node-oidc-provider issues JWT access
//   tokens only for a resource server); refresh tokens rotate on every use.
// - The provider's own in-memory adapter, with its LRU made large enough to hold the seeded
//   codes (its default keeps only the 1,000 most recent entries).
// - Codes are minted in process through the provider's own models (`AuthorizationCode.save()`,
//   the same adapter writes the authorization endpoint makes), then written to SEEDS_FILE with
//   an opaque user access token for userinfo and introspection. node-oidc-provider does not
//   introspect JWT access tokens (it refuses "structured tokens"), and its userinfo takes only
//   its opaque tokens; both scenarios use that here.
// - No password grant: node-oidc-provider does not implement it (RFC 9700 deprecates it).
import { writeFileSync } from 'node:fs';
import * as jose from 'jose';
import Provider from 'oidc-provider';
import MemoryAdapter from 'oidc-provider/lib/adapters/memory_adapter.js';
import LRU from 'oidc-provider/lib/helpers/lru.js';

const [port, seedsFile, codeCount] = [Number(process.argv[2]), process.argv[3], Number(process.argv[4] ?? 0)];
const ISSUER = `http://127.0.0.1:${port}`;
const RESOURCE = 'https://api.bench.example';
const SECRET = 'bench-secret';
const REDIRECT = 'http://127.0.0.1/cb';
const ALG_OF = { 'svc-es256': 'ES256', 'svc-eddsa': 'EdDSA', 'svc-rs256': 'RS256', web: 'ES256', pw: 'ES256' };

const storage = new LRU({ maxSize: 10 * codeCount + 100_000 });

const keys = [];
for (const alg of ['RS256', 'ES256', 'EdDSA']) {
  const { privateKey } = await jose.generateKeyPair(alg, { extractable: true });
  keys.push({ ...(await jose.exportJWK(privateKey)), alg, use: 'sig', kid: alg.toLowerCase() });
}

const cc = (id) => ({
  client_id: id,
  client_secret: SECRET,
  grant_types: ['client_credentials'],
  response_types: [],
  redirect_uris: [],
  scope: 'api',
});

const provider = new Provider(ISSUER, {
  clients: [
    cc('svc-es256'),
    cc('svc-eddsa'),
    cc('svc-rs256'),
    {
      client_id: 'web',
      client_secret: SECRET,
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      redirect_uris: [REDIRECT],
      scope: 'openid profile offline_access api',
      id_token_signed_response_alg: 'ES256',
    },
    { ...cc('pw'), scope: 'openid profile' },
  ],
  adapter: (model) => new MemoryAdapter(model, storage),
  jwks: { keys },
  findAccount: async (_ctx, sub) => ({ accountId: sub, claims: async () => ({ sub, name: 'Bench User' }) }),
  claims: { openid: ['sub'], profile: ['name'] },
  scopes: ['openid', 'offline_access', 'profile', 'api'],
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    introspection: { enabled: true },
    revocation: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => RESOURCE,
      useGrantedResource: () => true,
      getResourceServerInfo: (_ctx, _resource, client) => ({
        scope: 'api',
        audience: RESOURCE,
        accessTokenTTL: 3600,
        accessTokenFormat: 'jwt',
        jwt: { sign: { alg: ALG_OF[client.clientId] ?? 'ES256' } },
      }),
    },
  },
  rotateRefreshToken: true,
  ttl: { AuthorizationCode: 900, AccessToken: 3600, IdToken: 3600, RefreshToken: 14 * 86400, Grant: 14 * 86400 },
});

// Seeds: codes for the code-exchange scenario, and an opaque user token for userinfo and
// introspection, made through the provider's models exactly as its endpoints make them.
const web = await provider.Client.find('web');
const authTime = Math.floor(Date.now() / 1000);
async function grant(scope, resourceScope) {
  const g = new provider.Grant({ accountId: 'bench', clientId: 'web' });
  g.addOIDCScope(scope);
  if (resourceScope) g.addResourceScope(RESOURCE, resourceScope);
  return g.save();
}
const codes = [];
for (let i = 0; i < codeCount; i += 1) {
  const grantId = await grant('openid offline_access', 'api');
  const code = new provider.AuthorizationCode({
    client: web,
    grantId,
    accountId: 'bench',
    scope: 'openid offline_access api',
    resource: RESOURCE,
    redirectUri: REDIRECT,
    authTime,
    expiresWithSession: false,
  });
  codes.push(await code.save());
}
const at = new provider.AccessToken({
  client: web,
  grantId: await grant('openid profile'),
  accountId: 'bench',
  scope: 'openid profile',
});
const userToken = await at.save();
writeFileSync(seedsFile, JSON.stringify({ codes, user_token: userToken }));

provider.listen(port, '127.0.0.1');
console.log(`node-oidc-provider ready at ${ISSUER}`);
