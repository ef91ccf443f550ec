//! Indexes for list pages at national scale (see `bench/README.md`):
//! - `unit(kind, path)`, so `units?kind=…` reads its page in `path` order without sorting
//!   every match; it replaces `ix_unit_kind`, which is its prefix;
//! - on PostgreSQL, `unit.path` in the `C` collation, so that subtree filters
//!   (`path >= '/1/9/' AND path < '/1/90'`) and `ORDER BY path` compare bytes as SQLite
//!   does, and the B-tree index on `path` serves them. Under a linguistic collation
//!   (`en_US.UTF-8`) `/` may be ignored when comparing, which would make such a range
//!   wrong, not only slow.
use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DatabaseBackend;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261123_000002_list_indexes"
    }
}

#[sea_orm_migration::async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        if m.get_database_backend() == DatabaseBackend::Postgres {
            m.get_connection()
                .execute_unprepared(
                    r#"ALTER TABLE "unit" ALTER COLUMN "path" TYPE varchar COLLATE "C""#,
                )
                .await?;
        }
        m.create_index(
            Index::create()
                .name("ix_unit_kind_path")
                .table("unit")
                .col("kind")
                .col("path")
                .take(),
        )
        .await?;
        m.drop_index(Index::drop().name("ix_unit_kind").table("unit").to_owned())
            .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_index(
            Index::create()
                .name("ix_unit_kind")
                .table("unit")
                .col("kind")
                .take(),
        )
        .await?;
        m.drop_index(
            Index::drop()
                .name("ix_unit_kind_path")
                .table("unit")
                .to_owned(),
        )
        .await?;
        if m.get_database_backend() == DatabaseBackend::Postgres {
            m.get_connection()
                .execute_unprepared(
                    r#"ALTER TABLE "unit" ALTER COLUMN "path" TYPE varchar COLLATE "default""#,
                )
                .await?;
        }
        Ok(())
    }
}
