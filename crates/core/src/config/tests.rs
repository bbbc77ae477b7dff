use super::*;
use gatehouse_protocol::claims::ClaimTargets;

fn check(toml: &str) -> Result<ValidConfig, ConfigError> {
    Config::from_toml_str(toml, &Overrides::default())?.validate()
}

fn errors(toml: &str) -> Vec<String> {
    check(toml).unwrap_err().0
}

#[test]
fn empty_config_gets_the_defaults() {
    let v = check("").unwrap();
    assert_eq!(v.issuer, "http://127.0.0.1:8080");
    assert_eq!(v.listen.to_string(), "127.0.0.1:8080");
    assert_eq!(v.database, DEFAULT_DATABASE);
    assert_eq!(v.access_token_alg, SigningAlg::RS256);
    assert_eq!(v.scopes.len(), 8, "the OIDC scopes, gatehouse:admin and gatehouse:provision");
}

#[test]
fn issuer_follows_listen_when_unset() {
    let v = check("listen = \"127.0.0.1:9999\"").unwrap();
    assert_eq!(v.issuer, "http://127.0.0.1:9999");
}

#[test]
fn overrides_beat_the_file() {
    let o = Overrides { issuer: Some("https://id.example.com".into()), ..Default::default() };
    let v = Config::from_toml_str("issuer = \"https://other.example.com\"", &o).unwrap().validate().unwrap();
    assert_eq!(v.issuer, "https://id.example.com");
}

#[test]
fn unknown_keys_name_the_path_and_the_allowed_keys() {
    let e = errors("[[clients]]\nclient_id = \"a\"\nredirect_uri = \"https://x\"\n");
    assert_eq!(e.len(), 1);
    assert!(e[0].contains("clients[0]"), "{e:?}");
    assert!(e[0].contains("redirect_uri"), "{e:?}");
    assert!(e[0].contains("redirect_uris"), "lists allowed keys: {e:?}");
}

#[test]
fn entry_errors_name_the_entry_and_key() {
    let e = errors("[[clients]]\nclient_id = \"web\"\nclient_secret = \"s\"\ngrants = [\"implict\"]\n");
    assert_eq!(e.len(), 1);
    assert!(e[0].starts_with("config: clients[0] (client_id \"web\"): grants: unknown grant \"implict\""), "{e:?}");
}

#[test]
fn duplicates_and_redefinitions_are_refused() {
    let e = errors(
        "[[clients]]\nclient_id = \"a\"\n[[clients]]\nclient_id = \"a\"\n\
         [[users]]\nusername = \"u\"\npassword = \"p\"\n[[users]]\nusername = \"u\"\npassword = \"p\"\n\
         [[scopes]]\nname = \"profile\"\n",
    );
    assert!(e.iter().any(|m| m.contains("clients[1]") && m.contains("duplicate")), "{e:?}");
    assert!(e.iter().any(|m| m.contains("users[1]") && m.contains("duplicate")), "{e:?}");
    assert!(e.iter().any(|m| m.contains("scopes[0]") && m.contains("built-in")), "{e:?}");
}

#[test]
fn custom_scopes_are_usable_by_clients() {
    let v = check("[[scopes]]\nname = \"roles\"\nclaims = [\"roles\"]\n[[clients]]\nclient_id = \"a\"\nscope = \"openid roles\"\n")
        .unwrap();
    let roles = v.scopes.iter().find(|s| s.name.as_str() == "roles").unwrap();
    assert_eq!(roles.targets, ClaimTargets::ALL);
}

#[test]
fn bad_issuer_listen_database_and_alg() {
    let e = errors(
        "issuer = \"https://id.example.com/?x=1\"\nlisten = \"localhost\"\ndatabase = \"mysql://x\"\n\
         [tokens]\naccess_token_signed_response_alg = \"HS256\"\n",
    );
    let keys: Vec<&str> = e.iter().filter_map(|m| m.split(": ").nth(1)).collect();
    assert_eq!(keys, ["listen", "issuer", "database", "tokens.access_token_signed_response_alg"], "{e:?}");
}

#[test]
fn loopback_detection() {
    assert!(is_loopback_issuer("http://127.0.0.1:8080"));
    assert!(is_loopback_issuer("http://localhost:8080/x"));
    assert!(is_loopback_issuer("http://[::1]:8080"));
    assert!(!is_loopback_issuer("https://127.0.0.1"));
    assert!(!is_loopback_issuer("http://id.example.com"));
}

#[test]
fn non_config_environment_keys_are_ignored() {
    for k in ["CONFIG", "config", "LOG_FORMAT", "TEST_POSTGRES_URL", "test_anything"] {
        assert!(!is_config_env_key(k), "{k}");
    }
    assert!(is_config_env_key("ISSUER"));
    assert!(is_config_env_key("ISUER"), "typos are reported, not ignored");
}

#[test]
fn registration_is_off_by_default_and_its_policy_is_checked() {
    let v = check("").unwrap();
    assert!(!v.registration.enabled);
    assert!(v.registration.allowed_scopes.contains("openid"));
    assert!(!v.registration.allowed_scopes.contains("gatehouse:admin"));
    for (toml, needle) in [
        (
            "[registration]\nallowed_scopes = \"openid gatehouse:admin\"\n",
            "gatehouse:admin can never be self-registered",
        ),
        (
            "[registration]\nallowed_scopes = \"openid gatehouse:provision\"\n",
            "gatehouse:provision can never be self-registered",
        ),
        ("[registration]\nallowed_scopes = \"openid roles\"\n", "scope \"roles\" is not defined"),
        ("[registration]\nallowed_grants = [\"password\"]\n", "password can never be self-registered"),
        ("[registration]\nallowed_grants = [\"magic\"]\n", "unknown grant \"magic\""),
        ("[registration]\ninitial_access_token = \"short\"\n", "too short"),
    ] {
        let errs = errors(toml);
        assert!(errs.iter().any(|e| e.contains(needle)), "{toml}: {errs:?}");
    }
}

#[test]
fn the_refresh_reuse_grace_defaults_to_ten_seconds_and_allows_zero() {
    assert_eq!(check("").unwrap().lifetimes.refresh_reuse_grace, 10);
    assert_eq!(check("[tokens]\nrefresh_token_reuse_grace = 0\n").unwrap().lifetimes.refresh_reuse_grace, 0);
    let errs = errors("[tokens]\nrefresh_token_reuse_grace = 301\n");
    assert!(errs.iter().any(|e| e.contains("tokens.refresh_token_reuse_grace") && e.contains("0 to 300")), "{errs:?}");
    let errs = errors("[[clients]]\nclient_id = \"c\"\nrefresh_token_reuse_grace = -1\n");
    assert!(errs.iter().any(|e| e.contains("refresh_token_reuse_grace")), "{errs:?}");
}

#[test]
fn the_database_pool_has_defaults_and_checked_ranges() {
    let defaults = check("").unwrap().database_pool;
    assert_eq!(defaults, gatehouse_store::PoolOptions::default());
    assert_eq!(defaults.statement_timeout, Some(std::time::Duration::from_secs(10)));
    let set = check("[database_pool]\nmax_connections = 40\nacquire_timeout = 2\nstatement_timeout = 0\n").unwrap();
    assert_eq!(set.database_pool.max_connections, Some(40));
    assert_eq!(set.database_pool.acquire_timeout, std::time::Duration::from_secs(2));
    assert_eq!(set.database_pool.statement_timeout, None, "0 turns it off");
    let errs = errors("[database_pool]\nmax_connections = 0\nacquire_timeout = 0\nstatement_timeout = 4000\n");
    assert_eq!(errs.len(), 3, "{errs:?}");
    assert!(errs.iter().all(|e| e.contains("database_pool.") && e.contains("out of range")), "{errs:?}");
    assert!(errors("[database_pool]\nmax_connection = 4\n").iter().any(|e| e.contains("max_connection")));
}

#[test]
fn metrics_are_on_by_default_and_may_want_a_token_or_be_off() {
    assert_eq!(check("").unwrap().metrics, Some(None));
    assert_eq!(check("[metrics]\nenabled = false\n").unwrap().metrics, None);
    let t = check("[metrics]\ntoken = \"0123456789abcdef\"\n").unwrap();
    assert_eq!(t.metrics, Some(Some("0123456789abcdef".into())));
    assert!(errors("[metrics]\ntoken = \"short\"\n").iter().any(|e| e.contains("metrics.token")));
}

#[test]
fn theme_colours_are_checked_for_form_and_contrast() {
    let v = check("[theme]\naccent = \"#0b6e4f\"\naccent_text = \"#fff\"\nbackground = \"#eef2f0\"\n").unwrap();
    assert_eq!(v.theme.colours.len(), 3);
    let e = errors("[theme]\naccent = \"green\"\ntext = \"#12345\"\n");
    assert_eq!(e.len(), 2, "{e:?}");
    assert!(e[0].contains("theme.accent") && e[0].contains("#rrggbb"), "{e:?}");
    let e = errors("[theme]\naccent = \"#ffdd00\"\n");
    assert!(e[0].contains("contrast") && e[0].contains("4.5:1"), "white on yellow is unreadable: {e:?}");
    let e = errors("[theme]\ntext = \"#999999\"\n");
    assert!(e[0].contains("theme.text"), "{e:?}");
}

#[test]
fn a_theme_logo_must_be_an_image_with_a_text_alternative() {
    let dir = tempfile::tempdir().unwrap();
    let logo = dir.path().join("logo.svg");
    std::fs::write(&logo, "<svg xmlns=\"http://www.w3.org/2000/svg\"/>").unwrap();
    let ok = check(&format!("[theme]\nlogo = {:?}\nlogo_alt = \"Acme\"\n", logo)).unwrap();
    assert_eq!(ok.theme.logo.as_ref().map(|(_, kind)| *kind), Some("image/svg+xml"));
    assert!(errors(&format!("[theme]\nlogo = {logo:?}\n"))[0].contains("logo_alt"));
    let text = dir.path().join("logo.txt");
    std::fs::write(&text, "hi").unwrap();
    assert!(errors(&format!("[theme]\nlogo = {text:?}\nlogo_alt = \"A\"\n"))[0].contains(".png"));
    let missing = dir.path().join("nope.png");
    assert!(errors(&format!("[theme]\nlogo = {missing:?}\nlogo_alt = \"A\"\n"))[0].contains("nope.png"));
}

#[test]
fn contrast_matches_wcag() {
    assert!((contrast([0, 0, 0], [255, 255, 255]) - 21.0).abs() < 0.01);
    assert!((contrast([0x76, 0x76, 0x76], [255, 255, 255]) - 4.54).abs() < 0.01);
    assert_eq!(parse_colour("#0b6e4f"), Some([0x0b, 0x6e, 0x4f]));
    assert_eq!(parse_colour("#fff"), Some([255, 255, 255]));
    assert_eq!(parse_colour("#ggg"), None);
    assert_eq!(parse_colour("fff"), None);
}

#[test]
fn the_connection_limit_fits_the_open_file_limit() {
    let limits = Limits::default();
    assert_eq!(limits.fitted_to(1_048_576), (limits, None), "room enough: unchanged");
    let (fitted, why) = limits.fitted_to(1024);
    assert_eq!(fitted.max_connections, 1024 - crate::config::RESERVED_DESCRIPTORS);
    assert!(why.is_some_and(|w| w.contains("10000") && w.contains("RLIMIT_NOFILE")));
    assert_eq!(limits.fitted_to(10).0.max_connections, 1, "never zero");
}

#[test]
fn trusted_proxies_are_addresses_or_cidrs() {
    let ok = check("trusted_proxies = [\"10.0.0.0/8\", \"::1\", \"192.0.2.7\"]\n").unwrap();
    let shown: Vec<String> = ok.trusted_proxies.iter().map(ToString::to_string).collect();
    assert_eq!(shown, ["10.0.0.0/8", "::1/128", "192.0.2.7/32"]);
    assert!(check("").unwrap().trusted_proxies.is_empty(), "none by default");
    let errs = errors("trusted_proxies = [\"10.0.0.0/33\", \"proxy.local\"]\n");
    assert_eq!(errs.iter().filter(|e| e.contains("trusted_proxies")).count(), 2, "{errs:?}");
}

#[test]
fn upstreams_get_their_presets_and_every_mistake_is_named() {
    let v = check(
        "[[upstreams]]\nid = \"gh\"\nkind = \"github\"\nclient_id = \"a\"\nclient_secret = \"s\"\n\n\
         [[upstreams]]\nid = \"g\"\nkind = \"google\"\nclient_id = \"b\"\nclient_secret = \"s\"\n\n\
         [[upstreams]]\nid = \"corp\"\nissuer = \"https://idp.corp.internal\"\nclient_id = \"c\"\nclient_secret = \"s\"\n\
         private_network = true\n",
    )
    .unwrap();
    let (gh, g) = (&v.upstreams[0], &v.upstreams[1]);
    assert!(!gh.private_network && v.upstreams[2].private_network, "public addresses only unless asked");
    assert_eq!(gh.label, "GitHub");
    assert_eq!(gh.subject_claim, "id");
    assert_eq!(gh.claims["preferred_username"], "login");
    assert_eq!(gh.userinfo_endpoint.as_ref().unwrap().as_str(), "https://api.github.com/user");
    assert_eq!(g.issuer.as_deref(), Some("https://accounts.google.com"));
    assert_eq!(g.scopes, "openid email profile");
    assert!(v.acr.available.iter().any(|m| m == "fed"), "signing in through a provider is a method here");

    let e = errors(
        "[[upstreams]]\nid = \"Bad Id\"\nkind = \"saml\"\nclient_id = \"\"\n\n\
         [[upstreams]]\nid = \"plain\"\nkind = \"oauth2\"\nclient_id = \"c\"\nclient_secret = \"s\"\n\n\
         [[upstreams]]\nid = \"plain\"\nclient_id = \"c\"\nclient_auth = \"private_key_jwt\"\nscopes = \"email\"\n\
         claims = { sub = \"id\" }\nicon = \"logo.bmp\"\n",
    );
    let all = e.join("\n");
    for needle in [
        "upstreams[0] (Bad Id): id:",
        "upstreams[0] (Bad Id): kind: \"saml\"",
        "upstreams[0] (Bad Id): client_id",
        "upstreams[0] (Bad Id): client_secret",
        "upstreams[1] (plain): authorization_endpoint: an oauth2 provider needs it",
        "upstreams[1] (plain): userinfo_endpoint",
        "upstreams[2] (plain): id: another upstream has this id",
        "upstreams[2] (plain): issuer: an oidc provider needs its issuer",
        "upstreams[2] (plain): scopes: an oidc provider is asked for openid",
        "upstreams[2] (plain): claims: \"sub\" cannot be mapped",
        "upstreams[2] (plain): icon:",
    ] {
        assert!(all.contains(needle), "{needle} not in:\n{all}");
    }
    assert!(!all.contains("upstreams[2] (plain): client_secret"), "private_key_jwt needs no secret:\n{all}");
    assert!(errors("[login]\npassword = false\n")[0].contains("login.password"));
}
