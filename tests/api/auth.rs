//! 401 without credentials, tokens, revocation, sessions.
use crate::store_test;
use reqwest::{Method, StatusCode};
use serde_json::json;

store_test!(every_api_route_needs_credentials, |app| {
    for path in [
        "/api/v1/units",
        "/api/v1/conferences",
        "/api/v1/delegates",
        "/api/v1/auth/me",
        "/api/v1/tokens",
    ] {
        let (status, body) = app.request(Method::GET, path, None, None).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{path}");
        assert_eq!(body["error"]["code"], "unauthenticated", "{path}");
    }
    let (status, _) = app
        .request(Method::GET, "/api/v1/units", Some("hn_0000"), None)
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = app.request(Method::GET, "/healthz", None, None).await;
    assert_eq!(status, StatusCode::OK);
});

store_test!(a_revoked_token_stops_working, |app| {
    let (status, created) = app.post("/api/v1/tokens", json!({"name": "báo cáo"})).await;
    assert_eq!(status, StatusCode::CREATED);
    let secret = created["token"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("hn_"));
    let (status, me) = app
        .request(Method::GET, "/api/v1/auth/me", Some(&secret), None)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(me["login"], "admin");
    let (_, list) = app.get("/api/v1/tokens").await;
    assert!(
        list["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|t| t.get("token").is_none()),
        "secrets are never listed"
    );
    let id = created["id"].as_i64().unwrap();
    let (status, _) = app.delete(&format!("/api/v1/tokens/{id}")).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = app
        .request(Method::GET, "/api/v1/auth/me", Some(&secret), None)
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
});

store_test!(a_password_sign_in_opens_a_session, |app| {
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .unwrap();
    let url = |p: &str| format!("{}{p}", app.address);
    let wrong = client
        .post(url("/api/v1/auth/login"))
        .json(&json!({"login": "admin", "password": "sai"}))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    let ok = client
        .post(url("/api/v1/auth/login"))
        .json(&json!({"login": "admin", "password": "mật-khẩu-quản-trị"}))
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), StatusCode::OK);
    assert!(
        ok.headers()["set-cookie"]
            .to_str()
            .unwrap()
            .contains("HttpOnly")
    );
    assert_eq!(
        client
            .get(url("/api/v1/units"))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );
    assert_eq!(
        client
            .post(url("/api/v1/auth/logout"))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        client
            .get(url("/api/v1/units"))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::UNAUTHORIZED
    );
});
