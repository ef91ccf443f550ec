//! Roles and unit scopes: a district office acts only in its district.
use crate::store_test;
use hoinghi::domain::kinds::Role;
use reqwest::{Method, StatusCode};
use serde_json::json;

store_test!(a_district_office_works_only_in_its_district, |app| {
    let city = app
        .unit("UBND thành phố Hải Phòng", "people_committee", None, None)
        .await;
    let so = app
        .unit("Sở GDĐT Hải Phòng", "department", Some(city), Some(city))
        .await;
    let tn = app
        .unit(
            "UBND huyện Thủy Nguyên",
            "people_committee",
            Some(city),
            Some(city),
        )
        .await;
    let tn_office = app
        .unit(
            "Phòng GDĐT huyện Thủy Nguyên",
            "education_office",
            Some(tn),
            Some(tn),
        )
        .await;
    let tn_commune = app
        .unit("UBND xã An Lư", "people_committee", Some(tn), Some(tn))
        .await;
    let tn_school = app
        .unit(
            "Trường THCS An Lư",
            "school",
            Some(tn_office),
            Some(tn_commune),
        )
        .await;
    // A province-managed school located in the district is in the district's area.
    let tn_thpt = app
        .unit(
            "Trường THPT Quang Trung",
            "school",
            Some(so),
            Some(tn_commune),
        )
        .await;
    let al = app
        .unit(
            "UBND huyện An Lão",
            "people_committee",
            Some(city),
            Some(city),
        )
        .await;
    let al_office = app
        .unit(
            "Phòng GDĐT huyện An Lão",
            "education_office",
            Some(al),
            Some(al),
        )
        .await;
    let al_school = app
        .unit("Trường THCS An Lão", "school", Some(al_office), Some(al))
        .await;
    let conf = app.conference(so).await;

    let district = app
        .token_for("thuynguyen", Role::DistrictOffice, Some(tn_office))
        .await;
    let point = |host: i64, coordinator: i64, units: Vec<i64>| json!({"conference_id": conf, "name": "Điểm cầu", "host_unit_id": host, "coordinating_unit_id": coordinator, "unit_ids": units});
    let (status, mine) = app
        .request(
            Method::POST,
            "/api/v1/bridge-points",
            Some(&district),
            Some(&point(
                tn_school,
                tn_office,
                vec![tn_commune, tn_school, tn_thpt],
            )),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{mine}");
    let mine = mine["id"].as_i64().unwrap();
    let (status, v) = app
        .request(
            Method::POST,
            "/api/v1/bridge-points",
            Some(&district),
            Some(&point(al_school, al_office, vec![al_school])),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{v}");
    assert_eq!(v["error"]["code"], "forbidden");
    let (status, _) = app
        .request(
            Method::POST,
            "/api/v1/bridge-points",
            Some(&district),
            Some(&point(tn_school, tn_office, vec![al_school])),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "an attending unit outside the district"
    );

    let theirs = app
        .create(
            "/api/v1/bridge-points",
            point(al_school, al_office, vec![al_school]),
        )
        .await;
    let (status, _) = app
        .request(
            Method::GET,
            &format!("/api/v1/bridge-points/{theirs}"),
            Some(&district),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = app
        .request(
            Method::PUT,
            &format!("/api/v1/bridge-points/{theirs}"),
            Some(&district),
            Some(&point(al_school, al_office, vec![])),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = app
        .request(
            Method::DELETE,
            &format!("/api/v1/bridge-points/{theirs}"),
            Some(&district),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = app
        .request(
            Method::GET,
            &format!("/api/v1/bridge-points/{mine}"),
            Some(&district),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (_, list) = app
        .request(
            Method::GET,
            &format!("/api/v1/bridge-points?conference={conf}"),
            Some(&district),
            None,
        )
        .await;
    let ids: Vec<i64> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["id"].as_i64().unwrap())
        .collect();
    assert_eq!(
        ids,
        vec![mine],
        "a district lists only its own bridge points"
    );
    let (_, all) = app
        .get(&format!("/api/v1/bridge-points?conference={conf}"))
        .await;
    assert_eq!(all["total"], 2, "an admin lists all");

    // Delegates of its units, yes; of another district, no; conferences, never.
    let person = app
        .create(
            "/api/v1/people",
            json!({"full_name": "Phạm Văn Cường", "unit_id": tn_commune}),
        )
        .await;
    let delegate = |unit: i64| json!({"conference_id": conf, "person_id": person, "unit_id": unit, "venue": "bridge_point", "bridge_point_id": mine});
    let (status, v) = app
        .request(
            Method::POST,
            "/api/v1/delegates",
            Some(&district),
            Some(&delegate(tn_commune)),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{v}");
    let (status, _) = app
        .request(
            Method::POST,
            "/api/v1/delegates",
            Some(&district),
            Some(&delegate(al_school)),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = app
        .request(Method::PUT, &format!("/api/v1/conferences/{conf}"), Some(&district),
                 Some(&json!({"organiser_unit_id": so, "title": "X", "mode": "online", "starts_at": "2024-12-18T08:00", "ends_at": "2024-12-18T09:00"})))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = app
        .request(
            Method::GET,
            &format!("/api/v1/conferences/{conf}"),
            Some(&district),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "conferences are readable");
});

store_test!(department_staff_change_only_their_units_plans, |app| {
    let city = app
        .unit("UBND thành phố Hải Phòng", "people_committee", None, None)
        .await;
    let so = app
        .unit("Sở GDĐT Hải Phòng", "department", Some(city), None)
        .await;
    let other = app.unit("Sở GDĐT Hà Nội", "department", None, None).await;
    let staff = app
        .token_for("canbo", Role::DepartmentStaff, Some(so))
        .await;
    let plan = |unit: i64| {
        json!({"issuing_unit_id": unit, "symbol": "KH-SGDĐT", "place": "Hải Phòng", "title": "Kế hoạch",
                                  "signatory_position": "GIÁM ĐỐC", "signatory_name": "Bùi Văn Kiệt"})
    };
    let (status, v) = app
        .request(Method::POST, "/api/v1/plans", Some(&staff), Some(&plan(so)))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{v}");
    let (status, v) = app
        .request(
            Method::POST,
            "/api/v1/plans",
            Some(&staff),
            Some(&plan(other)),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{v}");
    let theirs = app.create("/api/v1/plans", plan(other)).await;
    let (status, _) = app
        .request(
            Method::DELETE,
            &format!("/api/v1/plans/{theirs}"),
            Some(&staff),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = app
        .request(
            Method::GET,
            &format!("/api/v1/plans/{theirs}"),
            Some(&staff),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
});
