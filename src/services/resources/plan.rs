//! Plans (Kế hoạch): number and symbol, issuer, date, legal bases, free-text sections,
//! recipients and signatory; optionally derived from a parent plan.
use chrono::Datelike;
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, NotSet, PaginatorTrait, QueryFilter, Select, Set,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::id_key;
use crate::domain::kinds::Role;
use crate::domain::validate::{FieldError, Validator};
use crate::error::{Error, Result};
use crate::services::crud::{DistrictAccess, Filter, Resource, filter_id, unknown_filter};
use crate::services::links::check_ref;
use crate::store::{conference, plan, plan_task, unit};

/// A free-text section of a plan (`I. MỤC ĐÍCH, YÊU CẦU` and its body).
#[derive(Clone, Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Section {
    pub heading: String,
    /// Paragraphs separated by newlines; lines starting `- ` or `+ ` are list items.
    #[serde(default)]
    pub body: String,
}

/// An entry of the `Nơi nhận` block.
#[derive(Clone, Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Recipient {
    pub name: String,
    /// `để b/c`, `để thực hiện`, …
    #[serde(default)]
    pub purpose: Option<String>,
}

/// Create or replace a plan.
#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PlanInput {
    pub issuing_unit_id: i64,
    /// First header line (`UBND THÀNH PHỐ HẢI PHÒNG`) when it is not the issuer's parent.
    #[serde(default)]
    pub parent_body: Option<String>,
    /// Absent for an unnumbered draft.
    #[serde(default)]
    pub number: Option<i32>,
    /// `KH-SGDĐT`.
    pub symbol: String,
    /// `Hải Phòng` in the date line.
    pub place: String,
    #[serde(default)]
    pub issued_on: Option<chrono::NaiveDate>,
    /// For a draft whose day is not known yet (`ngày … tháng 12 năm 2024`).
    #[serde(default)]
    pub issued_month: Option<i16>,
    #[serde(default)]
    pub issued_year: Option<i32>,
    pub title: String,
    #[serde(default)]
    pub legal_bases: Vec<String>,
    #[serde(default)]
    pub preamble: Option<String>,
    #[serde(default)]
    pub sections: Vec<Section>,
    #[serde(default)]
    pub closing: Option<String>,
    /// "Kế hoạch này thay cho Giấy mời".
    #[serde(default)]
    pub replaces_invitation: bool,
    #[serde(default)]
    pub recipients: Vec<Recipient>,
    /// What follows `Lưu:` (`VT, GDTX&ĐH`).
    #[serde(default)]
    pub archive: Option<String>,
    /// `KT. GIÁM ĐỐC`, `TM. ỦY BAN NHÂN DÂN` (lines separated by newlines).
    #[serde(default)]
    pub signatory_authority: Option<String>,
    pub signatory_position: String,
    pub signatory_name: String,
    #[serde(default)]
    pub parent_plan_id: Option<i64>,
    /// A parent plan not held in hoinghi (`Kế hoạch số 1609/KH-SGDĐT ngày …`).
    #[serde(default)]
    pub parent_plan_ref: Option<String>,
}

/// Plans.
pub struct Plans;

impl Resource for Plans {
    type Entity = plan::Entity;
    type Input = PlanInput;
    type Output = plan::Model;
    const NAME: &'static str = "plan";
    const PATH: &'static str = "plans";
    const LABEL: &'static str = "kế hoạch";
    /// A district office writes its own plans (issued in its area), reads every plan.
    const DISTRICT: DistrictAccess = DistrictAccess::OwnWrites;
    const FILTERS: &'static [Filter] = &[
        Filter {
            name: "unit",
            description: "plans issued by this unit id",
        },
        Filter {
            name: "parent",
            description: "plans derived from this plan id",
        },
        Filter {
            name: "year",
            description: "plans of this year",
        },
    ];

    id_key!(plan);

    async fn touched(
        _db: &impl ConnectionTrait,
        _m: &crate::store::plan::Model,
    ) -> Result<crate::services::ledger::Touched> {
        Ok(crate::services::ledger::Touched::Nothing)
    }

    async fn check(
        db: &impl ConnectionTrait,
        i: &mut PlanInput,
        v: &mut Validator,
        existing: Option<&plan::Model>,
    ) -> Result<()> {
        v.opt_name("parent_body", &mut i.parent_body);
        v.opt_at_least("number", i.number, 1);
        v.name("symbol", &mut i.symbol);
        if i.symbol.chars().count() > 64 || i.symbol.contains(char::is_whitespace) {
            v.error(
                "symbol",
                "invalid_symbol",
                "Ký hiệu văn bản (ví dụ KH-SGDĐT) không có khoảng trắng, tối đa 64 ký tự.",
            );
        }
        v.name("place", &mut i.place);
        if let Some(d) = i.issued_on {
            let month = i16::try_from(d.month()).unwrap_or_default();
            if i.issued_month.is_some_and(|m| m != month)
                || i.issued_year.is_some_and(|y| y != d.year())
            {
                v.error(
                    "issued_month",
                    "date_mismatch",
                    "Tháng, năm ban hành không khớp với ngày ban hành.",
                );
            }
            i.issued_month = Some(month);
            i.issued_year = Some(d.year());
        }
        if i.issued_month.is_some_and(|m| !(1..=12).contains(&m)) {
            v.error(
                "issued_month",
                "invalid_month",
                "Tháng ban hành phải từ 1 đến 12.",
            );
        }
        if i.issued_year.is_some_and(|y| !(1945..=2200).contains(&y)) {
            v.error("issued_year", "invalid_year", "Năm ban hành không hợp lệ.");
        }
        v.text("title", &mut i.title);
        v.texts("legal_bases", &mut i.legal_bases);
        v.opt_text("preamble", &mut i.preamble);
        for (n, s) in i.sections.iter_mut().enumerate() {
            v.name(&format!("sections[{n}].heading"), &mut s.heading);
            crate::domain::text::nfc_in_place(&mut s.body);
        }
        v.opt_text("closing", &mut i.closing);
        for (n, r) in i.recipients.iter_mut().enumerate() {
            v.name(&format!("recipients[{n}].name"), &mut r.name);
            v.opt_name(&format!("recipients[{n}].purpose"), &mut r.purpose);
        }
        v.opt_name("archive", &mut i.archive);
        v.opt_name("signatory_authority", &mut i.signatory_authority);
        v.name("signatory_position", &mut i.signatory_position);
        v.name("signatory_name", &mut i.signatory_name);
        v.opt_name("parent_plan_ref", &mut i.parent_plan_ref);
        check_ref::<unit::Entity>(
            db,
            v,
            "issuing_unit_id",
            unit::Column::Id,
            Some(i.issuing_unit_id),
            "đơn vị",
        )
        .await?;
        check_ref::<plan::Entity>(
            db,
            v,
            "parent_plan_id",
            plan::Column::Id,
            i.parent_plan_id,
            "kế hoạch",
        )
        .await?;
        if let (Some(me), Some(parent)) = (existing, i.parent_plan_id) {
            if me.id == parent {
                v.error(
                    "parent_plan_id",
                    "cycle",
                    "Kế hoạch không thể căn cứ vào chính nó.",
                );
            }
        }
        Ok(())
    }

    fn active(i: &PlanInput, now: chrono::NaiveDateTime) -> plan::ActiveModel {
        let json = |x: serde_json::Result<serde_json::Value>| x.unwrap_or_default();
        plan::ActiveModel {
            id: NotSet,
            issuing_unit_id: Set(i.issuing_unit_id),
            parent_body: Set(i.parent_body.clone()),
            number: Set(i.number),
            symbol: Set(i.symbol.clone()),
            place: Set(i.place.clone()),
            issued_on: Set(i.issued_on),
            issued_month: Set(i.issued_month),
            issued_year: Set(i.issued_year),
            title: Set(i.title.clone()),
            legal_bases: Set(json(serde_json::to_value(&i.legal_bases))),
            preamble: Set(i.preamble.clone()),
            sections: Set(json(serde_json::to_value(&i.sections))),
            closing: Set(i.closing.clone()),
            replaces_invitation: Set(i.replaces_invitation),
            recipients: Set(json(serde_json::to_value(&i.recipients))),
            archive: Set(i.archive.clone()),
            signatory_authority: Set(i.signatory_authority.clone()),
            signatory_position: Set(i.signatory_position.clone()),
            signatory_name: Set(i.signatory_name.clone()),
            parent_plan_id: Set(i.parent_plan_id),
            parent_plan_ref: Set(i.parent_plan_ref.clone()),
            created_at: Set(now),
            updated_at: Set(now),
        }
    }

    async fn outputs(
        _db: &impl ConnectionTrait,
        models: Vec<plan::Model>,
    ) -> Result<Vec<plan::Model>> {
        Ok(models)
    }

    fn filter(
        sel: Select<plan::Entity>,
        name: &str,
        value: &str,
    ) -> Result<Select<plan::Entity>, FieldError> {
        match name {
            "unit" => filter_id(sel, plan::Column::IssuingUnitId, name, value),
            "parent" => filter_id(sel, plan::Column::ParentPlanId, name, value),
            "year" => value
                .parse::<i32>()
                .map(|y| sel.filter(plan::Column::IssuedYear.eq(y)))
                .map_err(|_| {
                    FieldError::new(name, "invalid_year", "Tham số «year» phải là một năm.")
                }),
            _ => Err(unknown_filter::<Self>(name)),
        }
    }

    async fn owners_of_input(
        _db: &impl ConnectionTrait,
        _role: Role,
        i: &PlanInput,
    ) -> Result<Vec<i64>> {
        Ok(vec![i.issuing_unit_id])
    }

    async fn owners_of_model(
        _db: &impl ConnectionTrait,
        _role: Role,
        m: &plan::Model,
    ) -> Result<Vec<i64>> {
        Ok(vec![m.issuing_unit_id])
    }

    /// A district office deletes only a plan nothing hangs on: deleting one with tasks
    /// would delete the tasks (which it may not change), one with conferences or plans
    /// carrying it out would change what their documents print.
    async fn district_may_delete(db: &impl ConnectionTrait, m: &plan::Model) -> Result<()> {
        let tasks = plan_task::Entity::find()
            .filter(plan_task::Column::PlanId.eq(m.id))
            .count(db)
            .await?;
        let conferences = conference::Entity::find()
            .filter(conference::Column::PlanId.eq(m.id))
            .count(db)
            .await?;
        let children = plan::Entity::find()
            .filter(plan::Column::ParentPlanId.eq(m.id))
            .count(db)
            .await?;
        if tasks + conferences + children == 0 {
            return Ok(());
        }
        Err(Error::Conflict {
            field: None,
            message: format!(
                "Tài khoản phòng/xã chỉ xóa được kế hoạch chưa có nhiệm vụ, hội nghị hay kế \
                 hoạch triển khai; kế hoạch mã {} có {tasks} nhiệm vụ, {conferences} hội nghị, \
                 {children} kế hoạch triển khai.",
                m.id
            ),
        })
    }
}

/// The issuing unit of a plan (owner of everything inside it).
pub(crate) async fn issuer_of(db: &impl ConnectionTrait, plan_id: i64) -> Result<Vec<i64>> {
    Ok(plan::Entity::find_by_id(plan_id)
        .one(db)
        .await?
        .map(|p| vec![p.issuing_unit_id])
        .unwrap_or_default())
}
