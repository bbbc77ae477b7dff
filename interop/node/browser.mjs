// A minimal browser for the interop suites: keeps cookies, never follows redirects, and
// submits Gatehouse's login and consent forms from their hidden fields.
export class Browser {
  constructor() { this.cookies = new Map(); }

  remember(res) {
    for (const c of res.headers.getSetCookie()) {
      const [pair] = c.split(';');
      const i = pair.indexOf('=');
      this.cookies.set(pair.slice(0, i), pair.slice(i + 1));
    }
  }

  cookieHeader() {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  async get(url) {
    const res = await fetch(url, { redirect: 'manual', headers: { cookie: this.cookieHeader() } });
    this.remember(res);
    return { status: res.status, location: res.headers.get('location'), body: await res.text() };
  }

  async post(url, form) {
    const res = await fetch(url, {
      method: 'POST',
      redirect: 'manual',
      headers: { cookie: this.cookieHeader(), 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(form),
    });
    this.remember(res);
    return { status: res.status, location: res.headers.get('location'), body: await res.text() };
  }

  static field(html, name) {
    const m = html.match(new RegExp(`name="${name}" value="([^"]*)"`));
    return m && m[1];
  }

  // verification_uri_complete -> code page -> login -> consent (approve).
  async approveDevice(uriComplete, userCode, username, password) {
    const base = new URL(uriComplete).origin;
    let page = await this.get(uriComplete);
    if (!page.body.includes(userCode)) throw new Error('the code is not prefilled');
    const form = (extra) => ({ csrf: Browser.field(page.body, 'csrf'), user_code: userCode, ...extra });
    page = await this.post(`${base}/device`, form({}));
    if (page.body.includes('name="password"')) page = await this.post(`${base}/device/login`, form({ username, password }));
    if (!page.body.includes('name="decision"')) throw new Error(`expected the consent step: ${page.body.slice(0, 300)}`);
    page = await this.post(`${base}/device/consent`, form({ decision: 'approve' }));
    if (!page.body.includes('Device connected')) throw new Error(`device not approved: ${page.body.slice(0, 300)}`);
  }

  // Authorization URL -> login (if asked) -> consent (if asked) -> the callback URL.
  async signIn(authorizationUrl, username, password) {
    const base = new URL(authorizationUrl).origin;
    let page = await this.get(authorizationUrl);
    if (page.status === 200 && page.body.includes('name="password"')) {
      page = await this.post(`${base}/login`, {
        interaction: Browser.field(page.body, 'interaction'),
        csrf: Browser.field(page.body, 'csrf'),
        username,
        password,
      });
    }
    if (page.status === 200 && page.body.includes('name="decision"')) {
      page = await this.post(`${base}/consent`, {
        interaction: Browser.field(page.body, 'interaction'),
        csrf: Browser.field(page.body, 'csrf'),
        decision: 'approve',
      });
    }
    if (page.status !== 303) throw new Error(`expected a redirect, got ${page.status}: ${page.body.slice(0, 300)}`);
    return new URL(page.location);
  }
}
