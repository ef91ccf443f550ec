//! sea-orm entities of hoinghi and the queries that go with them. Functions take
//! `&impl ConnectionTrait` so they run alike on a connection and inside a transaction.
use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbBackend, DbErr};

pub mod agenda_item;
pub mod agenda_item_speaker;
pub mod api_token;
pub mod app_user;
pub mod attendance_rule;
pub mod attendance_rule_unit;
pub mod bridge_point;
pub mod bridge_point_unit;
pub mod calendar_feed;
pub mod conference;
pub mod conference_hall;
pub mod delegate;
pub mod hall;
pub mod invitation;
pub mod invitation_sync;
pub mod outbox;
pub mod outbox_body;
pub mod person;
pub mod plan;
pub mod plan_task;
pub mod scope;
pub mod seed_ref;
pub mod speaker;
pub mod unit;

use migrations::{Migrator, MigratorTrait};

/// Opens a pool on a `sqlite://…` or `postgres://…` URL. SQLite files are created when
/// missing and switched to WAL so that readers never wait for the writer.
pub async fn connect(url: &str, max_connections: u32) -> Result<DatabaseConnection, DbErr> {
    let mut opts = ConnectOptions::new(url.to_owned());
    opts.max_connections(max_connections.max(1))
        .min_connections(1)
        .sqlx_logging(false)
        // A writer waits this long for SQLite's write lock before "database is locked":
        // a sync of a large conference holds it for seconds (sqlx's default is 5 s).
        .map_sqlx_sqlite_opts(|o| {
            o.busy_timeout(std::time::Duration::from_secs(30))
                // Room for a whole page of the largest size (500 rows): the connection's
                // worker thread hands rows over without stopping to wait for the reader
                // (sqlx's default, 50, made it sleep and be woken again within a page).
                .row_buffer_size(512)
        });
    let db = Database::connect(opts).await?;
    if db.get_database_backend() == DbBackend::Sqlite && !url.contains(":memory:") {
        db.execute_unprepared("PRAGMA journal_mode=WAL").await?;
    }
    Ok(db)
}

/// A connection for the writers that take turns all the time (the outbox worker's
/// records and claims, and a sync's batches): on SQLite, a pool of one connection to
/// `db`'s database, with its options; elsewhere `db` itself.
///
/// On SQLite, writers on separate connections meet at the file's write lock, which a
/// waiting writer polls with growing sleeps (its busy handler: 1, 2, 5, … 100 ms), and a
/// connection drops its page cache whenever another one wrote since its last
/// transaction. Measured in the outbox bench, the worker's commits waited 20–70 ms each
/// while a sync wrote its batches. On one connection they queue in this process first
/// come, first served (sqlx's pool hands it out fairly), and its cache stays warm.
/// Writers in other processes still meet this one at the lock.
pub fn writer(db: &DatabaseConnection) -> DatabaseConnection {
    if db.get_database_backend() != DbBackend::Sqlite {
        return db.clone();
    }
    let options = (*db.get_sqlite_connection_pool().connect_options()).clone();
    let pool = sea_orm::sqlx::pool::PoolOptions::<sea_orm::sqlx::Sqlite>::new()
        .max_connections(1)
        .min_connections(0)
        // Its only user is this process: a connection just used needs no ping.
        .test_before_acquire(false)
        .connect_lazy_with(options);
    sea_orm::SqlxSqliteConnector::from_sqlx_sqlite_pool(pool)
}

/// Applies every pending migration.
pub async fn migrate(db: &DatabaseConnection) -> Result<(), DbErr> {
    Migrator::up(db, None).await
}

/// The timestamp stored in `created_at` / `updated_at` (UTC, without zone).
pub fn now() -> chrono::NaiveDateTime {
    chrono::Utc::now().naive_utc()
}

/// `sqlite://PATH?mode=rwc` for a file path.
pub fn sqlite_url(path: &std::path::Path) -> String {
    format!("sqlite://{}?mode=rwc", path.display())
}

/// Whether a connection is on PostgreSQL.
pub fn is_postgres(db: &impl ConnectionTrait) -> bool {
    db.get_database_backend() == DbBackend::Postgres
}
