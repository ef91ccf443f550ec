//! Cascaded plans: the Thủy Nguyên district office makes seed 001 (Kế hoạch 250/KH-UBND)
//! from seed 000 (Kế hoạch 1609/KH-SGDĐT) through `POST /plans/{id}/cascade`, and its
//! document is the seeded one; it writes only its own area's plans.
use crate::helpers::{TestApp, id_of};
use crate::nominations::seeded;
use crate::store_test;
use hoinghi::domain::kinds::Role;
use reqwest::{Method, StatusCode};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};

async fn text(app: &TestApp, plan: i64) -> String {
    let r = app
        .client
        .get(format!("{}/api/v1/plans/{plan}/document.txt", app.address))
        .bearer_auth(&app.admin_token)
        .send()
        .await
        .expect("document");
    assert_eq!(r.status(), StatusCode::OK);
    r.text().await.expect("text")
}

store_test!(a_district_office_makes_seed_001_from_seed_000, |app| {
    let morning = seeded(app).await;
    let afternoon = id_of(app, "conf-cdht").await;
    let parent = id_of(app, "plan-1609").await;
    let seeded_plan = id_of(app, "plan-250-thuy-nguyen").await;
    let office = id_of(app, "pgddt-thuy-nguyen").await;
    let district = id_of(app, "ubnd-thuy-nguyen").await;

    // Seed 001 as the seed has it; then gone, and every bridge point (the other
    // districts' too) placed by no plan.
    let original = text(app, seeded_plan).await;
    let (_, plan) = app.get(&format!("/api/v1/plans/{seeded_plan}")).await;
    use hoinghi::store::bridge_point;
    bridge_point::Entity::update_many()
        .col_expr(
            bridge_point::Column::PlanId,
            Expr::value(Option::<i64>::None),
        )
        .exec(&app.db)
        .await
        .expect("detach");
    let mut district_points: Vec<i64> = bridge_point::Entity::find()
        .filter(bridge_point::Column::CoordinatingUnitId.eq(office))
        .all(&app.db)
        .await
        .expect("points")
        .into_iter()
        .map(|b| b.id)
        .collect();
    district_points.sort_unstable();
    assert_eq!(district_points.len(), 33);
    let (status, body) = app.delete(&format!("/api/v1/plans/{seeded_plan}")).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");

    // The district office writes its plan: its own words; the issuer (its district's
    // people's committee), the symbol and the place follow.
    let token = app
        .token_for("pgddt-tn", Role::DistrictOffice, Some(office))
        .await;
    let mut body = json!({"number": 250, "issued_on": "2024-12-16"});
    for field in [
        "title",
        "legal_bases",
        "preamble",
        "sections",
        "closing",
        "replaces_invitation",
        "recipients",
        "archive",
        "signatory_authority",
        "signatory_position",
        "signatory_name",
    ] {
        body[field] = plan[field].clone();
    }
    let cascade = |body: Value, token: String| async move {
        app.request(
            Method::POST,
            &format!("/api/v1/plans/{parent}/cascade"),
            Some(&token),
            Some(&body),
        )
        .await
    };
    let (status, made) = cascade(body.clone(), token.clone()).await;
    assert_eq!(status, StatusCode::CREATED, "{made}");
    assert_eq!(made["plan"]["issuing_unit_id"], district);
    assert_eq!(made["plan"]["symbol"], "KH-UBND");
    assert_eq!(made["plan"]["place"], "Thủy Nguyên");
    assert_eq!(made["plan"]["parent_plan_id"], parent);
    let mut conferences: Vec<i64> = made["conference_ids"]
        .as_array()
        .expect("conference_ids")
        .iter()
        .map(|c| c.as_i64().expect("id"))
        .collect();
    conferences.sort_unstable();
    assert_eq!(conferences, [morning, afternoon]);
    // The district's 32 morning points and its one afternoon point; not the other
    // districts' points, nor the city's.
    let taken: Vec<i64> = made["bridge_point_ids"]
        .as_array()
        .expect("ids")
        .iter()
        .map(|b| b.as_i64().expect("id"))
        .collect();
    assert_eq!(taken, district_points, "{made}");
    let id = made["plan"]["id"].as_i64().expect("id");
    assert_eq!(text(app, id).await, original);

    // Again from the same parent: nothing is left to take over.
    body["number"] = json!(251);
    let (status, again) = cascade(body.clone(), token.clone()).await;
    assert_eq!(status, StatusCode::CREATED, "{again}");
    assert_eq!(again["bridge_point_ids"], json!([]));
    // Before it places any point, a district's plan still carries out the parent's
    // conferences: their times print in it.
    let second = text(app, again["plan"]["id"].as_i64().expect("id")).await;
    assert!(second.contains("Số: 251/KH-UBND"), "{second}");
    assert!(second.contains("18/12/2024"), "{second}");

    // The province's plan: read, not written; another district: not issued for.
    let (status, _) = app
        .request(
            Method::GET,
            &format!("/api/v1/plans/{parent}"),
            Some(&token),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (_, provincial) = app.get(&format!("/api/v1/plans/{parent}")).await;
    let mut edit = provincial.clone();
    for field in ["id", "created_at", "updated_at"] {
        edit.as_object_mut().expect("object").remove(field);
    }
    let (status, refused) = app
        .request(
            Method::PUT,
            &format!("/api/v1/plans/{parent}"),
            Some(&token),
            Some(&edit),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{refused}");
    body["number"] = json!(252);
    body["issuing_unit_id"] = json!(id_of(app, "ubnd-an-duong").await);
    let (status, refused) = cascade(body, token.clone()).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{refused}");
    // A plan carrying out its own plan: made, and then that plan cannot be deleted by
    // the office (nor the province's); plans nothing hangs on can.
    let second_id = again["plan"]["id"].as_i64().expect("id");
    let (status, child) = app
        .request(
            Method::POST,
            &format!("/api/v1/plans/{second_id}/cascade"),
            Some(&token),
            Some(
                &json!({"signatory_position": "CHỦ TỊCH", "signatory_name": "Nguyễn Văn B",
                         "adopt_bridge_points": false}),
            ),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{child}");
    let child_id = child["plan"]["id"].as_i64().expect("id");
    let delete = |plan: i64| {
        let token = token.clone();
        async move {
            app.request(
                Method::DELETE,
                &format!("/api/v1/plans/{plan}"),
                Some(&token),
                None,
            )
            .await
        }
    };
    let (status, refused) = delete(second_id).await;
    assert_eq!(status, StatusCode::CONFLICT, "{refused}");
    let (status, _) = delete(parent).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, body) = delete(child_id).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    let (status, body) = delete(second_id).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    // Its own plan it may change.
    let (_, own) = app.get(&format!("/api/v1/plans/{id}")).await;
    let mut edit = own.clone();
    for field in ["id", "created_at", "updated_at"] {
        edit.as_object_mut().expect("object").remove(field);
    }
    edit["archive"] = json!("VT, PGDĐT");
    let (status, changed) = app
        .request(
            Method::PUT,
            &format!("/api/v1/plans/{id}"),
            Some(&token),
            Some(&edit),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{changed}");
});
