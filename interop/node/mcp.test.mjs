// The official MCP TypeScript SDK against Gatehouse: a small MCP server (Streamable HTTP)
// that publishes RFC 9728 metadata naming Gatehouse and accepts only tokens whose audience is
// itself, and the SDK's own OAuth client, which discovers Gatehouse from the server's 401,
// gets a client identity (dynamic registration, or a client ID metadata document), signs
// alice in with code + PKCE and `resource`, and calls a tool.
//
// GATEHOUSE_URL: the issuer. MCP_PORT: the port the MCP server listens on (its URL is a
// resource server in Gatehouse's config). MCP_CIMD_URL, MCP_CIMD_PORT, MCP_TLS_KEY and
// MCP_TLS_CERT: where this suite serves the client's metadata document over https.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import https from 'node:https';
import { readFileSync } from 'node:fs';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { Browser } from './browser.mjs';

const issuer = (process.env.GATEHOUSE_URL ?? 'http://127.0.0.1:8080').replace(/\/$/, '');
const port = Number(process.env.MCP_PORT ?? 8931);
const resource = `http://127.0.0.1:${port}/mcp`;
const metadataUrl = `http://127.0.0.1:${port}/.well-known/oauth-protected-resource/mcp`;
const REDIRECT = 'http://127.0.0.1:33419/callback';

// ---- the MCP server: RFC 9728 metadata, a bearer check on aud, one tool ----

const jwks = createRemoteJWKSet(new URL(`${issuer}/jwks`));
const seen = [];

async function handle(req, res) {
  if (req.url.startsWith('/.well-known/oauth-protected-resource')) {
    res.writeHead(200, { 'content-type': 'application/json' });
    return res.end(JSON.stringify({
      resource,
      authorization_servers: [issuer],
      scopes_supported: ['mcp:tools'],
      bearer_methods_supported: ['header'],
    }));
  }
  if (!req.url.startsWith('/mcp')) {
    res.writeHead(404);
    return res.end();
  }
  const challenge = (status, error) => {
    res.writeHead(status, {
      'content-type': 'application/json',
      'www-authenticate': `Bearer resource_metadata="${metadataUrl}"${error ? `, error="${error}"` : ''}, scope="mcp:tools"`,
    });
    res.end(JSON.stringify({ error: error ?? 'invalid_token' }));
  };
  const token = (req.headers.authorization ?? '').replace(/^Bearer /, '');
  if (!token) return challenge(401);
  let claims;
  try {
    // The audience check is the point: a token for anything else is refused.
    ({ payload: claims } = await jwtVerify(token, jwks, { issuer, audience: resource, typ: 'at+jwt' }));
  } catch {
    return challenge(401, 'invalid_token');
  }
  if (!String(claims.scope ?? '').split(' ').includes('mcp:tools')) return challenge(403, 'insufficient_scope');
  seen.push(claims);
  const mcp = new McpServer({ name: 'gatehouse-interop', version: '1.0.0' });
  mcp.registerTool('whoami', { description: 'Who the access token is for' }, async () => ({
    content: [{ type: 'text', text: JSON.stringify({ sub: claims.sub, aud: claims.aud, client_id: claims.client_id }) }],
  }));
  const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
  res.on('close', () => { transport.close(); mcp.close(); });
  await mcp.connect(transport);
  await transport.handleRequest(req, res);
}

const server = http.createServer((req, res) => {
  handle(req, res).catch((e) => { res.writeHead(500); res.end(String(e)); });
});
await new Promise((resolve) => server.listen(port, '127.0.0.1', resolve));
after(() => server.close());

// ---- the SDK's OAuth client, with a browser that signs alice in ----

class Provider {
  constructor(clientMetadataUrl) {
    this.clientMetadataUrl = clientMetadataUrl;
    this.browser = new Browser();
  }
  get redirectUrl() { return REDIRECT; }
  get clientMetadata() {
    return {
      client_name: 'MCP SDK interop client',
      redirect_uris: [REDIRECT],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
      scope: 'mcp:tools',
    };
  }
  clientInformation() { return this.info; }
  saveClientInformation(info) { this.info = info; }
  tokens() { return this.saved; }
  saveTokens(tokens) { this.saved = tokens; }
  saveCodeVerifier(v) { this.verifier = v; }
  codeVerifier() { return this.verifier; }
  async redirectToAuthorization(url) {
    this.authorizationUrl = url;
    this.callback = await this.browser.signIn(url.href, 'alice', 'alice-password');
  }
}

async function signInAndCallTool(provider) {
  const first = new StreamableHTTPClientTransport(new URL(resource), { authProvider: provider });
  // No token yet: the server's 401 starts the SDK's discovery and authorization.
  await assert.rejects(new Client({ name: 'interop', version: '1.0.0' }).connect(first), UnauthorizedError);
  assert.equal(provider.authorizationUrl.searchParams.get('resource'), resource, 'RFC 8707 resource sent');
  const code = provider.callback.searchParams.get('code');
  assert.ok(code, `a code came back: ${provider.callback}`);
  await first.finishAuth(code);
  assert.ok(provider.saved?.access_token, 'tokens saved');

  const client = new Client({ name: 'interop', version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(resource), { authProvider: provider }));
  const { tools } = await client.listTools();
  assert.deepEqual(tools.map((t) => t.name), ['whoami']);
  const result = await client.callTool({ name: 'whoami', arguments: {} });
  await client.close();
  return JSON.parse(result.content[0].text);
}

test('dynamic client registration, then code + PKCE with resource, then a tool call', async () => {
  const provider = new Provider(undefined);
  const who = await signInAndCallTool(provider);
  assert.ok(provider.info?.client_id, 'the SDK registered a client');
  assert.equal(who.client_id, provider.info.client_id);
  assert.equal(who.aud, resource, 'the token is for this MCP server alone');
  assert.ok(who.sub);
});

test('a client ID metadata document instead of registration', { skip: !process.env.MCP_CIMD_URL && 'MCP_CIMD_URL not set' }, async () => {
  const url = process.env.MCP_CIMD_URL;
  const documentServer = https.createServer(
    { key: readFileSync(process.env.MCP_TLS_KEY), cert: readFileSync(process.env.MCP_TLS_CERT) },
    (req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'max-age=300' });
      res.end(JSON.stringify({ client_id: url, ...new Provider(url).clientMetadata }));
    },
  );
  await new Promise((resolve) => documentServer.listen(Number(process.env.MCP_CIMD_PORT), '127.0.0.1', resolve));
  try {
    const provider = new Provider(url);
    const who = await signInAndCallTool(provider);
    assert.equal(provider.authorizationUrl.searchParams.get('client_id'), url, 'the URL is the client_id');
    assert.equal(who.client_id, url);
    assert.equal(who.aud, resource);
  } finally {
    documentServer.close();
  }
});

test('a token for another audience is refused by the MCP server', async () => {
  // A client_credentials token for Gatehouse's own APIs (aud = the issuer).
  const res = await fetch(`${issuer}/token`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: `Basic ${Buffer.from('service:service-secret').toString('base64')}`,
    },
    body: new URLSearchParams({ grant_type: 'client_credentials' }),
  });
  const { access_token } = await res.json();
  const call = await fetch(resource, {
    method: 'POST',
    headers: { authorization: `Bearer ${access_token}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
  });
  assert.equal(call.status, 401);
  assert.match(call.headers.get('www-authenticate'), /resource_metadata=/);
});
