use crate::CONFIG;
use gatehouse_testkit::{TestDb, TestServer};

#[tokio::test]
async fn healthz_and_readyz_answer() {
    for db in TestDb::each().await {
        let s = TestServer::start(CONFIG, db).await.unwrap();
        let (st, body) = s.get_json("/healthz").await.unwrap();
        assert_eq!((st.as_u16(), body["status"].as_str()), (200, Some("ok")));
        let r = s.http.get(s.url("/readyz")).send().await.unwrap();
        assert_eq!(r.status(), 200);
        assert!(r.headers().contains_key("x-request-id"), "every response carries a request id");
        assert_eq!(r.json::<serde_json::Value>().await.unwrap()["status"], "ready");
    }
}

/// When the database goes away, readiness says so (503) while liveness stays up.
#[tokio::test]
async fn readyz_is_503_when_the_database_is_gone() {
    let Some(db) = TestDb::postgres().await else { return };
    let admin = std::env::var(gatehouse_testkit::POSTGRES_ENV).unwrap();
    let name = url::Url::parse(&db.url).unwrap().path().trim_start_matches('/').to_owned();
    let s = TestServer::start(CONFIG, db).await.unwrap();
    assert_eq!(s.http.get(s.url("/readyz")).send().await.unwrap().status(), 200);

    use sqlx::Connection;
    let mut conn = sqlx::PgConnection::connect(&admin).await.unwrap();
    sqlx::query(&format!("DROP DATABASE \"{name}\" WITH (FORCE)")).execute(&mut conn).await.unwrap();

    let r = s.http.get(s.url("/readyz")).send().await.unwrap();
    assert_eq!(r.status(), 503);
    assert_eq!(r.json::<serde_json::Value>().await.unwrap()["status"], "unavailable");
    assert_eq!(s.http.get(s.url("/healthz")).send().await.unwrap().status(), 200);
}
