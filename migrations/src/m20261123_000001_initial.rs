//! The first schema: units, people, halls, plans, conferences and everything they hold,
//! users and API tokens, and the seed register.
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261123_000001_initial"
    }
}

/// `id` primary key, `created_at`, `updated_at` (sea-orm's `table_auto`).
fn table(name: &'static str) -> TableCreateStatement {
    table_auto(name).col(big_pk_auto("id")).take()
}

/// A nullable foreign key `col` → `target.id`.
fn fk(
    t: &mut TableCreateStatement,
    from: &'static str,
    col: &'static str,
    target: &'static str,
    on_delete: ForeignKeyAction,
) {
    t.foreign_key(
        ForeignKey::create()
            .name(format!("fk_{from}_{col}"))
            .from(from, col)
            .to(target, "id")
            .on_delete(on_delete),
    );
}

fn index(table: &'static str, cols: &[&'static str], unique: bool) -> IndexCreateStatement {
    let mut i = Index::create();
    i.name(format!("ix_{table}_{}", cols.join("_")))
        .table(table);
    for c in cols {
        i.col(*c);
    }
    if unique {
        i.unique();
    }
    i.take()
}

/// A join table with a composite primary key, both sides cascading on delete.
fn join_table(
    name: &'static str,
    left: (&'static str, &'static str),
    right: (&'static str, &'static str),
) -> TableCreateStatement {
    let mut t = Table::create()
        .table(name)
        .if_not_exists()
        .col(big_integer(left.0))
        .col(big_integer(right.0))
        .primary_key(Index::create().col(left.0).col(right.0))
        .take();
    fk(&mut t, name, left.0, left.1, ForeignKeyAction::Cascade);
    fk(&mut t, name, right.0, right.1, ForeignKeyAction::Cascade);
    t
}

#[sea_orm_migration::async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        use ForeignKeyAction::{Cascade, Restrict, SetNull};

        let mut unit = table("unit")
            .col(big_integer_null("parent_id"))
            .col(string("path"))
            .col(string_len("kind", 32))
            .col(string_len_null("school_level", 16))
            .col(string_len_null("area_level", 16))
            .col(big_integer_null("area_unit_id"))
            .col(string("name"))
            .col(string_null("short_name"))
            .col(string_null("abbreviation"))
            .col(string_null("mailbox"))
            .col(string_null("address"))
            .col(string_null("phone"))
            .take();
        fk(&mut unit, "unit", "parent_id", "unit", Restrict);
        fk(&mut unit, "unit", "area_unit_id", "unit", Restrict);
        m.create_table(unit).await?;
        m.create_index(index("unit", &["parent_id", "name"], true))
            .await?;
        m.create_index(index("unit", &["path"], false)).await?;
        m.create_index(index("unit", &["area_unit_id"], false))
            .await?;
        m.create_index(index("unit", &["kind"], false)).await?;

        let mut person = table("person")
            .col(big_integer_null("unit_id"))
            .col(string_len_null("honorific", 32))
            .col(string("full_name"))
            .col(string_null("position"))
            .col(string_null("email"))
            .col(string_null("phone"))
            .take();
        fk(&mut person, "person", "unit_id", "unit", Restrict);
        m.create_table(person).await?;
        m.create_index(index("person", &["email"], true)).await?;
        m.create_index(index("person", &["unit_id"], false)).await?;

        let mut hall = table("hall")
            .col(big_integer_null("unit_id"))
            .col(string("name"))
            .col(string_null("address"))
            .col(integer_null("capacity"))
            .col(string_len("time_zone", 64))
            .take();
        fk(&mut hall, "hall", "unit_id", "unit", Restrict);
        m.create_table(hall).await?;
        m.create_index(index("hall", &["unit_id", "name"], true))
            .await?;

        let mut speaker = table("speaker")
            .col(big_integer_null("unit_id"))
            .col(string_len_null("honorific", 32))
            .col(string("full_name"))
            .col(string_null("position"))
            .col(string_null("email"))
            .col(string_null("phone"))
            .take();
        fk(&mut speaker, "speaker", "unit_id", "unit", Restrict);
        m.create_table(speaker).await?;

        let mut plan = table("plan")
            .col(big_integer("issuing_unit_id"))
            .col(string_null("parent_body"))
            .col(integer_null("number"))
            .col(string_len("symbol", 64))
            .col(string("place"))
            .col(date_null("issued_on"))
            .col(small_integer_null("issued_month"))
            .col(integer_null("issued_year"))
            .col(text("title"))
            .col(json_binary("legal_bases"))
            .col(text_null("preamble"))
            .col(json_binary("sections"))
            .col(text_null("closing"))
            .col(boolean("replaces_invitation").default(false))
            .col(json_binary("recipients"))
            .col(string_null("archive"))
            .col(string_null("signatory_authority"))
            .col(string("signatory_position"))
            .col(string("signatory_name"))
            .col(big_integer_null("parent_plan_id"))
            .col(string_null("parent_plan_ref"))
            .take();
        fk(&mut plan, "plan", "issuing_unit_id", "unit", Restrict);
        fk(&mut plan, "plan", "parent_plan_id", "plan", SetNull);
        m.create_table(plan).await?;
        m.create_index(index("plan", &["symbol", "number", "issued_year"], true))
            .await?;
        m.create_index(index("plan", &["issuing_unit_id"], false))
            .await?;
        m.create_index(index("plan", &["parent_plan_id"], false))
            .await?;

        let mut task = table("plan_task")
            .col(big_integer("plan_id"))
            .col(integer("position"))
            .col(string_null("group_title"))
            .col(text("content"))
            .col(big_integer_null("lead_unit_id"))
            .col(text_null("lead_text"))
            .col(json_binary("supporting_unit_ids"))
            .col(text_null("supporting_text"))
            .col(string_null("period"))
            .take();
        fk(&mut task, "plan_task", "plan_id", "plan", Cascade);
        fk(&mut task, "plan_task", "lead_unit_id", "unit", Restrict);
        m.create_table(task).await?;
        m.create_index(index("plan_task", &["plan_id", "position"], false))
            .await?;

        let mut conference = table("conference")
            .col(big_integer_null("plan_id"))
            .col(big_integer("organiser_unit_id"))
            .col(text("title"))
            .col(text_null("summary"))
            .col(timestamp_with_time_zone("starts_at"))
            .col(timestamp_with_time_zone("ends_at"))
            .col(string_len("time_zone", 64))
            .col(string_len("mode", 16))
            .col(string_len("status", 16))
            .col(integer("sequence").default(0))
            .col(string_null("join_url"))
            .col(string_null("join_passcode"))
            .take();
        fk(&mut conference, "conference", "plan_id", "plan", SetNull);
        fk(
            &mut conference,
            "conference",
            "organiser_unit_id",
            "unit",
            Restrict,
        );
        m.create_table(conference).await?;
        m.create_index(index("conference", &["plan_id"], false))
            .await?;
        m.create_index(index("conference", &["starts_at"], false))
            .await?;
        m.create_table(join_table(
            "conference_hall",
            ("conference_id", "conference"),
            ("hall_id", "hall"),
        ))
        .await?;

        let mut item = table("agenda_item")
            .col(big_integer("conference_id"))
            .col(timestamp_with_time_zone("starts_at"))
            .col(timestamp_with_time_zone("ends_at"))
            .col(text("content"))
            .col(text_null("performer"))
            .take();
        fk(
            &mut item,
            "agenda_item",
            "conference_id",
            "conference",
            Cascade,
        );
        m.create_table(item).await?;
        m.create_index(index("agenda_item", &["conference_id", "starts_at"], false))
            .await?;
        m.create_table(join_table(
            "agenda_item_speaker",
            ("agenda_item_id", "agenda_item"),
            ("speaker_id", "speaker"),
        ))
        .await?;

        let mut rule = table("attendance_rule")
            .col(big_integer("conference_id"))
            .col(integer("position"))
            .col(text("description"))
            .col(string_len("venue", 16))
            .col(big_integer_null("hall_id"))
            .col(integer_null("quota"))
            .col(string_len_null("unit_kind", 32))
            .col(string_len_null("school_level", 16))
            .col(string_len_null("area_level", 16))
            .col(big_integer_null("within_unit_id"))
            .take();
        fk(
            &mut rule,
            "attendance_rule",
            "conference_id",
            "conference",
            Cascade,
        );
        fk(&mut rule, "attendance_rule", "hall_id", "hall", Restrict);
        fk(
            &mut rule,
            "attendance_rule",
            "within_unit_id",
            "unit",
            Restrict,
        );
        m.create_table(rule).await?;
        m.create_index(index("attendance_rule", &["conference_id"], false))
            .await?;
        m.create_table(join_table(
            "attendance_rule_unit",
            ("attendance_rule_id", "attendance_rule"),
            ("unit_id", "unit"),
        ))
        .await?;

        let mut point = table("bridge_point")
            .col(big_integer("conference_id"))
            .col(big_integer_null("plan_id"))
            .col(integer("position"))
            .col(string("name"))
            .col(big_integer("host_unit_id"))
            .col(big_integer("coordinating_unit_id"))
            .col(string_null("room"))
            .col(string_null("address"))
            .col(integer_null("capacity"))
            .col(string_null("contact_name"))
            .col(string_null("contact_phone"))
            .col(string_null("contact_email"))
            .col(string_null("join_url"))
            .col(string_null("join_passcode"))
            .take();
        fk(
            &mut point,
            "bridge_point",
            "conference_id",
            "conference",
            Cascade,
        );
        fk(&mut point, "bridge_point", "plan_id", "plan", SetNull);
        fk(&mut point, "bridge_point", "host_unit_id", "unit", Restrict);
        fk(
            &mut point,
            "bridge_point",
            "coordinating_unit_id",
            "unit",
            Restrict,
        );
        m.create_table(point).await?;
        m.create_index(index("bridge_point", &["conference_id", "position"], false))
            .await?;
        m.create_index(index("bridge_point", &["coordinating_unit_id"], false))
            .await?;
        m.create_table(join_table(
            "bridge_point_unit",
            ("bridge_point_id", "bridge_point"),
            ("unit_id", "unit"),
        ))
        .await?;
        m.create_index(index("bridge_point_unit", &["unit_id"], false))
            .await?;

        let mut delegate = table("delegate")
            .col(big_integer("conference_id"))
            .col(big_integer("person_id"))
            .col(big_integer("unit_id"))
            .col(big_integer_null("attendance_rule_id"))
            .col(string_len("venue", 16))
            .col(big_integer_null("hall_id"))
            .col(big_integer_null("bridge_point_id"))
            .col(string_len("role", 24))
            .col(string_len("reply", 16))
            .take();
        fk(
            &mut delegate,
            "delegate",
            "conference_id",
            "conference",
            Cascade,
        );
        fk(&mut delegate, "delegate", "person_id", "person", Restrict);
        fk(&mut delegate, "delegate", "unit_id", "unit", Restrict);
        fk(
            &mut delegate,
            "delegate",
            "attendance_rule_id",
            "attendance_rule",
            SetNull,
        );
        fk(&mut delegate, "delegate", "hall_id", "hall", Restrict);
        fk(
            &mut delegate,
            "delegate",
            "bridge_point_id",
            "bridge_point",
            Restrict,
        );
        m.create_table(delegate).await?;
        m.create_index(index("delegate", &["conference_id", "person_id"], true))
            .await?;
        m.create_index(index("delegate", &["unit_id"], false))
            .await?;
        m.create_index(index("delegate", &["bridge_point_id"], false))
            .await?;

        let mut user = table("app_user")
            .col(string_len_uniq("login", 64))
            .col(string_null("display_name"))
            .col(string("password_hash"))
            .col(string_len("role", 32))
            .col(big_integer_null("unit_id"))
            .col(boolean("disabled").default(false))
            .take();
        fk(&mut user, "app_user", "unit_id", "unit", Restrict);
        m.create_table(user).await?;

        let mut token = table("api_token")
            .col(big_integer("user_id"))
            .col(string_len("kind", 16))
            .col(string_null("name"))
            .col(string_len_uniq("token_hash", 64))
            .col(timestamp_with_time_zone_null("expires_at"))
            .col(timestamp_with_time_zone_null("revoked_at"))
            .take();
        fk(&mut token, "api_token", "user_id", "app_user", Cascade);
        m.create_table(token).await?;

        m.create_table(
            Table::create()
                .table("seed_ref")
                .if_not_exists()
                .col(string("key").primary_key())
                .col(string_len("entity", 32))
                .col(big_integer("row_id"))
                .take(),
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in [
            "seed_ref",
            "api_token",
            "app_user",
            "delegate",
            "bridge_point_unit",
            "bridge_point",
            "attendance_rule_unit",
            "attendance_rule",
            "agenda_item_speaker",
            "agenda_item",
            "conference_hall",
            "conference",
            "plan_task",
            "plan",
            "speaker",
            "hall",
            "person",
            "unit",
        ] {
            m.drop_table(Table::drop().table(t).to_owned()).await?;
        }
        Ok(())
    }
}
