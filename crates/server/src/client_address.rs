//! Who the client is behind a reverse proxy. From a peer in `trusted_proxies`, the client's
//! address is taken from `Forwarded` (RFC 7239 `for=`) or, without it, `X-Forwarded-For`: read
//! from the right, skipping hops that are themselves trusted proxies, the first other address
//! is the client. From any other peer those headers are ignored (anyone can send them). The
//! result replaces the request's `ConnectInfo`, so throttling and logs see the client.

use axum::extract::{ConnectInfo, Request, State};
use axum::http::HeaderMap;
use axum::middleware::Next;
use axum::response::Response;
use ipnet::IpNet;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

/// The client's address for a request from `peer` carrying `headers`. A forwarded address has
/// no port of its own: it is given port 0.
pub fn client_address(peer: SocketAddr, headers: &HeaderMap, trusted: &[IpNet]) -> SocketAddr {
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|n| n.contains(ip));
    if !is_trusted(&peer.ip()) {
        return peer;
    }
    let mut client = peer;
    for hop in forwarded_for(headers).into_iter().rev() {
        // An unparseable hop ("unknown", an obfuscated name) ends what can be believed.
        let Some(ip) = hop else { break };
        client = SocketAddr::new(ip, 0);
        if !is_trusted(&ip) {
            break;
        }
    }
    client
}

/// The hops the forwarding headers list, nearest to the client first: `Forwarded`'s `for=`
/// values if that header is present, else `X-Forwarded-For`'s.
fn forwarded_for(headers: &HeaderMap) -> Vec<Option<IpAddr>> {
    let values = |name: &str| -> Vec<String> {
        headers
            .get_all(name)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(str::to_owned)
            .collect()
    };
    let forwarded = values("forwarded");
    if !forwarded.is_empty() {
        return forwarded
            .iter()
            .map(|element| {
                element
                    .split(';')
                    .filter_map(|pair| pair.trim().split_once('='))
                    .find(|(k, _)| k.eq_ignore_ascii_case("for"))
                    .and_then(|(_, v)| parse_node(v.trim().trim_matches('"')))
            })
            .collect();
    }
    values("x-forwarded-for").iter().map(|v| parse_node(v.trim())).collect()
}

/// An address as forwarding headers write it: `192.0.2.1`, `192.0.2.1:4711`, `2001:db8::1`,
/// `[2001:db8::1]` or `[2001:db8::1]:4711`.
fn parse_node(v: &str) -> Option<IpAddr> {
    if let Ok(ip) = v.parse::<IpAddr>() {
        return Some(ip);
    }
    if let Ok(sa) = v.parse::<SocketAddr>() {
        return Some(sa.ip());
    }
    v.strip_prefix('[').and_then(|r| r.strip_suffix(']')).and_then(|r| r.parse().ok())
}

/// The layer: replaces `ConnectInfo` with [`client_address`]'s answer.
pub async fn resolve(State(trusted): State<Arc<[IpNet]>>, mut req: Request, next: Next) -> Response {
    if !trusted.is_empty()
        && let Some(ConnectInfo(peer)) = req.extensions().get::<ConnectInfo<SocketAddr>>().copied()
    {
        let client = client_address(peer, req.headers(), &trusted);
        req.extensions_mut().insert(ConnectInfo(client));
    }
    next.run(req).await
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(axum::http::HeaderName::from_bytes(k.as_bytes()).unwrap(), v.parse().unwrap());
        }
        h
    }

    fn addr(s: &str) -> SocketAddr {
        s.parse().unwrap()
    }

    #[test]
    fn only_trusted_peers_are_believed() {
        let trusted: Vec<IpNet> = vec!["10.0.0.0/8".parse().unwrap()];
        let xff = headers(&[("x-forwarded-for", "203.0.113.7")]);
        assert_eq!(client_address(addr("198.51.100.1:5000"), &xff, &trusted), addr("198.51.100.1:5000"), "untrusted");
        assert_eq!(
            client_address(addr("10.1.2.3:5000"), &xff, &trusted).ip(),
            "203.0.113.7".parse::<IpAddr>().unwrap()
        );
        assert_eq!(client_address(addr("10.1.2.3:5000"), &HeaderMap::new(), &trusted), addr("10.1.2.3:5000"));
    }

    #[test]
    fn the_rightmost_untrusted_hop_is_the_client() {
        let trusted: Vec<IpNet> = vec!["10.0.0.0/8".parse().unwrap()];
        // The client forged the first entry; the proxies appended the rest.
        let h = headers(&[("x-forwarded-for", "1.1.1.1, 203.0.113.7, 10.0.0.2")]);
        assert_eq!(client_address(addr("10.0.0.1:1"), &h, &trusted).ip().to_string(), "203.0.113.7");
        let h = headers(&[("x-forwarded-for", "1.1.1.1"), ("x-forwarded-for", "203.0.113.7")]);
        assert_eq!(client_address(addr("10.0.0.1:1"), &h, &trusted).ip().to_string(), "203.0.113.7");
        let h = headers(&[("x-forwarded-for", "unknown, 10.0.0.9")]);
        assert_eq!(client_address(addr("10.0.0.1:1"), &h, &trusted).ip().to_string(), "10.0.0.9");
    }

    #[test]
    fn forwarded_wins_and_is_parsed_per_rfc_7239() {
        let trusted: Vec<IpNet> = vec!["10.0.0.0/8".parse().unwrap()];
        let h = headers(&[
            ("forwarded", r#"for=192.0.2.60;proto=http;by=203.0.113.43, for="[2001:db8:cafe::17]:4711""#),
            ("x-forwarded-for", "198.51.100.99"),
        ]);
        assert_eq!(client_address(addr("10.0.0.1:1"), &h, &trusted).ip().to_string(), "2001:db8:cafe::17");
        let h = headers(&[("forwarded", "for=192.0.2.60:8080")]);
        assert_eq!(client_address(addr("10.0.0.1:1"), &h, &trusted).ip().to_string(), "192.0.2.60");
    }
}
