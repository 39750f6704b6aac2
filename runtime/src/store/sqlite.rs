//! The SQLite store (`--store sqlite:PATH`): keys, quota counters and usage in one database
//! file, so they survive restarts.
//!
//! Decisions stay in the gateway's memory (a few atomic operations, as with the memory store);
//! what the counters gained is written every flush interval (`--flush-interval`, 1 s by
//! default) and at shutdown. A crash (not a shutdown) loses at most one interval of counts. One
//! gateway process per file: two would each enforce the quota on their own (use Redis for many
//! instances). Several APIs may share one file; rows carry the API's name.

use std::path::Path;

use rusqlite::{Connection, OptionalExtension, params};

use super::{CounterDelta, Counters, KeyStore, StoreError};
use crate::keys::{ApiKey, Digest};
use crate::usage::{UsageQuery, UsageRow};

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS api_keys (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    digest TEXT NOT NULL UNIQUE,
    enabled INTEGER NOT NULL,
    created_ms INTEGER NOT NULL,
    plans TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS quota (
    api TEXT NOT NULL, plan TEXT NOT NULL, key_id TEXT NOT NULL, period INTEGER NOT NULL,
    used INTEGER NOT NULL,
    PRIMARY KEY (api, plan, key_id, period)
);
CREATE TABLE IF NOT EXISTS usage (
    api TEXT NOT NULL, plan TEXT NOT NULL, key_id TEXT NOT NULL, day INTEGER NOT NULL,
    requests INTEGER NOT NULL,
    PRIMARY KEY (api, plan, key_id, day)
);
";

fn backend(e: rusqlite::Error) -> StoreError {
    StoreError::Backend(format!("sqlite: {e}"))
}

/// A SQLite database of keys and counters.
#[derive(Debug)]
pub struct SqliteStore {
    conn: Connection,
}

impl SqliteStore {
    /// Opens (and creates) the database at `path`.
    pub fn open(path: &Path) -> Result<SqliteStore, StoreError> {
        let conn = Connection::open(path)
            .map_err(|e| StoreError::Backend(format!("cannot open {}: {e}", path.display())))?;
        conn.busy_timeout(std::time::Duration::from_secs(5))
            .map_err(backend)?;
        // WAL: the CLI can read and write while a gateway flushes.
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(backend)?;
        conn.pragma_update(None, "synchronous", "NORMAL")
            .map_err(backend)?;
        conn.execute_batch(SCHEMA).map_err(backend)?;
        Ok(SqliteStore { conn })
    }
}

impl KeyStore for SqliteStore {
    fn version(&mut self) -> Result<String, StoreError> {
        let v: Option<i64> = self
            .conn
            .query_row("SELECT v FROM meta WHERE k = 'keys_version'", [], |r| {
                r.get(0)
            })
            .optional()
            .map_err(backend)?;
        Ok(v.unwrap_or(0).to_string())
    }

    fn keys(&mut self) -> Result<Vec<ApiKey>, StoreError> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT id, name, description, digest, enabled, created_ms, plans \
                 FROM api_keys ORDER BY created_ms, rowid",
            )
            .map_err(backend)?;
        let rows = stmt
            .query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, bool>(4)?,
                    r.get::<_, i64>(5)?,
                    r.get::<_, String>(6)?,
                ))
            })
            .map_err(backend)?;
        let mut out = Vec::new();
        for row in rows {
            let (id, name, description, digest, enabled, created_ms, plans) =
                row.map_err(backend)?;
            let digest = Digest::from_hex(&digest)
                .ok_or_else(|| StoreError::Corrupt(format!("key `{id}` has a malformed digest")))?;
            out.push(ApiKey {
                id,
                name,
                description,
                digest,
                enabled,
                created_ms: created_ms.max(0) as u64,
                plans: plans
                    .split(',')
                    .filter(|p| !p.is_empty())
                    .map(str::to_owned)
                    .collect(),
            });
        }
        Ok(out)
    }

    fn put(&mut self, keys: &[ApiKey]) -> Result<(), StoreError> {
        let tx = self.conn.transaction().map_err(backend)?;
        for k in keys {
            tx.execute(
                "INSERT INTO api_keys (id, name, description, digest, enabled, created_ms, plans) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) \
                 ON CONFLICT(id) DO UPDATE SET name = excluded.name, \
                 description = excluded.description, digest = excluded.digest, \
                 enabled = excluded.enabled, created_ms = excluded.created_ms, \
                 plans = excluded.plans",
                params![
                    k.id,
                    k.name,
                    k.description,
                    k.digest.to_hex(),
                    k.enabled,
                    k.created_ms as i64,
                    k.plans.join(","),
                ],
            )
            .map_err(|e| match e {
                rusqlite::Error::SqliteFailure(f, _)
                    if f.code == rusqlite::ErrorCode::ConstraintViolation =>
                {
                    StoreError::Invalid("a key with this value exists already".to_owned())
                }
                e => backend(e),
            })?;
        }
        bump(&tx)?;
        tx.commit().map_err(backend)
    }

    fn delete(&mut self, id: &str) -> Result<bool, StoreError> {
        let tx = self.conn.transaction().map_err(backend)?;
        let n = tx
            .execute("DELETE FROM api_keys WHERE id = ?1", [id])
            .map_err(backend)?;
        bump(&tx)?;
        tx.commit().map_err(backend)?;
        Ok(n > 0)
    }

    fn usage(&mut self, q: &UsageQuery) -> Result<Vec<UsageRow>, StoreError> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT u.api, u.plan, u.key_id, COALESCE(k.name, ''), u.day, u.requests \
                 FROM usage u LEFT JOIN api_keys k ON k.id = u.key_id \
                 WHERE u.day BETWEEN ?1 AND ?2 AND u.requests > 0",
            )
            .map_err(backend)?;
        let rows = stmt
            .query_map(params![q.from_day, q.to_day], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, i64>(4)?,
                    r.get::<_, i64>(5)?,
                ))
            })
            .map_err(backend)?;
        let mut out = Vec::new();
        for row in rows {
            let (api, plan, key_id, key_name, day, requests) = row.map_err(backend)?;
            if q.wants(&api, &plan, &key_id, day) {
                out.push(UsageRow {
                    api,
                    usage_plan: plan,
                    key_id,
                    key_name,
                    date: tollgate_vtl::calendar::iso_date(day),
                    requests: requests.max(0) as u64,
                });
            }
        }
        Ok(out)
    }

    fn load_counters(
        &mut self,
        api: &str,
        quota_periods: &[(String, u32)],
        day: u32,
    ) -> Result<(Counters, Counters), StoreError> {
        let mut quota = Counters::new();
        for (plan, period) in quota_periods {
            let mut stmt = self
                .conn
                .prepare(
                    "SELECT key_id, used FROM quota WHERE api = ?1 AND plan = ?2 AND period = ?3",
                )
                .map_err(backend)?;
            let rows = stmt
                .query_map(params![api, plan, period], |r| {
                    Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?))
                })
                .map_err(backend)?;
            for row in rows {
                let (key, used) = row.map_err(backend)?;
                quota.insert((plan.clone(), key), (*period, clamp(used)));
            }
        }
        let mut usage = Counters::new();
        let mut stmt = self
            .conn
            .prepare("SELECT plan, key_id, requests FROM usage WHERE api = ?1 AND day = ?2")
            .map_err(backend)?;
        let rows = stmt
            .query_map(params![api, day], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, i64>(2)?,
                ))
            })
            .map_err(backend)?;
        for row in rows {
            let (plan, key, n) = row.map_err(backend)?;
            usage.insert((plan, key), (day, clamp(n)));
        }
        Ok((quota, usage))
    }

    fn save_counters(
        &mut self,
        quota: &[CounterDelta],
        usage: &[CounterDelta],
    ) -> Result<(), StoreError> {
        let tx = self.conn.transaction().map_err(backend)?;
        for (table, column, key, rows) in [
            ("quota", "used", "period", quota),
            ("usage", "requests", "day", usage),
        ] {
            let sql = format!(
                "INSERT INTO {table} (api, plan, key_id, {key}, {column}) VALUES (?1, ?2, ?3, ?4, ?5) \
                 ON CONFLICT(api, plan, key_id, {key}) DO UPDATE SET {column} = {column} + excluded.{column}"
            );
            let mut stmt = tx.prepare_cached(&sql).map_err(backend)?;
            for d in rows {
                stmt.execute(params![d.api, d.plan, d.key_id, d.period, d.delta])
                    .map_err(backend)?;
            }
        }
        tx.commit().map_err(backend)
    }
}

fn clamp(n: i64) -> u32 {
    n.clamp(0, i64::from(u32::MAX)) as u32
}

/// Marks a change of the keys, in the same transaction.
fn bump(tx: &rusqlite::Transaction<'_>) -> Result<(), StoreError> {
    tx.execute(
        "INSERT INTO meta (k, v) VALUES ('keys_version', 1) \
         ON CONFLICT(k) DO UPDATE SET v = v + 1",
        [],
    )
    .map_err(backend)
    .map(drop)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_counters_and_usage_persist() {
        let dir = std::env::temp_dir().join(format!("tollgate-sqlite-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("t.db");
        let _ = std::fs::remove_file(&path);
        let mut s = SqliteStore::open(&path).unwrap();
        assert_eq!(s.version().unwrap(), "0");
        let key = ApiKey {
            id: "k1".into(),
            name: "alice".into(),
            description: "d".into(),
            digest: Digest::of("a-value-of-twenty-chars"),
            enabled: true,
            created_ms: 7,
            plans: vec!["basic".into(), "gold".into()],
        };
        s.put(std::slice::from_ref(&key)).unwrap();
        assert_eq!(s.version().unwrap(), "1");
        assert_eq!(s.keys().unwrap(), vec![key.clone()]);
        let mut dup = key.clone();
        dup.id = "k2".into();
        assert!(matches!(s.put(&[dup]), Err(StoreError::Invalid(_))));
        let d = |period, delta| CounterDelta {
            api: "shop".into(),
            plan: "basic".into(),
            key_id: "k1".into(),
            period,
            delta,
        };
        s.save_counters(&[d(3, 5)], &[d(20_000, 5)]).unwrap();
        s.save_counters(&[d(3, 2)], &[d(20_000, 2), d(20_001, 1)])
            .unwrap();
        drop(s);
        let mut s = SqliteStore::open(&path).unwrap();
        let (quota, usage) = s
            .load_counters("shop", &[("basic".into(), 3)], 20_000)
            .unwrap();
        assert_eq!(quota[&("basic".into(), "k1".into())], (3, 7));
        assert_eq!(usage[&("basic".into(), "k1".into())], (20_000, 7));
        let rows = s
            .usage(&UsageQuery {
                from_day: 20_000,
                to_day: 20_001,
                ..Default::default()
            })
            .unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].key_name, "alice");
        assert!(s.delete("k1").unwrap());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
