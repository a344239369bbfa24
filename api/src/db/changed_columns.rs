//! UPDATEs that diesel prepares once per connection: `UPDATE t SET <the columns that changed>
//! WHERE <key> = ?`.
//!
//! Diesel never caches an UPDATE it builds itself: `UpdateStatement` marks every one unsafe to
//! cache (a changeset of `Option`s may leave columns out, so one query type can stand for
//! several SQL texts), and a wrapper cannot undo that (diesel asks its own `&T` forwarding).
//! So each `diesel::update(..).set(..)` was prepared again on every execution: on SQLite that
//! was a fifth of the server's instructions per applicant flow (issue 13). The statements built
//! here name no static query id, and diesel then keys its statement cache by the SQL text: each
//! set of columns is prepared once per connection and afterwards only bound. Writing only the
//! columns that changed also spares SQLite the upkeep of indexes on the columns that did not,
//! and lets PostgreSQL keep a row's index entries (a HOT update) more often.

/// Defines `$name<'a>`, the UPDATE of one `$row` of `$table` by its key column `$key`, setting
/// the listed columns: those that differ from the row as stored (`$name::changed`), or all of
/// them (`$name::all`, when the stored values are not known). Each column is a field of `$row`
/// and a column of `schema::$table` of the same name; the value bound is the field's, with the
/// column's SQL type, so a field of the wrong type does not compile.
macro_rules! changed_columns_update {
    (
        $(#[$meta:meta])*
        $name:ident: $row:ty, table $table:ident, key $key:ident,
        columns [$($column:ident),+ $(,)?]
    ) => {
        $(#[$meta])*
        pub struct $name<'a> {
            before: Option<&'a $row>,
            after: &'a $row,
        }

        impl<'a> $name<'a> {
            /// Every listed column of `after`.
            pub fn all(after: &'a $row) -> Self {
                Self { before: None, after }
            }

            /// The listed columns of `after` whose values differ from `before`, the same row as
            /// stored.
            pub fn changed(before: &'a $row, after: &'a $row) -> Self {
                Self { before: Some(before), after }
            }

            /// Whether no column is to be written (an UPDATE would then be no SQL at all).
            pub fn is_empty(&self) -> bool {
                self.before
                    .is_some_and(|before| true $(&& before.$column == self.after.$column)+)
            }
        }

        // No static id: the SQL text depends on which columns changed, and diesel keys the
        // statement cache by that text instead.
        impl diesel::query_builder::QueryId for $name<'_> {
            type QueryId = ();
            const HAS_STATIC_QUERY_ID: bool = false;
        }

        changed_columns_update!(@backend $name, $table, $key, diesel::sqlite::Sqlite, [$($column),+]);
        changed_columns_update!(@backend $name, $table, $key, diesel::pg::Pg, [$($column),+]);
    };

    (@backend $name:ident, $table:ident, $key:ident, $backend:ty, [$($column:ident),+]) => {
        impl diesel::query_builder::QueryFragment<$backend> for $name<'_> {
            fn walk_ast<'b>(
                &'b self,
                mut out: diesel::query_builder::AstPass<'_, 'b, $backend>,
            ) -> diesel::QueryResult<()> {
                use diesel::{Column, Expression};
                use $crate::db::schema::$table as t;
                out.push_sql("UPDATE ");
                out.push_identifier(stringify!($table))?;
                out.push_sql(" SET ");
                let mut none_yet = true;
                $(
                    if self.before.is_none_or(|before| before.$column != self.after.$column) {
                        if !none_yet {
                            out.push_sql(", ");
                        }
                        none_yet = false;
                        out.push_identifier(<t::$column as Column>::NAME)?;
                        out.push_sql(" = ");
                        out.push_bind_param::<<t::$column as Expression>::SqlType, _>(
                            &self.after.$column,
                        )?;
                    }
                )+
                if none_yet {
                    return Err(diesel::result::Error::QueryBuilderError(
                        concat!(stringify!($name), ": no column changed").into(),
                    ));
                }
                out.push_sql(" WHERE ");
                out.push_identifier(<t::$key as Column>::NAME)?;
                out.push_sql(" = ");
                out.push_bind_param::<<t::$key as Expression>::SqlType, _>(&self.after.$key)
            }
        }
    };
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use diesel::connection::{Instrumentation, InstrumentationEvent};
    use diesel::prelude::*;
    use diesel::query_builder::QueryFragment;
    use diesel_migrations::MigrationHarness;

    use crate::db::models::RateLimitCounterRow;
    use crate::db::schema::rate_limit_counters::dsl;
    use crate::db::RunOnBackend;

    changed_columns_update!(
        /// The test's update.
        Counter: RateLimitCounterRow, table rate_limit_counters, key bucket,
        columns [slot_seconds, slots, expires_at]
    );

    fn row(slots: &str) -> RateLimitCounterRow {
        RateLimitCounterRow {
            bucket: "client:192.0.2.1".to_owned(),
            slot_seconds: 60,
            slots: slots.to_owned(),
            expires_at: time::macros::datetime!(2026-12-07 10:00:00),
        }
    }

    #[test]
    fn only_the_changed_columns_are_set_on_either_backend() -> diesel::QueryResult<()> {
        let (before, after) = (row("1:1"), row("1:2"));
        let sqlite =
            diesel::debug_query::<diesel::sqlite::Sqlite, _>(&Counter::changed(&before, &after))
                .to_string();
        assert!(
            sqlite.starts_with(
                "UPDATE `rate_limit_counters` SET `slots` = ? WHERE `bucket` = ? -- binds: [\"1:2\""
            ),
            "{sqlite}"
        );
        let pg = diesel::debug_query::<diesel::pg::Pg, _>(&Counter::all(&after)).to_string();
        assert!(
            pg.starts_with(
                "UPDATE \"rate_limit_counters\" SET \"slot_seconds\" = $1, \"slots\" = $2, \
                 \"expires_at\" = $3 WHERE \"bucket\" = $4"
            ),
            "{pg}"
        );
        assert!(Counter::changed(&before, &before).is_empty());
        assert!(!Counter::changed(&before, &after).is_empty());
        assert!(!Counter::all(&after).is_empty());
        // Nothing to write is an error, never an UPDATE with an empty SET.
        let mut sql = diesel::sqlite::SqliteQueryBuilder::new();
        assert!(Counter::changed(&before, &before)
            .to_sql(&mut sql, &diesel::sqlite::Sqlite)
            .is_err());
        // What the module is for: diesel's own UPDATE is never cached, this one is.
        let diesel_update =
            diesel::update(dsl::rate_limit_counters.find(&after.bucket)).set(&after);
        assert!(!diesel_update.is_safe_to_cache_prepared(&diesel::sqlite::Sqlite)?);
        assert!(Counter::all(&after).is_safe_to_cache_prepared(&diesel::sqlite::Sqlite)?);
        assert!(Counter::all(&after).is_safe_to_cache_prepared(&diesel::pg::Pg)?);
        Ok(())
    }

    /// The SQL texts diesel put into its statement cache, and how many queries ran.
    #[derive(Default)]
    struct Seen {
        cached: Vec<String>,
        started: usize,
    }

    struct Recorder(Arc<Mutex<Seen>>);

    impl Instrumentation for Recorder {
        fn on_connection_event(&mut self, event: InstrumentationEvent<'_>) {
            let mut seen = self
                .0
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            match event {
                InstrumentationEvent::CacheQuery { sql, .. } => seen.cached.push(sql.to_owned()),
                InstrumentationEvent::StartQuery { .. } => seen.started += 1,
                _ => {}
            }
        }
    }

    #[test]
    fn each_shape_is_prepared_once_and_writes_what_changed(
    ) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
        let mut sqlite = SqliteConnection::establish(":memory:")?;
        sqlite.run_pending_migrations(crate::db::SQLITE_MIGRATIONS)?;
        let seen = Arc::new(Mutex::new(Seen::default()));
        sqlite.set_instrumentation(Recorder(Arc::clone(&seen)));
        let mut conn = crate::db::DbConnection::Sqlite(sqlite);

        let mut stored = row("1:1");
        diesel::insert_into(dsl::rate_limit_counters)
            .values(&stored)
            .execute_on(&mut conn)?;
        for count in 2..6 {
            let next = row(&format!("1:{count}"));
            Counter::changed(&stored, &next).execute_on(&mut conn)?;
            stored = next;
        }
        let mut later = row("1:5");
        later.expires_at = time::macros::datetime!(2026-12-07 11:00:00);
        Counter::changed(&stored, &later).execute_on(&mut conn)?;

        let read: RateLimitCounterRow = dsl::rate_limit_counters
            .find(&later.bucket)
            .select(crate::db::selection::<RateLimitCounterRow>())
            .first_on(&mut conn)?;
        assert_eq!(
            (read.slots.as_str(), read.expires_at),
            ("1:5", later.expires_at)
        );
        let seen = seen
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let updates: Vec<&String> = seen
            .cached
            .iter()
            .filter(|sql| sql.starts_with("UPDATE"))
            .collect();
        // Four updates of `slots` and one of `expires_at`: two statements prepared.
        assert_eq!(
            updates,
            [
                "UPDATE `rate_limit_counters` SET `slots` = ? WHERE `bucket` = ?",
                "UPDATE `rate_limit_counters` SET `expires_at` = ? WHERE `bucket` = ?",
            ],
            "{:?}",
            seen.cached
        );
        assert_eq!(seen.started, 7);
        Ok(())
    }
}
