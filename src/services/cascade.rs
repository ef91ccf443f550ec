//! Cascaded plans: a district (or, since 07/2025, a commune) turns a provincial plan into
//! its own. `POST /api/v1/plans/{id}/cascade` creates a plan issued in the caller's area
//! that carries out plan `id`: it refers to it (the document opens with "Căn cứ Kế hoạch
//! số … ngày … của …"), inherits its conferences (their times, halls and attendance rules
//! print in the district's plan as in the province's), and takes over the bridge points of
//! those conferences that the issuer's own area coordinates and no plan places yet. The district then
//! adds its own points and their units (by hand, by auto-assignment, or by importing its
//! table with `plan_id`), which its plan lists and the province's does not.
//!
//! Fields the district does not give follow from the parent and the issuer: the issuer
//! is a district office's people's committee (the Phòng GDĐT advises, the UBND huyện
//! issues, as in seed 001), the symbol `KH-UBND` for a people's committee, the place the
//! issuer's area, the title the parent's.
use std::collections::BTreeSet;

use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QuerySelect, TransactionTrait,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::domain::kinds::{Role, UnitKind};
use crate::domain::text::committee_name;
use crate::domain::validate::FieldError;
use crate::error::{Error, Result};
use crate::services::auth::Principal;
use crate::services::crud;
use crate::services::resources::plan::{PlanInput, Plans, Recipient, Section};
use crate::store::scope::Scope;
use crate::store::{bridge_point, conference, plan, unit};

/// `POST /api/v1/plans/{id}/cascade`: the district's plan. Absent fields follow from the
/// parent plan and the issuer.
#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CascadeInput {
    /// Default, for a district office: the people's committee of its area (UBND huyện).
    #[serde(default)]
    pub issuing_unit_id: Option<i64>,
    #[serde(default)]
    pub parent_body: Option<String>,
    #[serde(default)]
    pub number: Option<i32>,
    /// Default: `KH-UBND` for a people's committee, else `KH-` and the issuer's
    /// abbreviation.
    #[serde(default)]
    pub symbol: Option<String>,
    /// Default: the issuer's area (`Thủy Nguyên`).
    #[serde(default)]
    pub place: Option<String>,
    #[serde(default)]
    pub issued_on: Option<chrono::NaiveDate>,
    #[serde(default)]
    pub issued_month: Option<i16>,
    #[serde(default)]
    pub issued_year: Option<i32>,
    /// Default: the parent plan's title.
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub legal_bases: Vec<String>,
    #[serde(default)]
    pub preamble: Option<String>,
    #[serde(default)]
    pub sections: Vec<Section>,
    #[serde(default)]
    pub closing: Option<String>,
    #[serde(default)]
    pub replaces_invitation: bool,
    #[serde(default)]
    pub recipients: Vec<Recipient>,
    #[serde(default)]
    pub archive: Option<String>,
    #[serde(default)]
    pub signatory_authority: Option<String>,
    pub signatory_position: String,
    pub signatory_name: String,
    /// Take over the parent's conferences' bridge points that the area coordinates and no
    /// plan places yet (default true).
    #[serde(default = "yes")]
    pub adopt_bridge_points: bool,
}

fn yes() -> bool {
    true
}

/// The plan made, what it inherits and what it took over.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Cascaded {
    pub plan: plan::Model,
    /// The parent's conferences, which the plan carries out.
    pub conference_ids: Vec<i64>,
    /// Bridge points now placed by this plan.
    pub bridge_point_ids: Vec<i64>,
}

/// Creates the plan carrying out plan `parent_id` and takes over its area's bridge points,
/// in one transaction.
pub async fn cascade(
    db: &DatabaseConnection,
    p: &Principal,
    parent_id: i64,
    input: CascadeInput,
) -> Result<Cascaded> {
    let parent = crud::find::<Plans>(db, parent_id).await?;
    let issuer_id = match input.issuing_unit_id {
        Some(u) => u,
        None => default_issuer(db, p).await?.ok_or_else(|| {
            Error::Validation(vec![FieldError::new(
                "issuing_unit_id",
                "required",
                "Cần đơn vị ban hành kế hoạch (issuing_unit_id).",
            )])
        })?,
    };
    let issuer = unit::Entity::find_by_id(issuer_id).one(db).await?;
    let symbol = input.symbol.clone().unwrap_or_else(|| match &issuer {
        Some(u) if u.kind == UnitKind::PeopleCommittee => "KH-UBND".to_owned(),
        Some(unit::Model {
            abbreviation: Some(a),
            ..
        }) => format!("KH-{a}"),
        _ => "KH".to_owned(),
    });
    let place = match input.place.clone() {
        Some(place) => place,
        None => place_of(db, issuer.as_ref()).await?.unwrap_or_default(),
    };
    let mut plan_input = PlanInput {
        issuing_unit_id: issuer_id,
        parent_body: input.parent_body,
        number: input.number,
        symbol,
        place,
        issued_on: input.issued_on,
        issued_month: input.issued_month,
        issued_year: input.issued_year,
        title: input.title.unwrap_or_else(|| parent.title.clone()),
        legal_bases: input.legal_bases,
        preamble: input.preamble,
        sections: input.sections,
        closing: input.closing,
        replaces_invitation: input.replaces_invitation,
        recipients: input.recipients,
        archive: input.archive,
        signatory_authority: input.signatory_authority,
        signatory_position: input.signatory_position,
        signatory_name: input.signatory_name,
        parent_plan_id: Some(parent_id),
        parent_plan_ref: None,
    };

    crud::admit::<Plans>(db, p, &mut plan_input).await?;
    let txn = db.begin().await?;
    // The plan first: the transaction's first statement writes.
    let made = crud::insert_in::<Plans>(&txn, &plan_input).await?;
    let conference_ids: Vec<i64> = conference::Entity::find()
        .select_only()
        .column(conference::Column::Id)
        .filter(conference::Column::PlanId.eq(parent_id))
        .into_tuple()
        .all(&txn)
        .await?;
    let mut taken = Vec::new();
    if input.adopt_bridge_points && !conference_ids.is_empty() {
        // The issuer's own area (not the wider scope of its account: a district
        // committee's unit reaches up to its province), and for a district office no
        // more than its own.
        let mut area: BTreeSet<i64> = crate::services::nominations::in_scope(
            &txn,
            &Scope::of_area(&txn, made.issuing_unit_id).await?,
        )
        .await?;
        if p.role == Role::DistrictOffice {
            let own = crate::services::nominations::in_scope(&txn, &p.scope).await?;
            area.retain(|u| own.contains(u));
        }
        // The conferences are locked, in id order, before their points change.
        let mut locked = conference_ids.clone();
        locked.sort_unstable();
        for c in &locked {
            crate::services::resources::conference::lock(&txn, *c).await?;
        }
        taken = bridge_point::Entity::find()
            .select_only()
            .columns([
                bridge_point::Column::Id,
                bridge_point::Column::CoordinatingUnitId,
            ])
            .filter(bridge_point::Column::ConferenceId.is_in(conference_ids.iter().copied()))
            .filter(bridge_point::Column::PlanId.is_null())
            .into_tuple::<(i64, i64)>()
            .all(&txn)
            .await?
            .into_iter()
            .filter(|(_, coordinator)| area.contains(coordinator))
            .map(|(id, _)| id)
            .collect();
        taken.sort_unstable();
        for chunk in taken.chunks(1000) {
            bridge_point::Entity::update_many()
                .col_expr(bridge_point::Column::PlanId, Expr::value(made.id))
                .col_expr(
                    bridge_point::Column::UpdatedAt,
                    Expr::value(crate::store::now()),
                )
                .filter(bridge_point::Column::Id.is_in(chunk.iter().copied()))
                .filter(bridge_point::Column::PlanId.is_null())
                .exec(&txn)
                .await?;
        }
    }
    txn.commit().await?;
    tracing::info!(
        plan_id = made.id,
        parent_id,
        bridge_points = taken.len(),
        user = %p.login,
        "plan cascaded"
    );
    Ok(Cascaded {
        plan: made,
        conference_ids,
        bridge_point_ids: taken,
    })
}

/// A district office's plans are issued by its area's people's committee.
async fn default_issuer(db: &DatabaseConnection, p: &Principal) -> Result<Option<i64>> {
    if p.role != Role::DistrictOffice {
        return Ok(None);
    }
    let Some(own) = p.unit_id else {
        return Ok(None);
    };
    let u = unit::Entity::find_by_id(own).one(db).await?;
    Ok(u.map(|u| {
        if u.kind == UnitKind::PeopleCommittee {
            u.id
        } else {
            u.area_unit_id.unwrap_or(u.id)
        }
    }))
}

/// The issuer's area as the date line names it ("Thủy Nguyên").
async fn place_of(db: &DatabaseConnection, issuer: Option<&unit::Model>) -> Result<Option<String>> {
    let Some(u) = issuer else {
        return Ok(None);
    };
    let committee = if u.kind == UnitKind::PeopleCommittee {
        Some(u.clone())
    } else if let Some(a) = u.area_unit_id {
        unit::Entity::find_by_id(a).one(db).await?
    } else {
        None
    };
    Ok(committee
        .and_then(|c| committee_name(&c.name))
        .map(|(name, _)| name))
}
