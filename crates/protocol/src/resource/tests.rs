use super::*;
use crate::client::ClientSpec;
use crate::secret::Secret;

const ISS: &str = "https://id.example.com";

fn id(s: &str) -> ResourceId {
    ResourceId::parse(s).unwrap()
}

fn scopes(s: &str) -> ScopeSet {
    ScopeSet::parse(s).unwrap()
}

fn defined(s: &str) -> bool {
    matches!(s, "mcp:tools" | "mcp:read" | "orders:read" | "roles")
}

fn resource(identifier: &str, owned: &str) -> ResourceDefinition {
    ResourceSpec {
        identifier: identifier.into(),
        scopes: owned.split_whitespace().map(str::to_owned).collect(),
        ..Default::default()
    }
    .validate(&defined)
    .unwrap()
}

fn known() -> Vec<ResourceDefinition> {
    vec![
        resource("https://mcp.example.com/mcp", "mcp:tools mcp:read"),
        resource("https://orders.example.com", "orders:read"),
        ResourceDefinition { any_client: true, ..resource("https://open.example.com", "") },
    ]
}

fn client(resources: &[&str], defaults: &[&str]) -> Client {
    ClientSpec {
        client_id: "c".into(),
        client_secret: Some(Secret::new("s")),
        resources: resources.iter().map(|s| (*s).to_owned()).collect(),
        default_resources: defaults.iter().map(|s| (*s).to_owned()).collect(),
        ..Default::default()
    }
    .validate(&|_| true)
    .unwrap()
    .client
}

#[test]
fn identifiers_are_absolute_uris_without_fragments() {
    for good in ["https://api.example.com", "https://mcp.example.com/mcp", "http://127.0.0.1:8080/x?tenant=1"] {
        assert!(ResourceId::parse(good).is_ok(), "{good}");
    }
    for bad in ["api", "/relative", "https://a/#frag", "urn:example:api", "https://a/ b", "", "mailto:x@y"] {
        assert!(ResourceId::parse(bad).is_err(), "{bad}");
    }
    let e = parse_requested(&["not a uri".into()]).unwrap_err();
    assert_eq!(e.code(), "invalid_target");
    let many = vec!["https://a".to_owned(); MAX_RESOURCES_PER_REQUEST + 1];
    assert_eq!(parse_requested(&many).unwrap_err().code(), "invalid_target");
    assert_eq!(parse_requested(&["https://a".into(), "https://a".into()]).unwrap().len(), 1, "repeats collapse");
}

#[test]
fn specs_validate_every_field() {
    let bad = ResourceSpec {
        identifier: "api".into(),
        name: Some(String::new()),
        scopes: vec!["openid".into(), "undefined:x".into()],
        access_token_ttl: Some(0),
        access_token_signing_alg: Some("HS256".into()),
        any_client: false,
    };
    let keys: Vec<&str> = bad.validate(&defined).unwrap_err().iter().map(|e| e.key).collect();
    assert_eq!(keys, ["identifier", "name", "scopes", "scopes", "access_token_ttl", "access_token_signing_alg"]);
    let good = ResourceSpec {
        identifier: "https://api.example.com".into(),
        name: Some("Orders".into()),
        scopes: vec!["orders:read".into()],
        access_token_ttl: Some(300),
        access_token_signing_alg: Some("ES256".into()),
        any_client: true,
    };
    let def = good.validate(&defined).unwrap();
    assert_eq!(def.to_spec(), good, "the spec round-trips");
}

#[test]
fn requests_resolve_to_allowed_resources_or_defaults() {
    let k = known();
    let c = client(&["https://mcp.example.com/mcp"], &["https://orders.example.com"]);
    assert_eq!(resolve(&[id("https://mcp.example.com/mcp")], &c, &k).unwrap(), [id("https://mcp.example.com/mcp")]);
    assert_eq!(resolve(&[id("https://open.example.com")], &c, &k).unwrap().len(), 1, "open to any client");
    assert_eq!(resolve(&[], &c, &k).unwrap(), [id("https://orders.example.com")], "the client's default");
    for (bad, why) in [("https://orders.example.com", "not allowed"), ("https://unknown.example.com", "unknown")] {
        assert_eq!(resolve(&[id(bad)], &c, &k).unwrap_err().code(), "invalid_target", "{why}");
    }
    let gone = client(&[], &["https://deleted.example.com"]);
    assert!(resolve(&[], &gone, &k).unwrap().is_empty(), "a deleted default resource is dropped");
}

#[test]
fn later_requests_narrow_never_widen() {
    let granted = [id("https://a.example.com"), id("https://b.example.com")];
    assert_eq!(narrow(&[], &granted).unwrap(), granted);
    assert_eq!(narrow(&[id("https://b.example.com")], &granted).unwrap(), [id("https://b.example.com")]);
    assert_eq!(narrow(&[id("https://c.example.com")], &granted).unwrap_err().code(), "invalid_target");
    assert_eq!(narrow(&[id("https://a.example.com")], &[]).unwrap_err().code(), "invalid_target");
}

#[test]
fn resource_scopes_stay_with_their_resource() {
    let k = known();
    let asked = scopes("openid roles mcp:tools orders:read");
    let mcp = [id("https://mcp.example.com/mcp")];
    assert_eq!(scope_for(&asked, &mcp, &k), scopes("openid roles mcp:tools"));
    assert_eq!(scope_for(&asked, &[], &k), scopes("openid roles"), "no audience, no resource scopes");
    let admin = scopes("gatehouse:admin mcp:tools");
    assert_eq!(scope_for(&admin, &mcp, &k), scopes("mcp:tools"), "management scopes are the issuer's alone");
    assert_eq!(scope_for(&admin, &[], &k), scopes("gatehouse:admin"));
}

#[test]
fn the_audience_names_resources_and_takes_their_settings() {
    let mut k = known();
    k[0].access_token_ttl = Some(300);
    k[0].access_token_signing_alg = Some(SigningAlg::ES256);
    k[1].access_token_ttl = Some(120);
    let both = [id("https://mcp.example.com/mcp"), id("https://orders.example.com")];
    let a = Audience::of(&both, &scopes("mcp:tools"), ISS, &k).unwrap();
    assert_eq!(a.aud, ["https://mcp.example.com/mcp", "https://orders.example.com"]);
    assert_eq!((a.ttl, a.alg), (Some(120), Some(SigningAlg::ES256)), "shortest lifetime; the one algorithm asked");
    let with_userinfo = Audience::of(&both[..1], &scopes("openid mcp:tools"), ISS, &k).unwrap();
    assert_eq!(with_userinfo.aud, ["https://mcp.example.com/mcp", ISS], "openid: userinfo is an audience too");
    assert_eq!(Audience::of(&[], &scopes("openid"), ISS, &k).unwrap(), Audience::issuer(ISS));
    k[1].access_token_signing_alg = Some(SigningAlg::RS256);
    assert_eq!(Audience::of(&both, &scopes(""), ISS, &k).unwrap_err().code(), "invalid_target");
}
