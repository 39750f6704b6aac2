//! Usage metering: requests per API key, usage plan and day (UTC), as `tollgate usage` and the
//! admin endpoint report them, in JSON or CSV.
//!
//! A request counts when a method that requires a key admitted it (it passed the key's and the
//! method's limits); refused requests do not count, as they do not count against a quota.

use serde::Serialize;
use tollgate_vtl::calendar::iso_date;

use crate::limits::Registry;

/// Which usage to report: days `from..=to` (days since 1970-01-01), optionally one API, key
/// or plan.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UsageQuery {
    /// Only this API.
    pub api: Option<String>,
    /// Only this key id.
    pub key_id: Option<String>,
    /// Only this usage plan.
    pub plan: Option<String>,
    /// The first day.
    pub from_day: i64,
    /// The last day (inclusive).
    pub to_day: i64,
}

impl UsageQuery {
    /// Whether a row of `(api, plan, key, day)` is asked for.
    pub fn wants(&self, api: &str, plan: &str, key_id: &str, day: i64) -> bool {
        self.api.as_deref().is_none_or(|a| a == api)
            && self.plan.as_deref().is_none_or(|p| p == plan)
            && self.key_id.as_deref().is_none_or(|k| k == key_id)
            && (self.from_day..=self.to_day).contains(&day)
    }
}

/// Requests of one key in one plan on one day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UsageRow {
    /// The API's name.
    pub api: String,
    /// The usage plan.
    pub usage_plan: String,
    /// The key id.
    pub key_id: String,
    /// The key's name (empty when the key no longer exists).
    pub key_name: String,
    /// The day, `YYYY-MM-DD`.
    pub date: String,
    /// Admitted requests.
    pub requests: u64,
}

/// Sorts rows by API, plan, key and date, and fills in key names from `names`.
pub fn finish(rows: &mut [UsageRow], names: &dyn Fn(&str) -> Option<String>) {
    for r in rows.iter_mut() {
        if r.key_name.is_empty()
            && let Some(n) = names(&r.key_id)
        {
            r.key_name = n;
        }
    }
    rows.sort_by(|a, b| {
        (&a.api, &a.usage_plan, &a.key_id, &a.date).cmp(&(
            &b.api,
            &b.usage_plan,
            &b.key_id,
            &b.date,
        ))
    });
}

/// The report as JSON: `{"from": …, "to": …, "items": [rows]}`.
pub fn to_json(rows: &[UsageRow], query: &UsageQuery) -> String {
    let v = serde_json::json!({
        "from": iso_date(query.from_day),
        "to": iso_date(query.to_day),
        "items": rows,
    });
    serde_json::to_string_pretty(&v).unwrap_or_default() + "\n"
}

/// The report as CSV with a header row.
pub fn to_csv(rows: &[UsageRow]) -> String {
    let mut out = String::from("api,usage_plan,key_id,key_name,date,requests\n");
    for r in rows {
        out.push_str(&format!(
            "{},{},{},{},{},{}\n",
            csv_field(&r.api),
            csv_field(&r.usage_plan),
            csv_field(&r.key_id),
            csv_field(&r.key_name),
            r.date,
            r.requests
        ));
    }
    out
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_owned()
    }
}

/// The usage a gateway holds in memory (the memory store).
pub(crate) fn from_registry(
    registry: &Registry,
    api: &str,
    plans: &[&str],
    query: &UsageQuery,
) -> Vec<UsageRow> {
    let mut rows = Vec::new();
    for entry in registry.entries() {
        for kp in entry.plans.iter() {
            let plan = plans.get(kp.plan).copied().unwrap_or("");
            let current = kp.usage.current();
            for (day, count) in kp.usage.closed(false).into_iter().chain([current]) {
                if count > 0 && query.wants(api, plan, &entry.id, i64::from(day)) {
                    rows.push(UsageRow {
                        api: api.to_owned(),
                        usage_plan: plan.to_owned(),
                        key_id: entry.id.to_string(),
                        key_name: entry.key.name.clone(),
                        date: iso_date(i64::from(day)),
                        requests: u64::from(count),
                    });
                }
            }
        }
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_quotes_what_needs_quoting() {
        let rows = vec![UsageRow {
            api: "shop".into(),
            usage_plan: "basic".into(),
            key_id: "k1".into(),
            key_name: "Smith, \"J\"".into(),
            date: "2026-11-28".into(),
            requests: 7,
        }];
        assert_eq!(
            to_csv(&rows),
            "api,usage_plan,key_id,key_name,date,requests\n\
             shop,basic,k1,\"Smith, \"\"J\"\"\",2026-11-28,7\n"
        );
    }
}
