//! One SQL text for both backends. Queries are written once with `$1`-style placeholders
//! (PostgreSQL's, which sqlx's SQLite driver binds by their number too) and run on whichever
//! database the store was opened on. What truly differs between the dialects is small and
//! sits side by side at the end of this file ([`Db::begin`], [`Tx::lock_event`],
//! [`Db::strpos`]); text search (FTS5 and `pg_trgm`) stays with the search code.
//!
//! Rows are read into `#[derive(sqlx::FromRow)]` structs (or tuples): sqlx derives them for
//! every backend's row type, so one row type serves both.

use sqlx::postgres::{PgArguments, PgRow};
use sqlx::sqlite::{SqliteArguments, SqliteRow};
use sqlx::{Arguments, AssertSqlSafe, FromRow, PgPool, Postgres, Sqlite, SqlitePool, Transaction};

/// A database of either kind. SQLite reads go to the reader pool and writes to the one
/// writer connection (see `sqlite.rs`); PostgreSQL uses one pool for both.
#[derive(Clone)]
pub enum Db {
    Sqlite { reader: SqlitePool, writer: SqlitePool },
    Pg(PgPool),
}

/// A value bound to a placeholder.
#[derive(Debug, Clone, PartialEq)]
pub enum Arg {
    Int(Option<i64>),
    Float(Option<f64>),
    Text(Option<String>),
    Bool(Option<bool>),
}

macro_rules! arg_from {
    ($($t:ty => |$v:ident| $e:expr),* $(,)?) => {
        $(impl From<$t> for Arg { fn from($v: $t) -> Self { $e } })*
    };
}
arg_from! {
    i64 => |v| Arg::Int(Some(v)),
    Option<i64> => |v| Arg::Int(v),
    u32 => |v| Arg::Int(Some(i64::from(v))),
    usize => |v| Arg::Int(Some(v as i64)),
    f64 => |v| Arg::Float(Some(v)),
    Option<f64> => |v| Arg::Float(v),
    bool => |v| Arg::Bool(Some(v)),
    String => |v| Arg::Text(Some(v)),
    &String => |v| Arg::Text(Some(v.clone())),
    &str => |v| Arg::Text(Some(v.to_owned())),
    Option<String> => |v| Arg::Text(v),
    Option<&String> => |v| Arg::Text(v.cloned()),
    Option<&str> => |v| Arg::Text(v.map(str::to_owned)),
}

/// The text and one backend's arguments of a [`Sql`] (the backends' argument types share no
/// trait that says every `Arg` encodes, so the one body is spelled out per type).
macro_rules! encode {
    ($sql:expr, $args:ty) => {{
        let sql = $sql;
        let mut a = <$args>::default();
        for arg in sql.args {
            match arg {
                Arg::Int(v) => a.add(v),
                Arg::Float(v) => a.add(v),
                Arg::Text(v) => a.add(v),
                Arg::Bool(v) => a.add(v),
            }
            .map_err(sqlx::Error::Encode)?;
        }
        Ok((AssertSqlSafe(sql.text), a))
    }};
}

/// A row type both backends can decode.
pub trait Row: Send + Unpin + for<'r> FromRow<'r, SqliteRow> + for<'r> FromRow<'r, PgRow> {}
impl<T> Row for T where T: Send + Unpin + for<'r> FromRow<'r, SqliteRow> + for<'r> FromRow<'r, PgRow> {}

/// SQL text with `$n` placeholders and the values bound to them, built in one go
/// (`Sql::new("… $1 …").bind(x)`) or piece by piece (`push`, `push_bind`, `push_list`).
#[derive(Debug, Clone, Default)]
pub struct Sql {
    text: String,
    args: Vec<Arg>,
}

impl Sql {
    pub fn new(text: impl Into<String>) -> Self {
        Sql { text: text.into(), args: Vec::new() }
    }

    /// Binds the next placeholder written in the text (`$1`, then `$2`…).
    pub fn bind(mut self, value: impl Into<Arg>) -> Self {
        self.args.push(value.into());
        self
    }

    /// Appends SQL text.
    pub fn push(&mut self, text: &str) -> &mut Self {
        self.text.push_str(text);
        self
    }

    /// Appends a placeholder bound to `value`.
    pub fn push_bind(&mut self, value: impl Into<Arg>) -> &mut Self {
        self.args.push(value.into());
        self.text.push('$');
        self.text.push_str(&self.args.len().to_string());
        self
    }

    /// Appends `(v1, v2, …)` as placeholders; an empty list is `(NULL)`, which matches nothing.
    pub fn push_list<A: Into<Arg>>(&mut self, values: impl IntoIterator<Item = A>) -> &mut Self {
        self.text.push('(');
        let mut first = true;
        for v in values {
            if !first {
                self.text.push_str(", ");
            }
            first = false;
            self.push_bind(v);
        }
        if first {
            self.text.push_str("NULL");
        }
        self.text.push(')');
        self
    }

    /// The text (tests and logs).
    /// The same arguments under another text (which must use the same placeholders, and may
    /// add the next ones).
    pub fn with_text(mut self, text: String) -> Self {
        self.text = text;
        self
    }

    pub fn text(&self) -> &str {
        &self.text
    }

    fn sqlite(self) -> Result<(AssertSqlSafe<String>, SqliteArguments), sqlx::Error> {
        encode!(self, SqliteArguments)
    }

    fn pg(self) -> Result<(AssertSqlSafe<String>, PgArguments), sqlx::Error> {
        encode!(self, PgArguments)
    }
}

/// The four ways to run a query, on any executor of one backend.
macro_rules! runners {
    ($db:ty, $args:ident) => {
        pub(super) async fn all<'e, T: Row>(
            e: impl sqlx::Executor<'e, Database = $db>,
            q: Sql,
        ) -> Result<Vec<T>, sqlx::Error> {
            let (text, args) = q.$args()?;
            sqlx::query_as_with::<$db, T, _>(text, args).fetch_all(e).await
        }
        pub(super) async fn optional<'e, T: Row>(
            e: impl sqlx::Executor<'e, Database = $db>,
            q: Sql,
        ) -> Result<Option<T>, sqlx::Error> {
            let (text, args) = q.$args()?;
            sqlx::query_as_with::<$db, T, _>(text, args).fetch_optional(e).await
        }
        pub(super) async fn execute<'e>(
            e: impl sqlx::Executor<'e, Database = $db>,
            q: Sql,
        ) -> Result<u64, sqlx::Error> {
            let (text, args) = q.$args()?;
            Ok(sqlx::query_with::<$db, _>(text, args).execute(e).await?.rows_affected())
        }
    };
}

mod on_sqlite {
    use super::*;
    runners!(Sqlite, sqlite);
}

mod on_pg {
    use super::*;
    runners!(Postgres, pg);
}

impl Db {
    /// True on PostgreSQL (for the few dialect differences callers must spell out).
    pub fn is_pg(&self) -> bool {
        matches!(self, Db::Pg(_))
    }

    /// Rows of a read.
    pub async fn all<T: Row>(&self, q: Sql) -> Result<Vec<T>, sqlx::Error> {
        match self {
            Db::Sqlite { reader, .. } => on_sqlite::all(reader, q).await,
            Db::Pg(pool) => on_pg::all(pool, q).await,
        }
    }

    /// The row of a read, if any.
    pub async fn optional<T: Row>(&self, q: Sql) -> Result<Option<T>, sqlx::Error> {
        match self {
            Db::Sqlite { reader, .. } => on_sqlite::optional(reader, q).await,
            Db::Pg(pool) => on_pg::optional(pool, q).await,
        }
    }

    /// The one row of a read (`RowNotFound` otherwise).
    pub async fn one<T: Row>(&self, q: Sql) -> Result<T, sqlx::Error> {
        self.optional(q).await?.ok_or(sqlx::Error::RowNotFound)
    }

    /// A single write outside a transaction; the number of rows it changed.
    pub async fn execute(&self, q: Sql) -> Result<u64, sqlx::Error> {
        match self {
            Db::Sqlite { writer, .. } => on_sqlite::execute(writer, q).await,
            Db::Pg(pool) => on_pg::execute(pool, q).await,
        }
    }

    /// The rows a single write returns (`INSERT … RETURNING`), outside a transaction.
    pub async fn write_all<T: Row>(&self, q: Sql) -> Result<Vec<T>, sqlx::Error> {
        match self {
            Db::Sqlite { writer, .. } => on_sqlite::all(writer, q).await,
            Db::Pg(pool) => on_pg::all(pool, q).await,
        }
    }

    /// The row a single write returns, if any.
    pub async fn write_optional<T: Row>(&self, q: Sql) -> Result<Option<T>, sqlx::Error> {
        match self {
            Db::Sqlite { writer, .. } => on_sqlite::optional(writer, q).await,
            Db::Pg(pool) => on_pg::optional(pool, q).await,
        }
    }

    /// A write transaction. SQLite: `BEGIN IMMEDIATE` on the writer, so the write lock is
    /// held from the first statement (a deferred transaction that reads then writes gets
    /// SQLITE_BUSY at once). PostgreSQL: READ COMMITTED; writers that must not interleave
    /// take a row lock first ([`Tx::lock_event`]).
    pub async fn begin(&self) -> Result<Tx, sqlx::Error> {
        match self {
            Db::Sqlite { writer, .. } => Ok(Tx::Sqlite(writer.begin_with("BEGIN IMMEDIATE").await?)),
            Db::Pg(pool) => Ok(Tx::Pg(pool.begin().await?)),
        }
    }

    /// A read-only transaction that sees one snapshot for all its statements (the search
    /// index loads facts from several tables at once). SQLite: a deferred transaction on a
    /// reader (WAL gives it a snapshot at its first read). PostgreSQL: REPEATABLE READ
    /// (READ COMMITTED would give each statement its own snapshot).
    pub async fn read(&self) -> Result<Tx, sqlx::Error> {
        match self {
            Db::Sqlite { reader, .. } => Ok(Tx::Sqlite(reader.begin().await?)),
            Db::Pg(pool) => Ok(Tx::Pg(pool.begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY").await?)),
        }
    }
}

/// A write transaction on either backend; dropped without [`Tx::commit`] it rolls back.
pub enum Tx {
    Sqlite(Transaction<'static, Sqlite>),
    Pg(Transaction<'static, Postgres>),
}

impl Tx {
    pub async fn all<T: Row>(&mut self, q: Sql) -> Result<Vec<T>, sqlx::Error> {
        match self {
            Tx::Sqlite(tx) => on_sqlite::all(&mut **tx, q).await,
            Tx::Pg(tx) => on_pg::all(&mut **tx, q).await,
        }
    }

    pub async fn optional<T: Row>(&mut self, q: Sql) -> Result<Option<T>, sqlx::Error> {
        match self {
            Tx::Sqlite(tx) => on_sqlite::optional(&mut **tx, q).await,
            Tx::Pg(tx) => on_pg::optional(&mut **tx, q).await,
        }
    }

    pub async fn one<T: Row>(&mut self, q: Sql) -> Result<T, sqlx::Error> {
        self.optional(q).await?.ok_or(sqlx::Error::RowNotFound)
    }

    pub async fn execute(&mut self, q: Sql) -> Result<u64, sqlx::Error> {
        match self {
            Tx::Sqlite(tx) => on_sqlite::execute(&mut **tx, q).await,
            Tx::Pg(tx) => on_pg::execute(&mut **tx, q).await,
        }
    }

    pub async fn commit(self) -> Result<(), sqlx::Error> {
        match self {
            Tx::Sqlite(tx) => tx.commit().await,
            Tx::Pg(tx) => tx.commit().await,
        }
    }

    /// True on PostgreSQL.
    pub fn is_pg(&self) -> bool {
        matches!(self, Tx::Pg(_))
    }

    /// Serialises the writers of one event's registrations, frames and members. SQLite: the
    /// transaction already holds the database's write lock, nothing to do. PostgreSQL: the
    /// event's row `FOR NO KEY UPDATE` (unlike `FOR UPDATE` it does not block foreign-key
    /// checks of other transactions against the event). Returns the event's status and
    /// start, `None` when there is no such event.
    pub async fn lock_event(&mut self, event_id: i64) -> Result<Option<(String, i64)>, sqlx::Error> {
        let lock = if self.is_pg() { " FOR NO KEY UPDATE" } else { "" };
        self.optional(Sql::new(format!("SELECT status, starts_at FROM events WHERE id = $1{lock}")).bind(event_id))
            .await
    }

    /// `n` fresh ids for new rows of `table` (`events` or `frames`), ascending, so that rows
    /// written in one batch can refer to each other. SQLite: after the largest id (the
    /// transaction holds the write lock, nobody else can take them). PostgreSQL: from the
    /// table's identity sequence, which never hands an id out twice.
    pub async fn next_ids(&mut self, table: &'static str, n: usize) -> Result<Vec<i64>, sqlx::Error> {
        if n == 0 {
            return Ok(Vec::new());
        }
        if self.is_pg() {
            let q = "SELECT nextval(pg_get_serial_sequence($1, 'id')) FROM generate_series(1, $2::BIGINT) ORDER BY 1";
            let rows: Vec<(i64,)> = self.all(Sql::new(q).bind(table).bind(n)).await?;
            return Ok(rows.into_iter().map(|(id,)| id).collect());
        }
        let (first,): (i64,) = self.one(Sql::new(format!("SELECT COALESCE(MAX(id), 0) + 1 FROM {table}"))).await?;
        Ok((first..first + n as i64).collect())
    }

    /// [`Tx::lock_event`] for the event of a frame; returns the event's id, `None` when
    /// there is no such frame.
    pub async fn lock_event_of_frame(&mut self, frame_id: i64) -> Result<Option<i64>, sqlx::Error> {
        let lock = if self.is_pg() { " FOR NO KEY UPDATE OF e" } else { "" };
        let q = format!("SELECT e.id FROM events e JOIN frames f ON f.event_id = e.id WHERE f.id = $1{lock}");
        Ok(self.optional::<(i64,)>(Sql::new(q).bind(frame_id)).await?.map(|(id,)| id))
    }
}

/// A connection of either kind that the caller already holds inside its transaction (a
/// [`Tx`], or a raw sqlx transaction of a one-backend path such as a bulk import), so that
/// shared queries can run on it.
pub enum Conn<'c> {
    Sqlite(&'c mut sqlx::SqliteConnection),
    Pg(&'c mut sqlx::PgConnection),
}

impl<'c> From<&'c mut Tx> for Conn<'c> {
    fn from(tx: &'c mut Tx) -> Self {
        match tx {
            Tx::Sqlite(tx) => Conn::Sqlite(tx),
            Tx::Pg(tx) => Conn::Pg(tx),
        }
    }
}
impl<'c> From<&'c mut sqlx::SqliteConnection> for Conn<'c> {
    fn from(c: &'c mut sqlx::SqliteConnection) -> Self {
        Conn::Sqlite(c)
    }
}
impl<'c> From<&'c mut sqlx::PgConnection> for Conn<'c> {
    fn from(c: &'c mut sqlx::PgConnection) -> Self {
        Conn::Pg(c)
    }
}
impl<'c, 't> From<&'c mut Transaction<'t, Sqlite>> for Conn<'c> {
    fn from(tx: &'c mut Transaction<'t, Sqlite>) -> Self {
        Conn::Sqlite(tx)
    }
}
impl<'c, 't> From<&'c mut Transaction<'t, Postgres>> for Conn<'c> {
    fn from(tx: &'c mut Transaction<'t, Postgres>) -> Self {
        Conn::Pg(tx)
    }
}

impl Conn<'_> {
    pub fn is_pg(&self) -> bool {
        matches!(self, Conn::Pg(_))
    }

    pub async fn all<T: Row>(&mut self, q: Sql) -> Result<Vec<T>, sqlx::Error> {
        match self {
            Conn::Sqlite(c) => on_sqlite::all(&mut **c, q).await,
            Conn::Pg(c) => on_pg::all(&mut **c, q).await,
        }
    }

    pub async fn execute(&mut self, q: Sql) -> Result<u64, sqlx::Error> {
        match self {
            Conn::Sqlite(c) => on_sqlite::execute(&mut **c, q).await,
            Conn::Pg(c) => on_pg::execute(&mut **c, q).await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_numbered_in_order_and_empty_lists_match_nothing() {
        let mut q = Sql::new("SELECT 1 WHERE a = ");
        q.push_bind(1i64).push(" AND b IN ").push_list(["x", "y"]).push(" AND c IN ").push_list(Vec::<i64>::new());
        assert_eq!(q.text(), "SELECT 1 WHERE a = $1 AND b IN ($2, $3) AND c IN (NULL)");
        assert_eq!(q.args, [Arg::Int(Some(1)), Arg::Text(Some("x".into())), Arg::Text(Some("y".into()))]);
    }
}
