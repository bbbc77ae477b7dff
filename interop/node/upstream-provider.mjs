// node-oidc-provider (panva) as an upstream OpenID provider for Gatehouse's `[[upstreams]]`
// test (crates/gatehouse/tests/it/interop.rs): its own discovery, keys, dev sign-in pages,
// tokens and userinfo. PORT and REDIRECT_URI come from the test; it prints "ready" when it
// listens and stops when its stdin closes.
import Provider from 'oidc-provider';

const port = Number(process.env.PORT);
const issuer = `http://127.0.0.1:${port}`;
const accounts = {
  alice: { email: 'alice@example.com', email_verified: true, name: 'Alice Node' },
  nodie: { email: 'nodie@example.com', email_verified: true, name: 'No Die', preferred_username: 'nodie' },
  mallory: { email: 'carol@example.com', email_verified: false, name: 'Mallory' },
};

const provider = new Provider(issuer, {
  clients: [{
    client_id: 'gatehouse',
    client_secret: 'gatehouse-secret-at-node',
    redirect_uris: [process.env.REDIRECT_URI],
    grant_types: ['authorization_code'],
    response_types: ['code'],
  }],
  async findAccount(ctx, id) {
    const account = accounts[id];
    if (!account) return undefined;
    return { accountId: id, async claims() { return { sub: id, ...account }; } };
  },
  claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name', 'preferred_username'] },
  features: { devInteractions: { enabled: true } },
});
// Plain http on loopback: the dev pages' cookies must not be marked Secure.
provider.proxy = false;

const server = provider.listen(port, '127.0.0.1', () => console.log('ready'));
process.stdin.on('end', () => server.close(() => process.exit(0)));
process.stdin.resume();
