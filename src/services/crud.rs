//! Create, read, update, delete and list for any [`Resource`]: validation (422), reference
//! checks, authorisation by role and unit scope (403), one transaction per write, and
//! constraint violations as conflicts (409). Each resource only says what is its own.
use std::str::FromStr;
use std::sync::Arc;

use sea_orm::sea_query::{Alias, Expr};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction,
    EntityName, EntityTrait, IntoActiveModel, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
    QueryTrait, Select, TransactionTrait, Value,
};
use serde::Serialize;
use serde::de::DeserializeOwned;
use utoipa::ToSchema;

use crate::domain::kinds::Role;
use crate::domain::validate::{FieldError, Validator};
use crate::error::{Error, Result};
use crate::services::auth::Principal;
use crate::services::ledger::{self, Touched};
use crate::services::recent::{ANCHOR_STRIDE, Lists, Recent};
use crate::store;

/// The model of a resource's entity.
pub type ModelOf<R> = <<R as Resource>::Entity as EntityTrait>::Model;
/// The active model of a resource's entity.
pub type ActiveOf<R> = <<R as Resource>::Entity as EntityTrait>::ActiveModel;
/// The column enum of a resource's entity.
pub type ColumnOf<R> = <<R as Resource>::Entity as EntityTrait>::Column;

/// What a district-office user may do with a resource.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DistrictAccess {
    /// Read everything, change nothing.
    ReadOnly,
    /// Read and change only what lies in the office's area.
    Scoped,
    /// Read everything, change only what lies in the office's area: a district's own plan
    /// beside the provincial plan it carries out.
    OwnWrites,
}

/// A list filter, documented in the OpenAPI description.
pub struct Filter {
    pub name: &'static str,
    pub description: &'static str,
}

/// Largest page a list returns.
pub const MAX_PER_PAGE: u64 = 500;
/// Page size when the client gives none.
pub const DEFAULT_PER_PAGE: u64 = 50;

/// One page of a list.
#[derive(Debug, Serialize, ToSchema)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub total: u64,
    pub page: u64,
    pub per_page: u64,
    /// When the page is full: the id to pass as `after=` for the next page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_after: Option<i64>,
}

/// A resource of the JSON API, backed by one entity.
#[allow(async_fn_in_trait)]
pub trait Resource: Sized + 'static {
    type Entity: EntityTrait;
    /// The body of create and update (all fields; update replaces).
    type Input: DeserializeOwned + ToSchema + Send + 'static;
    /// What reads return.
    type Output: Serialize + ToSchema + 'static;

    /// English singular name: logs, seed sections (`unit`).
    const NAME: &'static str;
    /// Path segment under `/api/v1` (`units`).
    const PATH: &'static str;
    /// Vietnamese name for messages (`đơn vị`).
    const LABEL: &'static str;
    /// The filters `list` accepts besides `page` and `per_page`.
    const FILTERS: &'static [Filter] = &[];
    /// What district offices may do.
    const DISTRICT: DistrictAccess = DistrictAccess::ReadOnly;

    fn id_column() -> ColumnOf<Self>;
    fn id(m: &ModelOf<Self>) -> i64;

    /// Normalises and validates `input`, checks that what it references exists, resolves
    /// local times. Problems go into `v`; `Err` is for failures that are not the input's.
    async fn check(
        db: &impl ConnectionTrait,
        input: &mut Self::Input,
        v: &mut Validator,
        existing: Option<&ModelOf<Self>>,
    ) -> Result<()>;

    /// Every column from a checked input; `id` not set, timestamps `now`.
    fn active(input: &Self::Input, now: chrono::NaiveDateTime) -> ActiveOf<Self>;

    /// Runs inside the write's transaction after the row is written (child rows, paths).
    async fn after_write(
        _db: &impl ConnectionTrait,
        m: ModelOf<Self>,
        _input: &Self::Input,
        _previous: Option<&ModelOf<Self>>,
    ) -> Result<ModelOf<Self>> {
        Ok(m)
    }

    /// Outputs for models, loading child rows in one query per child table.
    async fn outputs(
        db: &impl ConnectionTrait,
        models: Vec<ModelOf<Self>>,
    ) -> Result<Vec<Self::Output>>;

    /// Applies the list filter `name=value`.
    fn filter(
        sel: Select<Self::Entity>,
        name: &str,
        _value: &str,
    ) -> Result<Select<Self::Entity>, FieldError> {
        let _ = sel;
        Err(unknown_filter::<Self>(name))
    }

    /// Columns lists are sorted by, ascending; the last is `id`, so the order is total.
    /// Keyset paging (`after=ID`) continues after a row by comparing these as a row value.
    const ORDER: &'static [&'static str] = &["id"];

    /// The units a write of `input` touches; a non-admin must have all in scope.
    async fn owners_of_input(
        db: &impl ConnectionTrait,
        role: Role,
        input: &Self::Input,
    ) -> Result<Vec<i64>>;

    /// The units an existing row belongs to.
    async fn owners_of_model(
        db: &impl ConnectionTrait,
        role: Role,
        m: &ModelOf<Self>,
    ) -> Result<Vec<i64>>;

    /// For [`DistrictAccess::Scoped`]: the column a district office's reads are limited by.
    fn scope_column() -> Option<ColumnOf<Self>> {
        None
    }

    /// The conferences whose invitations a write of `m` may change: they are marked for
    /// a sync (`services::ledger`) in the write's transaction. Any conference not over
    /// yet, unless the resource says.
    async fn touched(_db: &impl ConnectionTrait, _m: &ModelOf<Self>) -> Result<Touched> {
        Ok(Touched::Any)
    }

    /// The value of [`Resource::scope_column`] in a row.
    fn scope_value(_m: &ModelOf<Self>) -> Option<i64> {
        None
    }

    /// The conference a row belongs to, for a child of one (agenda item, rule, bridge
    /// point, delegate): its writes hold the conference first
    /// (`resources::conference::hold`).
    fn conference_of(_m: &ModelOf<Self>) -> Option<i64> {
        None
    }

    /// The conference an input's row will belong to ([`Resource::conference_of`]).
    fn conference_of_input(_i: &Self::Input) -> Option<i64> {
        None
    }

    /// Whether writes of this resource lock their conference (one at a time per
    /// conference, `resources::conference::lock`) instead of holding it shared: for
    /// [`Resource::check_in_transaction`]s that count sibling rows (a unit's delegates
    /// against its quota), which two writes side by side would each pass.
    const SERIAL: bool = false;

    /// Runs in a create's or update's transaction once the conference is held (locked,
    /// with [`Resource::SERIAL`]), before the row is written: checks against the other
    /// rows as they are now. `existing`: the row an update replaces.
    async fn check_in_transaction(
        _db: &impl ConnectionTrait,
        _input: &Self::Input,
        _existing: Option<&ModelOf<Self>>,
    ) -> Result<()> {
        Ok(())
    }

    /// Runs first in an update's transaction: the row locked and read afresh, which then
    /// stands for the row before the update in `after_write` (a conference computes its
    /// sequence from it). `None`: the row read before the transaction stands.
    async fn before_update(_db: &impl ConnectionTrait, _id: i64) -> Result<Option<ModelOf<Self>>> {
        Ok(None)
    }

    /// Runs first in the delete's transaction: an `Err` refuses the delete (a conference
    /// whose invitations still stand in calendars). One that reads must write first (lock
    /// the row), so that on SQLite the transaction holds the write lock before it reads.
    async fn before_delete(_db: &impl ConnectionTrait, _m: &ModelOf<Self>) -> Result<()> {
        Ok(())
    }

    /// For [`DistrictAccess::OwnWrites`]: whether a district office may delete `m` (what
    /// it deletes with it must be its own to change too).
    async fn district_may_delete(_db: &impl ConnectionTrait, _m: &ModelOf<Self>) -> Result<()> {
        Ok(())
    }
}

pub(crate) fn unknown_filter<R: Resource>(name: &str) -> FieldError {
    let known: Vec<&str> = ["page", "per_page"]
        .into_iter()
        .chain(R::FILTERS.iter().map(|f| f.name))
        .collect();
    FieldError::new(
        name,
        "unknown_parameter",
        format!(
            "Tham số «{name}» không dùng được ở đây; dùng: {}.",
            known.join(", ")
        ),
    )
}

/// Parses an id filter value and applies `col = value`.
pub fn filter_id<E: EntityTrait>(
    sel: Select<E>,
    col: E::Column,
    name: &str,
    value: &str,
) -> Result<Select<E>, FieldError> {
    value
        .parse::<i64>()
        .map(|id| sel.filter(col.eq(id)))
        .map_err(|_| {
            FieldError::new(
                name,
                "invalid_id",
                format!("Tham số «{name}» phải là một mã số."),
            )
        })
}

/// Parses a `col = value` filter on an enumeration column.
pub fn filter_enum<E: EntityTrait, T: DeserializeOwned + Into<Value>>(
    sel: Select<E>,
    col: E::Column,
    name: &str,
    value: &str,
) -> Result<Select<E>, FieldError> {
    serde_json::from_value::<T>(serde_json::Value::String(value.to_owned()))
        .map(|v| sel.filter(col.eq(v)))
        .map_err(|_| {
            FieldError::new(
                name,
                "invalid_value",
                format!("Giá trị «{value}» của tham số «{name}» không hợp lệ."),
            )
        })
}

fn column<R: Resource>(name: &str) -> Result<ColumnOf<R>>
where
    ColumnOf<R>: FromStr,
{
    ColumnOf::<R>::from_str(name)
        .map_err(|_| Error::Internal(format!("{} has no column {name}", R::NAME)))
}

fn forbidden<R: Resource>(role: Role) -> Error {
    Error::Forbidden(match role {
        Role::DistrictOffice if R::DISTRICT == DistrictAccess::Scoped => format!(
            "Tài khoản này chỉ được làm việc với {} trong địa bàn của đơn vị mình.",
            R::LABEL
        ),
        Role::DistrictOffice if R::DISTRICT == DistrictAccess::OwnWrites => format!(
            "Tài khoản này chỉ được thay đổi {} của các đơn vị trong địa bàn của mình.",
            R::LABEL
        ),
        Role::DistrictOffice => format!(
            "Tài khoản phòng/xã điều phối điểm cầu không được thay đổi {}.",
            R::LABEL
        ),
        _ => format!(
            "Bạn không có quyền thay đổi {} ngoài phạm vi đơn vị của mình.",
            R::LABEL
        ),
    })
}

/// Allows a write touching `owners` or refuses it with 403.
pub async fn authorize_write<R: Resource>(
    db: &impl ConnectionTrait,
    p: &Principal,
    owners: &[i64],
) -> Result<()> {
    let allowed = match p.role {
        Role::Admin => true,
        Role::DepartmentStaff => p.scope.contains_all(db, owners).await?,
        Role::DistrictOffice => {
            R::DISTRICT != DistrictAccess::ReadOnly
                && !owners.is_empty()
                && p.scope.contains_all(db, owners).await?
        }
    };
    if allowed {
        Ok(())
    } else {
        Err(forbidden::<R>(p.role))
    }
}

/// A district office reads only the rows of a scoped resource inside its area.
pub async fn authorize_read<R: Resource>(
    db: &impl ConnectionTrait,
    p: &Principal,
    m: &ModelOf<R>,
) -> Result<()> {
    if p.role == Role::DistrictOffice && R::DISTRICT == DistrictAccess::Scoped {
        let inside = match R::scope_value(m) {
            Some(u) => p.scope.contains_all(db, &[u]).await?,
            None => false,
        };
        if !inside {
            return Err(Error::Forbidden(format!(
                "Tài khoản này chỉ được xem {} trong địa bàn của đơn vị mình.",
                R::LABEL
            )));
        }
    }
    Ok(())
}

/// Loads one row or 404.
pub async fn find<R: Resource>(db: &impl ConnectionTrait, id: i64) -> Result<ModelOf<R>> {
    R::Entity::find()
        .filter(R::id_column().eq(id))
        .one(db)
        .await?
        .ok_or(Error::NotFound {
            entity: R::NAME,
            label: R::LABEL,
            id,
        })
}

async fn output<R: Resource>(db: &impl ConnectionTrait, m: ModelOf<R>) -> Result<R::Output> {
    R::outputs(db, vec![m])
        .await?
        .into_iter()
        .next()
        .ok_or_else(|| Error::Internal(format!("{} output lost", R::NAME)))
}

/// Lists a page of rows with the filters of `query`; unknown parameters are refused.
///
/// Two ways to page: `page=N` (offset) or `after=ID`, the `next_after` of the previous
/// page (keyset; every page costs the same). An offset page starts from the nearest anchor
/// before it, so it skips fewer than [`ANCHOR_STRIDE`] rows. The total and the anchors
/// come from `lists` when it holds fresh ones.
pub async fn list<R: Resource>(
    db: &DatabaseConnection,
    lists: &Lists,
    p: &Principal,
    query: &[(String, String)],
) -> Result<Page<R::Output>>
where
    ModelOf<R>: Send + Sync,
{
    let mut page = None;
    let mut after = None;
    let mut per_page = DEFAULT_PER_PAGE;
    let mut sel = R::Entity::find();
    let mut filters: Vec<(&str, &str)> = Vec::new();
    let mut v = Validator::new();
    for (name, value) in query {
        match name.as_str() {
            "page" => match value.parse::<u64>() {
                Ok(n) if n >= 1 => page = Some(n),
                _ => v.error(
                    "page",
                    "invalid_page",
                    "Tham số «page» phải là số nguyên từ 1 trở lên.",
                ),
            },
            "after" => match value.parse::<i64>() {
                Ok(id) => after = Some(id),
                _ => v.error("after", "invalid_id", "Tham số «after» phải là một mã số."),
            },
            "per_page" => match value.parse::<u64>() {
                Ok(n) if (1..=MAX_PER_PAGE).contains(&n) => per_page = n,
                _ => v.error(
                    "per_page",
                    "invalid_per_page",
                    format!("Tham số «per_page» phải là số nguyên từ 1 đến {MAX_PER_PAGE}."),
                ),
            },
            _ => match R::filter(sel.clone(), name, value) {
                Ok(s) => {
                    sel = s;
                    filters.push((name, value));
                }
                Err(e) => v.push(e),
            },
        }
    }
    if page.is_some() && after.is_some() {
        v.error(
            "after",
            "conflicting_parameters",
            "Chỉ dùng một trong hai tham số «page» hoặc «after».",
        );
    }
    if !v.is_empty() {
        return Err(Error::Validation(v.into_errors()));
    }
    let district = p.role == Role::DistrictOffice && R::DISTRICT == DistrictAccess::Scoped;
    if district {
        if let Some(col) = R::scope_column() {
            sel = sel.filter(col.in_subquery(p.scope.unit_ids_query()));
        }
    }
    filters.sort_unstable();
    let key = format!(
        "{}?{}{}",
        R::NAME,
        filters_key(&filters),
        if district {
            format!("&scope={}", p.scope.key())
        } else {
            String::new()
        }
    );
    let total = lists
        .totals
        .get_or_load(&key, || sel.clone().count(db))
        .await?;
    let offset = (page.unwrap_or(1) - 1).saturating_mul(per_page);
    let models = match after {
        Some(id) => {
            let rows = keyset::<R>(db, order::<R>(sel), id).await?;
            rows.limit(per_page).all(db).await?
        }
        None if offset >= ANCHOR_STRIDE => {
            anchored_page::<R>(db, &lists.anchors, &key, sel, offset, per_page).await?
        }
        None if offset > 0 => deferred_page::<R>(sel, offset, per_page).all(db).await?,
        None => order::<R>(sel).limit(per_page).all(db).await?,
    };
    let next_after = (models.len() as u64 == per_page)
        .then(|| models.last().map(R::id))
        .flatten();
    let items = R::outputs(db, models).await?;
    Ok(Page {
        items,
        total,
        page: page.unwrap_or(1),
        per_page,
        next_after,
    })
}

/// `a=1&b=2` from sorted pairs: the filter part of a list's cache key.
fn filters_key(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", escape_key_part(k), escape_key_part(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// `%`, `&` and `=` percent-encoded, so that distinct filters never share a cache key.
fn escape_key_part(s: &str) -> std::borrow::Cow<'_, str> {
    if !s.contains(['%', '&', '=']) {
        return s.into();
    }
    s.replace('%', "%25")
        .replace('&', "%26")
        .replace('=', "%3D")
        .into()
}

/// Sorts by [`Resource::ORDER`].
pub fn order<R: Resource>(sel: Select<R::Entity>) -> Select<R::Entity> {
    let table = R::Entity::default().table_name().to_owned();
    R::ORDER.iter().fold(sel, |sel, c| {
        sel.order_by_asc(Expr::col((Alias::new(&table), Alias::new(*c))))
    })
}

/// The page at `offset` as a deferred join: the subquery skips `offset` rows reading only
/// their ids (an index-only scan of the order's index where there is one), and only the
/// page's rows are read whole. `LIMIT … OFFSET` on the full rows would read and drop every
/// skipped row (PostgreSQL fetches each from the table).
fn deferred_page<R: Resource>(
    sel: Select<R::Entity>,
    offset: u64,
    per_page: u64,
) -> Select<R::Entity> {
    let ids = order::<R>(sel)
        .select_only()
        .column(R::id_column())
        .offset(offset)
        .limit(per_page)
        .into_query();
    order::<R>(R::Entity::find().filter(R::id_column().in_subquery(ids)))
}

/// The page at `offset` (at least [`ANCHOR_STRIDE`]) from the anchor before it: the
/// rows from the anchor on, skipping fewer than [`ANCHOR_STRIDE`].
///
/// The anchors are read once per list key with one scan (about what the deepest page
/// costs without them) and kept like totals: until a write request through this server,
/// or their time to live, which bounds how long rows written elsewhere (the CLI, another
/// server) can shift the pages from their exact offset. When the anchor row itself was
/// deleted elsewhere meanwhile, the page is read without it.
async fn anchored_page<R: Resource>(
    db: &DatabaseConnection,
    cache: &Recent<Arc<[i64]>>,
    key: &str,
    sel: Select<R::Entity>,
    offset: u64,
    per_page: u64,
) -> Result<Vec<ModelOf<R>>>
where
    ModelOf<R>: Send + Sync,
{
    let anchors = cache
        .get_or_load(key, || read_anchors::<R>(db, sel.clone()))
        .await?;
    // anchors[i] is the row at position (i + 1) × ANCHOR_STRIDE, counted from 0.
    let n = offset / ANCHOR_STRIDE;
    let Some(&anchor) = usize::try_from(n - 1).ok().and_then(|i| anchors.get(i)) else {
        // Past the last anchor: past the end of the list, unless rows came meanwhile.
        return Ok(deferred_page::<R>(sel, offset, per_page).all(db).await?);
    };
    let from = from_row::<R>(sel.clone(), &anchor.to_string(), true);
    let models = deferred_page::<R>(from, offset - n * ANCHOR_STRIDE, per_page)
        .all(db)
        .await?;
    if models.is_empty() {
        return Ok(deferred_page::<R>(sel, offset, per_page).all(db).await?);
    }
    Ok(models)
}

/// The id of every [`ANCHOR_STRIDE`]-th row of a list in [`Resource::ORDER`], from
/// position [`ANCHOR_STRIDE`] on, in one statement: a recursive query whose every step
/// skips [`ANCHOR_STRIDE`] rows from the last anchor along the order's index.
///
/// About one index scan of the list (3 ms for 100,000 delegates on SQLite, 8 ms on
/// PostgreSQL, `bench/README.md`); numbering every row with `ROW_NUMBER()` instead costs
/// 40 and 18 ms, as both databases write the numbered rows out before filtering them.
async fn read_anchors<R: Resource>(
    db: &DatabaseConnection,
    sel: Select<R::Entity>,
) -> Result<Arc<[i64]>> {
    use sea_orm::sea_query::{
        CommonTableExpression, Query, SubQueryStatement, UnionType, WithClause,
    };
    let one_id = |sel: Select<R::Entity>, skip: u64| {
        let q = order::<R>(sel)
            .select_only()
            .column(R::id_column())
            .limit(1)
            .offset(skip)
            .into_query();
        Expr::SubQuery(None, Box::new(SubQueryStatement::SelectStatement(q)))
    };
    let cursor = r#""anchor"."id""#;
    let mut steps = Query::select()
        .expr_as(one_id(sel.clone(), ANCHOR_STRIDE), "id")
        .to_owned();
    steps.union(
        UnionType::All,
        Query::select()
            .expr(one_id(from_row::<R>(sel, cursor, false), ANCHOR_STRIDE - 1))
            .from("anchor")
            .and_where(Expr::cust(format!("{cursor} IS NOT NULL")))
            .to_owned(),
    );
    let anchors = Query::select()
        .column("id")
        .from("anchor")
        .and_where(Expr::cust(r#""id" IS NOT NULL"#))
        .to_owned()
        .with(
            WithClause::new()
                .recursive(true)
                .cte(
                    CommonTableExpression::new()
                        .table_name("anchor")
                        .column("id")
                        .query(steps)
                        .to_owned(),
                )
                .to_owned(),
        );
    let stmt = db.get_database_backend().build(&anchors);
    db.query_all_raw(stmt)
        .await?
        .iter()
        .map(|row| row.try_get_by_index::<i64>(0).map_err(Error::from))
        .collect()
}

/// The rows of `sel` from the row whose id is `cursor` on (`inclusive`) or after it, in
/// [`Resource::ORDER`]: `(a, b, id) >= (a, b, id of that row)`; none if it is gone.
/// `cursor` is SQL: a number, or a column of an enclosing query.
fn from_row<R: Resource>(
    sel: Select<R::Entity>,
    cursor: &str,
    inclusive: bool,
) -> Select<R::Entity> {
    let op = if inclusive { ">=" } else { ">" };
    let table = R::Entity::default().table_name().to_owned();
    if R::ORDER == ["id"] {
        return sel.filter(Expr::cust(format!(r#""{table}"."id" {op} {cursor}"#)));
    }
    let outer: Vec<String> = R::ORDER
        .iter()
        .map(|c| format!(r#""{table}"."{c}""#))
        .collect();
    let inner: Vec<String> = R::ORDER.iter().map(|c| format!(r#"k."{c}""#)).collect();
    // Custom SQL placeholders differ between backends: ids are written as numbers.
    sel.filter(Expr::cust(format!(
        r#"({}) {op} (SELECT {} FROM "{table}" AS k WHERE k."id" = {cursor})"#,
        outer.join(", "),
        inner.join(", ")
    )))
}

/// The rows after row `id` in [`Resource::ORDER`]: `(a, b, id) > (a, b, id of row id)`.
/// A cursor row deleted meanwhile is a 422 (for the plain id order any id will do).
async fn keyset<R: Resource>(
    db: &impl ConnectionTrait,
    sel: Select<R::Entity>,
    id: i64,
) -> Result<Select<R::Entity>> {
    if R::ORDER == ["id"] {
        return Ok(from_row::<R>(sel, &id.to_string(), false));
    }
    if R::Entity::find()
        .filter(R::id_column().eq(id))
        .one(db)
        .await?
        .is_none()
    {
        return Err(Error::Validation(vec![FieldError::new(
            "after",
            "cursor_not_found",
            format!(
                "Không còn {} mã {id} để đọc tiếp sau nó; hãy đọc lại từ trang đầu.",
                R::LABEL
            ),
        )]));
    }
    Ok(from_row::<R>(sel, &id.to_string(), false))
}

/// Reads one row.
pub async fn get<R: Resource>(
    db: &DatabaseConnection,
    p: &Principal,
    id: i64,
) -> Result<R::Output> {
    let m = find::<R>(db, id).await?;
    authorize_read::<R>(db, p, &m).await?;
    output::<R>(db, m).await
}

async fn checked<R: Resource>(
    db: &impl ConnectionTrait,
    input: &mut R::Input,
    existing: Option<&ModelOf<R>>,
) -> Result<()> {
    let mut v = Validator::new();
    R::check(db, input, &mut v, existing).await?;
    if v.is_empty() {
        Ok(())
    } else {
        Err(Error::Validation(v.into_errors()))
    }
}

/// Validates, authorises and inserts, with child rows, in one transaction.
pub async fn create<R: Resource>(
    db: &DatabaseConnection,
    p: &Principal,
    mut input: R::Input,
) -> Result<R::Output>
where
    ModelOf<R>: IntoActiveModel<ActiveOf<R>> + Send + Sync,
    ActiveOf<R>: Send,
{
    admit::<R>(db, p, &mut input).await?;
    let txn = db.begin().await?;
    let m = insert_in::<R>(&txn, &input).await?;
    txn.commit().await?;
    tracing::info!(resource = R::NAME, id = R::id(&m), user = %p.login, "created");
    output::<R>(db, m).await
}

/// Validates and authorises a new row, before its transaction: on SQLite a transaction
/// must write first, as one that reads first cannot take the write lock once another
/// writer has committed.
pub(crate) async fn admit<R: Resource>(
    db: &DatabaseConnection,
    p: &Principal,
    input: &mut R::Input,
) -> Result<()> {
    checked::<R>(db, input, None).await?;
    authorize_write::<R>(db, p, &R::owners_of_input(db, p.role, input).await?).await
}

/// Inserts an [`admit`]ted row with its child rows inside `txn`: for a write that does
/// more in the same transaction.
pub(crate) async fn insert_in<R: Resource>(
    txn: &DatabaseTransaction,
    input: &R::Input,
) -> Result<ModelOf<R>>
where
    ModelOf<R>: IntoActiveModel<ActiveOf<R>> + Send + Sync,
    ActiveOf<R>: Send,
{
    hold::<R, 1>(txn, [R::conference_of_input(input)]).await?;
    R::check_in_transaction(txn, input, None).await?;
    let m = R::active(input, store::now()).insert(txn).await?;
    let m = R::after_write(txn, m, input, None).await?;
    ledger::mark(txn, R::touched(txn, &m).await?).await?;
    Ok(m)
}

/// Inserts without authorisation (seed loading); validation still applies.
pub async fn create_unchecked_auth<R: Resource>(
    db: &impl ConnectionTrait,
    mut input: R::Input,
) -> Result<ModelOf<R>>
where
    ModelOf<R>: IntoActiveModel<ActiveOf<R>> + Send + Sync,
    ActiveOf<R>: Send,
{
    checked::<R>(db, &mut input, None).await?;
    let m = R::active(&input, store::now()).insert(db).await?;
    R::after_write(db, m, &input, None).await
}

/// Holds the conferences a child row belongs to, first in its write's transaction (locks
/// them, in id order, for a [`Resource::SERIAL`] resource).
async fn hold<R: Resource, const N: usize>(
    db: &impl ConnectionTrait,
    ids: [Option<i64>; N],
) -> Result<()> {
    let mut ids: Vec<i64> = ids.into_iter().flatten().collect();
    ids.sort_unstable();
    ids.dedup();
    if R::SERIAL {
        for id in ids {
            crate::services::resources::conference::lock(db, id).await?;
        }
        Ok(())
    } else {
        crate::services::resources::conference::hold(db, &ids).await
    }
}

/// `existing` read again once its conference is held (PostgreSQL; on SQLite, whose one
/// writer at a time serialises writes, the hold is nothing and so is this): a row gone
/// meanwhile is a 404, a row moved to another conference meanwhile a 409 (its write would
/// run under the wrong conference's hold and mark the wrong conference for a sync).
async fn recheck<R: Resource>(
    txn: &impl ConnectionTrait,
    id: i64,
    existing: ModelOf<R>,
) -> Result<ModelOf<R>> {
    if !store::is_postgres(txn) || R::conference_of(&existing).is_none() {
        return Ok(existing);
    }
    let now = find::<R>(txn, id).await?;
    if R::conference_of(&now) != R::conference_of(&existing) {
        tracing::info!(
            resource = R::NAME,
            id,
            "row moved to another conference meanwhile"
        );
        return Err(Error::Conflict {
            field: None,
            message: format!(
                "Không thể lưu {} mã {id} vì nó vừa được chuyển sang hội nghị khác; \
                 vui lòng tải lại và thử lại.",
                R::LABEL
            ),
        });
    }
    Ok(now)
}

/// Validates, authorises (old and new owners) and replaces a row, in one transaction.
pub async fn update<R: Resource>(
    db: &DatabaseConnection,
    p: &Principal,
    id: i64,
    mut input: R::Input,
) -> Result<R::Output>
where
    ModelOf<R>: IntoActiveModel<ActiveOf<R>> + Send + Sync,
    ActiveOf<R>: Send,
    ColumnOf<R>: FromStr,
{
    let existing = find::<R>(db, id).await?;
    checked::<R>(db, &mut input, Some(&existing)).await?;
    authorize_write::<R>(db, p, &R::owners_of_model(db, p.role, &existing).await?).await?;
    authorize_write::<R>(db, p, &R::owners_of_input(db, p.role, &input).await?).await?;
    let mut am = R::active(&input, store::now());
    am.set(R::id_column(), id.into());
    am.not_set(column::<R>("created_at")?);
    let txn = db.begin().await?;
    hold::<R, 2>(
        &txn,
        [R::conference_of(&existing), R::conference_of_input(&input)],
    )
    .await?;
    let existing = recheck::<R>(&txn, id, existing).await?;
    R::check_in_transaction(&txn, &input, Some(&existing)).await?;
    let fresh = R::before_update(&txn, id).await?;
    let m = am.update(&txn).await?;
    let m = R::after_write(&txn, m, &input, Some(fresh.as_ref().unwrap_or(&existing))).await?;
    let touched = R::touched(&txn, &m)
        .await?
        .and(R::touched(&txn, &existing).await?);
    ledger::mark(&txn, touched).await?;
    txn.commit().await?;
    tracing::info!(resource = R::NAME, id, user = %p.login, "updated");
    output::<R>(db, m).await
}

/// Authorises and deletes a row (child rows cascade); a row still referenced is a 409.
pub async fn delete<R: Resource>(db: &DatabaseConnection, p: &Principal, id: i64) -> Result<()> {
    let existing = find::<R>(db, id).await?;
    authorize_write::<R>(db, p, &R::owners_of_model(db, p.role, &existing).await?).await?;
    if p.role == Role::DistrictOffice && R::DISTRICT == DistrictAccess::OwnWrites {
        R::district_may_delete(db, &existing).await?;
    }
    // What it touches is read before; in the transaction a write comes first (the hook's
    // or the delete), so that it writes before it reads (SQLite).
    let touched = R::touched(db, &existing).await?;
    let txn = db.begin().await?;
    hold::<R, 1>(&txn, [R::conference_of(&existing)]).await?;
    let existing = recheck::<R>(&txn, id, existing).await?;
    R::before_delete(&txn, &existing).await?;
    R::Entity::delete_many()
        .filter(R::id_column().eq(id))
        .exec(&txn)
        .await
        .map_err(|e| match Error::from(e) {
            // A row another still references (a restricting foreign key).
            Error::Conflict { .. } => Error::Conflict {
                field: None,
                message: format!(
                    "Không thể xóa {} mã {id} vì còn dữ liệu khác tham chiếu tới.",
                    R::LABEL
                ),
            },
            e => e,
        })?;
    ledger::mark(&txn, touched).await?;
    txn.commit().await?;
    tracing::info!(resource = R::NAME, id, user = %p.login, "deleted");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::filters_key;

    #[test]
    fn distinct_filters_have_distinct_cache_keys() {
        let cases: [&[(&str, &str)]; 6] = [
            &[("q", "a&b=c")],
            &[("q", "a"), ("b", "c")],
            &[("q", "a%26b%3Dc")],
            &[("q", "a%b")],
            &[("q", "a%25b")],
            &[("q=a", "")],
        ];
        let keys: Vec<String> = cases.iter().map(|c| filters_key(c)).collect();
        for (i, a) in keys.iter().enumerate() {
            for b in &keys[i + 1..] {
                assert_ne!(a, b, "{keys:?}");
            }
        }
        assert_eq!(
            filters_key(&[("conference", "1"), ("q", "Hải Phòng")]),
            "conference=1&q=Hải Phòng"
        );
    }
}
