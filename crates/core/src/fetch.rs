//! The one way Gatehouse fetches a URL that someone else chose (client metadata documents, and
//! later JWKS, request URIs, upstream providers): safe against server-side request forgery.
//!
//! - `https` only; plain `http` only to a loopback address when the policy allows loopback
//!   (tests, local development).
//! - Every address the host resolves to must be public: loopback, private (RFC 1918, unique
//!   local), link-local (cloud metadata at 169.254.169.254), shared (100.64/10), multicast,
//!   unspecified, documentation and reserved addresses are refused, including IPv4 written as
//!   IPv6. A policy for a URL an administrator wrote (an upstream provider marked
//!   `private_network`) may allow the private and shared ranges; link-local and the rest stay
//!   refused. The check runs in the HTTP client's own resolver, so the address checked is the
//!   address connected to (no window for DNS rebinding). Proxies from the environment are not
//!   used.
//! - No redirect is followed, the whole exchange has a deadline, and a body over the size cap is
//!   cut off and refused.

use bytes::{Bytes, BytesMut};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

/// Installs rustls on aws-lc-rs as the process's TLS provider, for every outbound HTTPS client
/// (fetches, back-channel logout, the OpenTelemetry exporter). A second call finds it installed.
pub fn install_tls_provider() {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
}

/// What a fetch may do.
#[derive(Debug, Clone, Copy)]
pub struct FetchPolicy {
    /// Allow loopback addresses (and plain `http` to them): for tests only.
    pub allow_loopback: bool,
    /// Allow private addresses (RFC 1918, shared 100.64/10, unique local fc00::/7), still over
    /// `https` only: for URLs an administrator chose, never for a client's.
    pub allow_private: bool,
    /// Largest body accepted, in bytes.
    pub max_bytes: usize,
    /// Deadline for the whole exchange: resolution, connection, headers and body.
    pub timeout: Duration,
}

impl Default for FetchPolicy {
    fn default() -> Self {
        Self { allow_loopback: false, allow_private: false, max_bytes: 64 * 1024, timeout: Duration::from_secs(5) }
    }
}

/// Why a fetch was refused or failed. The text is safe to log; it names no secret.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("only https URLs are fetched")]
    Scheme,
    #[error("the URL has no host")]
    NoHost,
    #[error("{0} is not an address this fetch may reach")]
    Forbidden(IpAddr),
    #[error("the host did not resolve")]
    Resolve,
    #[error("the answer was a redirect ({0}); redirects are not followed")]
    Redirect(u16),
    #[error("the body is larger than {0} bytes")]
    TooLarge(usize),
    #[error("no answer within {0:?}")]
    Timeout(Duration),
    #[error("the request failed: {0}")]
    Http(String),
}

/// An answer: its status, headers and body (at most the policy's `max_bytes`).
#[derive(Debug)]
pub struct Fetched {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: Bytes,
}

/// An SSRF-safe HTTP GET client; cheap to clone.
#[derive(Clone)]
pub struct Fetcher {
    http: Option<reqwest::Client>,
    policy: FetchPolicy,
}

impl Fetcher {
    pub fn new(policy: FetchPolicy) -> Self {
        Self::trusting(policy, &[])
    }

    /// A fetcher that also trusts the certificate authorities in `roots` (a private CA's, or
    /// a test's), besides the public ones.
    pub fn trusting(policy: FetchPolicy, roots: &[reqwest::Certificate]) -> Self {
        install_tls_provider();
        // The deadline is `get`'s and `post_form`'s own, over the whole exchange.
        let mut builder = reqwest::Client::builder();
        for root in roots {
            builder = builder.add_root_certificate(root.clone());
        }
        let http = builder
            .dns_resolver(Arc::new(PublicOnly { policy }))
            .no_proxy()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(policy.timeout)
            .user_agent(concat!("Gatehouse/", env!("CARGO_PKG_VERSION")))
            .build()
            // Never a client without the guard in its place: fail closed.
            .map_err(|e| tracing::error!(error = %e, "could not build the guarded HTTP client; fetches will fail"))
            .ok();
        Self { http, policy }
    }

    /// GETs `url` within the policy. Any status is returned except redirects, which are
    /// refused; the caller decides what a 404 or a 500 means.
    pub async fn get(&self, url: &url::Url, accept: &str) -> Result<Fetched, FetchError> {
        self.get_authorized(url, accept, None).await
    }

    /// [`Self::get`] with an `Authorization` header (a bearer token for a userinfo endpoint).
    pub async fn get_authorized(
        &self,
        url: &url::Url,
        accept: &str,
        authorization: Option<&str>,
    ) -> Result<Fetched, FetchError> {
        let mut request = self.client(url)?.get(url.clone()).header(reqwest::header::ACCEPT, accept);
        if let Some(a) = authorization {
            request = request.header(reqwest::header::AUTHORIZATION, a);
        }
        self.exchange(request).await
    }

    /// POSTs `form` to `url` within the policy and reads the answer like [`Self::get`] (a token
    /// endpoint's).
    pub async fn post_form_read(
        &self,
        url: &url::Url,
        form: &[(&str, &str)],
        authorization: Option<&str>,
    ) -> Result<Fetched, FetchError> {
        let mut request =
            self.client(url)?.post(url.clone()).form(form).header(reqwest::header::ACCEPT, "application/json");
        if let Some(a) = authorization {
            request = request.header(reqwest::header::AUTHORIZATION, a);
        }
        self.exchange(request).await
    }

    /// Sends `request` and reads the answer within the policy's deadline and size cap.
    async fn exchange(&self, request: reqwest::RequestBuilder) -> Result<Fetched, FetchError> {
        let exchange = async {
            let response = request.send().await.map_err(send_error)?;
            let status = response.status().as_u16();
            if response.status().is_redirection() {
                return Err(FetchError::Redirect(status));
            }
            let max = self.policy.max_bytes;
            if response.content_length().is_some_and(|n| n > max as u64) {
                return Err(FetchError::TooLarge(max));
            }
            let headers = response.headers().clone();
            let mut body = BytesMut::new();
            let mut response = response;
            while let Some(chunk) = response.chunk().await.map_err(|e| FetchError::Http(e.without_url().to_string()))? {
                if body.len() + chunk.len() > max {
                    return Err(FetchError::TooLarge(max));
                }
                body.extend_from_slice(&chunk);
            }
            Ok(Fetched { status, headers, body: body.freeze() })
        };
        tokio::time::timeout(self.policy.timeout, exchange)
            .await
            .map_err(|_| FetchError::Timeout(self.policy.timeout))?
    }

    /// POSTs `form` to `url` within the policy and returns the answer's status; the body is not
    /// read. A redirect is an answer like any other (it is not followed).
    pub async fn post_form(&self, url: &url::Url, form: &[(&str, &str)]) -> Result<u16, FetchError> {
        let sent = self.client(url)?.post(url.clone()).form(form).send();
        match tokio::time::timeout(self.policy.timeout, sent).await {
            Ok(Ok(r)) => Ok(r.status().as_u16()),
            Ok(Err(e)) => Err(send_error(e)),
            Err(_) => Err(FetchError::Timeout(self.policy.timeout)),
        }
    }

    /// The guarded client, once `url` passes the checks that need no network.
    fn client(&self, url: &url::Url) -> Result<&reqwest::Client, FetchError> {
        self.check_url(url)?;
        self.http.as_ref().ok_or_else(|| FetchError::Http("no guarded HTTP client".into()))
    }

    /// The checks that need no network: the scheme, and an address written in the URL (the
    /// resolver is not asked about those).
    fn check_url(&self, url: &url::Url) -> Result<(), FetchError> {
        let literal = match url.host() {
            None => return Err(FetchError::NoHost),
            Some(url::Host::Ipv4(ip)) => Some(IpAddr::V4(ip)),
            Some(url::Host::Ipv6(ip)) => Some(IpAddr::V6(ip)),
            Some(url::Host::Domain(_)) => None,
        };
        if let Some(ip) = literal
            && !allowed(ip, &self.policy)
        {
            return Err(FetchError::Forbidden(ip));
        }
        match url.scheme() {
            "https" => Ok(()),
            // Plain http only where nothing leaves the machine, and only when allowed.
            "http" if self.policy.allow_loopback && literal.is_some_and(|ip| canonical(ip).is_loopback()) => Ok(()),
            _ => Err(FetchError::Scheme),
        }
    }
}

/// Resolves with the system resolver and refuses a host any of whose addresses is not allowed.
struct PublicOnly {
    policy: FetchPolicy,
}

/// The resolver's refusal, found again in reqwest's error chain.
#[derive(Debug, thiserror::Error)]
#[error("{0} is not an address this fetch may reach")]
struct ForbiddenAddress(IpAddr);

#[derive(Debug, thiserror::Error)]
#[error("the host did not resolve")]
struct Unresolved;

impl reqwest::dns::Resolve for PublicOnly {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let policy = self.policy;
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let addrs: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await.map_err(|_| Box::new(Unresolved))?.collect();
            if addrs.is_empty() {
                return Err(Box::new(Unresolved) as Box<dyn std::error::Error + Send + Sync>);
            }
            if let Some(bad) = addrs.iter().find(|a| !allowed(a.ip(), &policy)) {
                return Err(Box::new(ForbiddenAddress(bad.ip())) as Box<dyn std::error::Error + Send + Sync>);
            }
            Ok(Box::new(addrs.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

fn send_error(e: reqwest::Error) -> FetchError {
    match forbidden_in(&e) {
        Some(ip) => FetchError::Forbidden(ip),
        None if is_resolve_error(&e) => FetchError::Resolve,
        None => FetchError::Http(e.without_url().to_string()),
    }
}

impl FetchError {
    /// Refused by the policy: trying again cannot help.
    pub fn is_refusal(&self) -> bool {
        matches!(self, Self::Scheme | Self::NoHost | Self::Forbidden(_))
    }
}

fn forbidden_in(e: &(dyn std::error::Error + 'static)) -> Option<IpAddr> {
    let mut cause = Some(e);
    while let Some(c) = cause {
        if let Some(ForbiddenAddress(ip)) = c.downcast_ref::<ForbiddenAddress>() {
            return Some(*ip);
        }
        cause = c.source();
    }
    None
}

fn is_resolve_error(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut cause = Some(e);
    while let Some(c) = cause {
        if c.downcast_ref::<Unresolved>().is_some() {
            return true;
        }
        cause = c.source();
    }
    false
}

/// Whether a fetch under `policy` may connect to `ip`.
pub fn allowed(ip: IpAddr, policy: &FetchPolicy) -> bool {
    let ip = canonical(ip);
    if ip.is_loopback() {
        return policy.allow_loopback;
    }
    match ip {
        IpAddr::V4(v4) => public_v4(v4) || (policy.allow_private && private_v4(v4)),
        IpAddr::V6(v6) => public_v6(v6) || (policy.allow_private && private_v6(v6)),
    }
}

/// RFC 1918 and the shared address space (RFC 6598: carrier-grade NAT, overlay networks).
fn private_v4(ip: Ipv4Addr) -> bool {
    let [a, b, ..] = ip.octets();
    ip.is_private() || (a == 100 && (64..128).contains(&b))
}

/// Unique local addresses, fc00::/7 (RFC 4193).
fn private_v6(ip: Ipv6Addr) -> bool {
    (ip.segments()[0] & 0xfe00) == 0xfc00
}

/// IPv4 written as IPv6 (`::ffff:a.b.c.d`) is IPv4.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

fn public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    !(ip.is_unspecified()
        || private_v4(ip)                          // RFC 1918 and shared, RFC 6598
        || ip.is_link_local()
        || ip.is_broadcast()
        || ip.is_multicast()
        || ip.is_documentation()
        || a == 0                                  // "this network"
        || (a == 192 && b == 0 && c == 0)          // IETF protocol assignments
        || (a == 198 && (18..20).contains(&b))     // benchmarking, RFC 2544
        || a >= 240) // reserved
}

fn public_v6(ip: Ipv6Addr) -> bool {
    let s = ip.segments();
    let first = s.first().copied().unwrap_or(0);
    !(ip.is_unspecified()
        || ip.is_multicast()
        || private_v6(ip)                          // unique local, fc00::/7
        || (first & 0xffc0) == 0xfe80              // link-local, fe80::/10
        || (first & 0xffc0) == 0xfec0              // site-local (deprecated), fec0::/10
        || (first == 0x2001 && s.get(1) == Some(&0x0db8)) // documentation, 2001:db8::/32
        || (first == 0x0064 && s.get(1) == Some(&0xff9b)) // NAT64, which reaches IPv4 anywhere
        || (first == 0x2001 && s.get(1) == Some(&0))   // Teredo, IPv4 inside
        || first == 0x2002                             // 6to4, IPv4 inside
        || ip.to_ipv4().is_some()) // IPv4-compatible ::a.b.c.d and the rest of ::/96
}

/// `[fetch]`, validated: the policy for documents clients name (JWK sets, request objects,
/// sector documents).
#[derive(Debug, Clone, Default)]
pub struct ClientFetchPolicy {
    pub allow_loopback: bool,
    pub extra_roots: Vec<reqwest::Certificate>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    #[test]
    fn only_public_addresses_are_allowed() {
        let strict = FetchPolicy::default();
        for ip in ["93.184.216.34", "8.8.8.8", "2606:4700:4700::1111", "::ffff:8.8.8.8"] {
            assert!(allowed(ip.parse().unwrap(), &strict), "{ip}");
        }
        for ip in [
            "127.0.0.1",
            "127.1.2.3",
            "10.0.0.1",
            "172.16.5.4",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "0.1.2.3",
            "255.255.255.255",
            "224.0.0.1",
            "192.0.2.1",
            "198.18.0.1",
            "240.0.0.1",
            "::1",
            "::",
            "fc00::1",
            "fd12:3456::1",
            "fe80::1",
            "ff02::1",
            "2001:db8::1",
            "64:ff9b::7f00:1",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
            "::127.0.0.1",
            "2001:0:4136:e378:8000:63bf:3fff:fdd2",
            "2002:7f00:1::1",
        ] {
            assert!(!allowed(ip.parse().unwrap(), &strict), "{ip}");
        }
        let loopback = FetchPolicy { allow_loopback: true, ..strict };
        assert!(allowed("127.0.0.1".parse().unwrap(), &loopback));
        assert!(allowed("::ffff:127.0.0.1".parse().unwrap(), &loopback));
        assert!(!allowed("10.0.0.1".parse().unwrap(), &loopback), "loopback only, not every private address");
    }

    #[test]
    fn a_private_network_policy_adds_the_private_ranges_only() {
        let private = FetchPolicy { allow_private: true, ..FetchPolicy::default() };
        for ip in [
            "10.0.0.1",
            "172.16.5.4",
            "172.31.255.1",
            "192.168.1.1",
            "100.64.0.1",
            "100.127.0.1",
            "fd12:3456::1",
            "fc00::1",
        ] {
            assert!(allowed(ip.parse().unwrap(), &private), "{ip}");
        }
        assert!(allowed("::ffff:10.1.2.3".parse().unwrap(), &private), "IPv4 written as IPv6 is IPv4");
        for ip in [
            "127.0.0.1",
            "::1",
            "169.254.169.254",
            "::ffff:169.254.169.254",
            "fe80::1",
            "fec0::1",
            "0.0.0.0",
            "224.0.0.1",
            "192.0.2.1",
            "2001:db8::1",
            "64:ff9b::a00:1",
        ] {
            assert!(!allowed(ip.parse().unwrap(), &private), "{ip}");
        }
    }

    /// A private address reached for real: the test runs itself again in a network namespace of
    /// its own (`unshare`, no privilege needed) with 10.77.0.1 on its loopback interface, where
    /// a strict fetch is refused before connecting and a private-network fetch connects.
    #[test]
    fn a_private_network_policy_connects_to_a_private_address() {
        const NAME: &str = "fetch::tests::a_private_network_policy_connects_to_a_private_address";
        if std::env::var_os("GATEHOUSE_FETCH_NETNS").is_some() {
            return in_namespace();
        }
        let script = "ip link set lo up && ip addr add 10.77.0.1/32 dev lo && exec \"$0\" --exact \"$1\" --nocapture";
        let exe = std::env::current_exe().unwrap();
        let run = std::process::Command::new("unshare")
            .args(["--user", "--map-root-user", "--net", "sh", "-c", script])
            .arg(&exe)
            .arg(NAME)
            .env("GATEHOUSE_FETCH_NETNS", "1")
            .output();
        let out = match run {
            Ok(out) => out,
            // Where namespaces cannot be made, say so; CI must be able to.
            Err(e) if std::env::var_os("CI").is_none() => return eprintln!("skipped: unshare: {e}"),
            Err(e) => panic!("unshare: {e}"),
        };
        let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        assert!(out.status.success() && text.contains("connected once"), "{text}");
    }

    fn in_namespace() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async {
            let listener = tokio::net::TcpListener::bind("10.77.0.1:0").await.unwrap();
            let port = listener.local_addr().unwrap().port();
            let accepted = Arc::new(AtomicUsize::new(0));
            let counter = accepted.clone();
            tokio::spawn(async move {
                while let Ok((socket, _)) = listener.accept().await {
                    counter.fetch_add(1, Ordering::SeqCst);
                    drop(socket); // no TLS here: the client's handshake fails at once
                }
            });
            let target = url(&format!("https://10.77.0.1:{port}/.well-known/openid-configuration"));
            let timeout = Duration::from_secs(2);
            let strict = Fetcher::new(FetchPolicy { timeout, ..FetchPolicy::default() });
            assert!(matches!(strict.get(&target, "*/*").await, Err(FetchError::Forbidden(_))));
            tokio::time::sleep(Duration::from_millis(100)).await;
            assert_eq!(accepted.load(Ordering::SeqCst), 0, "a strict fetch never connects");
            let private = Fetcher::new(FetchPolicy { allow_private: true, timeout, ..FetchPolicy::default() });
            let r = private.get(&target, "*/*").await;
            assert!(matches!(r, Err(FetchError::Http(_))), "the handshake fails, after connecting: {r:?}");
            let plain = private.get(&url(&format!("http://10.77.0.1:{port}/")), "*/*").await;
            assert!(matches!(plain, Err(FetchError::Scheme)), "https only: {plain:?}");
            assert_eq!(accepted.load(Ordering::SeqCst), 1);
            println!("connected once");
        });
    }

    /// Serves `answer` (a whole HTTP/1.1 response) once on 127.0.0.1; returns the port.
    async fn serve_once(answer: Vec<u8>) -> u16 {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        tokio::spawn(async move {
            if let Ok((mut socket, _)) = listener.accept().await {
                let mut buf = [0u8; 4096];
                let _ = socket.read(&mut buf).await;
                let _ = socket.write_all(&answer).await;
                let _ = socket.shutdown().await;
            }
        });
        port
    }

    fn response(status: &str, extra: &str, body: &str) -> Vec<u8> {
        format!("HTTP/1.1 {status}\r\ncontent-length: {}\r\nconnection: close\r\n{extra}\r\n{body}", body.len())
            .into_bytes()
    }

    fn url(s: &str) -> url::Url {
        url::Url::parse(s).unwrap()
    }

    #[tokio::test]
    async fn refuses_what_it_must_and_fetches_what_it_may() {
        let strict = Fetcher::new(FetchPolicy::default());
        let local = Fetcher::new(FetchPolicy { allow_loopback: true, max_bytes: 16, ..FetchPolicy::default() });

        // No network needed to refuse these.
        assert!(matches!(strict.get(&url("http://example.com/"), "*/*").await, Err(FetchError::Scheme)));
        assert!(matches!(strict.get(&url("https://127.0.0.1/"), "*/*").await, Err(FetchError::Forbidden(_))));
        assert!(matches!(strict.get(&url("https://[::ffff:10.0.0.1]/"), "*/*").await, Err(FetchError::Forbidden(_))));
        assert!(matches!(local.get(&url("http://10.0.0.1/"), "*/*").await, Err(FetchError::Forbidden(_))));
        // A name that resolves to loopback is refused by the resolver, before any connection.
        match strict.get(&url("https://localhost/"), "*/*").await {
            Err(FetchError::Forbidden(ip)) => assert!(ip.is_loopback()),
            other => panic!("{other:?}"),
        }

        // Allowed loopback: the body within the cap, any status but a redirect.
        let port = serve_once(response("200 OK", "content-type: application/json\r\n", "{\"a\":1}")).await;
        let got = local.get(&url(&format!("http://127.0.0.1:{port}/doc")), "application/json").await.unwrap();
        assert_eq!((got.status, &got.body[..]), (200, &b"{\"a\":1}"[..]));
        let port = serve_once(response("302 Found", "location: http://169.254.169.254/\r\n", "")).await;
        assert!(matches!(
            local.get(&url(&format!("http://127.0.0.1:{port}/")), "*/*").await,
            Err(FetchError::Redirect(302))
        ));
        let port = serve_once(response("200 OK", "", "0123456789abcdefX")).await;
        assert!(matches!(
            local.get(&url(&format!("http://127.0.0.1:{port}/")), "*/*").await,
            Err(FetchError::TooLarge(16))
        ));
        // A body longer than it announced (or without a length) is cut off at the cap too.
        let port = serve_once(b"HTTP/1.1 200 OK\r\nconnection: close\r\n\r\n0123456789abcdefghij".to_vec()).await;
        assert!(matches!(
            local.get(&url(&format!("http://127.0.0.1:{port}/")), "*/*").await,
            Err(FetchError::TooLarge(16))
        ));
    }

    #[tokio::test]
    async fn a_silent_server_meets_the_deadline() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        tokio::spawn(async move {
            let kept = listener.accept().await;
            tokio::time::sleep(Duration::from_secs(5)).await;
            drop(kept);
        });
        let timeout = Duration::from_millis(300);
        let f = Fetcher::new(FetchPolicy { allow_loopback: true, timeout, ..FetchPolicy::default() });
        let started = std::time::Instant::now();
        let r = f.get(&url(&format!("http://127.0.0.1:{port}/")), "*/*").await;
        assert!(matches!(r, Err(FetchError::Timeout(_)) | Err(FetchError::Http(_))), "{r:?}");
        assert!(started.elapsed() < Duration::from_secs(3));
    }
}
