//! The OpenAPI document is true to the routes.
use crate::store_test;
use reqwest::{Method, StatusCode};

store_test!(
    every_documented_route_exists_and_every_ref_resolves,
    |app| {
        let (status, doc) = app
            .request(Method::GET, "/api/v1/openapi.json", None, None)
            .await;
        assert_eq!(status, StatusCode::OK);
        let schemas = doc["components"]["schemas"].as_object().expect("schemas");
        let text = doc.to_string();
        for piece in text.split("\"$ref\":\"#/components/schemas/").skip(1) {
            let name = piece.split('"').next().unwrap();
            assert!(schemas.contains_key(name), "dangling $ref {name}");
        }
        let paths = doc["paths"].as_object().expect("paths");
        assert!(paths.len() >= 24, "{} paths", paths.len());
        for (path, item) in paths {
            for method in item.as_object().unwrap().keys() {
                if path == "/api/v1/auth/logout" {
                    continue; // it would end the admin's token; tested in auth.rs
                }
                let m = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
                let concrete = path
                    .replace("{id}", "999999")
                    .replace("{item_id}", "999999")
                    .replace("{format}", "txt");
                let (status, body) = app
                    .request(m.clone(), &concrete, Some(&app.admin_token), None)
                    .await;
                // A documented route answers with something other than the catch-all "no such address".
                let catch_all = status == StatusCode::NOT_FOUND
                    && body["error"]["message"] == "Không có địa chỉ này.";
                assert!(
                    !catch_all && status != StatusCode::METHOD_NOT_ALLOWED,
                    "{m} {path} is documented but not routed"
                );
            }
        }
        for route in [
            "/api/v1/conferences/{id}/checks",
            "/api/v1/plans/{id}/checks",
            "/api/v1/checks",
            "/api/v1/conferences/{id}/agenda/{item_id}/move",
            "/api/v1/conferences/{id}/publish",
            "/api/v1/conferences/{id}/agenda.{format}",
        ] {
            assert!(
                paths.contains_key(route),
                "{route} missing from the document"
            );
        }
        for resource in [
            "units",
            "people",
            "halls",
            "speakers",
            "plans",
            "plan-tasks",
            "conferences",
            "agenda-items",
            "attendance-rules",
            "bridge-points",
            "delegates",
        ] {
            assert!(
                paths.contains_key(&format!("/api/v1/{resource}")),
                "{resource} missing from the document"
            );
            let (status, _) = app.get(&format!("/api/v1/{resource}")).await;
            assert_eq!(status, StatusCode::OK, "{resource} is routed");
        }
    }
);
