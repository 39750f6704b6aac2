//! The admin endpoint (`--admin 127.0.0.1:9901`): usage reports, the keys the gateway knows,
//! and its health, on a loopback-only HTTP listener beside the gateway's own.
//!
//! | request | answer |
//! |---|---|
//! | `GET /health` | `{"status":"ok","store":…,"keysLoaded":…,"keys":N}` |
//! | `GET /keys` | the keys (never their values or digests) |
//! | `GET /usage?from=YYYY-MM-DD&to=YYYY-MM-DD[&key=ID][&plan=P][&format=csv]` | requests per key, plan and day |
//! | `POST /keys/reload` | re-reads the keys now |
//! | `POST /flush` | writes the counters now (SQLite) |
//! | `GET /cache` | `CacheHitCount` / `CacheMissCount` per stage and method |
//! | `POST /cache/flush?stage=NAME` | empties a stage's response cache |
//!
//! It refuses connections from anything but loopback addresses, whatever it is bound to.

use bytes::Bytes;
use http::{Method, StatusCode, header};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use std::convert::Infallible;
use std::sync::Arc;
use tokio::net::TcpListener;

use crate::exchange::Shared;
use crate::store::running::{Attached, lock};
use crate::store::{StoreError, StoreSpec};
use crate::usage::{self, UsageQuery};

type Reply = http::Response<Full<Bytes>>;

/// Serves the admin endpoint on `listener` until `stop` turns true.
pub(crate) async fn serve(
    listener: TcpListener,
    shared: Arc<Shared>,
    store: Attached,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    loop {
        let (stream, remote) = tokio::select! {
            a = listener.accept() => match a {
                Ok(a) => a,
                Err(e) => {
                    tracing::warn!(error = %e, "admin: accept failed");
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = stop.changed() => return,
        };
        if !remote.ip().is_loopback() {
            tracing::warn!(%remote, "admin: refused a connection from a non-loopback address");
            continue;
        }
        let (shared, store) = (shared.clone(), store.clone());
        tokio::spawn(async move {
            let svc = hyper::service::service_fn(move |req: http::Request<Incoming>| {
                let (shared, store) = (shared.clone(), store.clone());
                async move { Ok::<_, Infallible>(route(req, &shared, &store).await) }
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), svc)
                .await;
        });
    }
}

fn reply(status: StatusCode, content_type: &'static str, body: impl Into<Bytes>) -> Reply {
    let mut r = http::Response::new(Full::new(body.into()));
    *r.status_mut() = status;
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        http::HeaderValue::from_static(content_type),
    );
    r
}

fn json(status: StatusCode, v: &serde_json::Value) -> Reply {
    reply(status, "application/json", format!("{v}\n"))
}

fn error(status: StatusCode, message: impl std::fmt::Display) -> Reply {
    json(
        status,
        &serde_json::json!({ "message": message.to_string() }),
    )
}

async fn route(req: http::Request<Incoming>, shared: &Shared, store: &Attached) -> Reply {
    let limits = &shared.limits;
    match (req.method(), req.uri().path()) {
        (&Method::GET, "/health") => {
            let registry = limits.registry();
            json(
                StatusCode::OK,
                &serde_json::json!({
                    "status": "ok",
                    "api": limits.spec.name,
                    "store": store.config.spec.to_string(),
                    "keysLoaded": registry.loaded,
                    "keys": registry.entries().count(),
                }),
            )
        }
        (&Method::GET, "/keys") => {
            let registry = limits.registry();
            let mut keys: Vec<_> = registry.entries().map(|e| &e.key).collect();
            keys.sort_by(|a, b| (a.created_ms, &a.id).cmp(&(b.created_ms, &b.id)));
            let list: Vec<serde_json::Value> = keys
                .into_iter()
                .map(|k| {
                    serde_json::json!({
                        "id": k.id,
                        "name": k.name,
                        "description": k.description,
                        "enabled": k.enabled,
                        "createdDate": tollgate_vtl::calendar::iso_datetime(k.created_ms as i64),
                        "usagePlans": k.plans,
                    })
                })
                .collect();
            json(StatusCode::OK, &serde_json::json!({ "items": list }))
        }
        (&Method::GET, "/usage") => {
            usage_report(req.uri().query().unwrap_or(""), shared, store).await
        }
        (&Method::POST, "/keys/reload") => match store.refresh(limits).await {
            Ok(n) => json(StatusCode::OK, &serde_json::json!({ "keys": n })),
            Err(e) => error(StatusCode::SERVICE_UNAVAILABLE, e),
        },
        (&Method::POST, "/flush") => match store.flush(limits).await {
            Ok(()) => json(StatusCode::OK, &serde_json::json!({ "flushed": true })),
            Err(e) => error(StatusCode::SERVICE_UNAVAILABLE, e),
        },
        (&Method::GET, "/cache") => {
            let spec = limits.spec;
            let mut stages = serde_json::Map::new();
            for (si, stage) in spec.stages.iter().enumerate() {
                let mut methods = serde_json::Map::new();
                for (ri, route) in spec.routes.iter().enumerate() {
                    if !shared.caches.caches(si, ri) {
                        continue;
                    }
                    let s = shared.caches.stats(si, ri);
                    methods.insert(
                        format!("{} {}", route.method, route.resource_path),
                        serde_json::json!({ "CacheHitCount": s.hits(), "CacheMissCount": s.misses() }),
                    );
                }
                if !methods.is_empty() {
                    stages.insert(stage.name.to_owned(), serde_json::Value::Object(methods));
                }
            }
            json(
                StatusCode::OK,
                &serde_json::json!({ "api": spec.name, "stages": stages }),
            )
        }
        (&Method::POST, "/cache/flush") => {
            let query = req.uri().query().unwrap_or("");
            let stage = query
                .split('&')
                .find_map(|p| p.strip_prefix("stage="))
                .map(|s| {
                    percent_encoding::percent_decode_str(s)
                        .decode_utf8_lossy()
                        .into_owned()
                });
            let names: Vec<&str> = limits.spec.stages.iter().map(|s| s.name).collect();
            let Some(index) = stage
                .as_deref()
                .and_then(|s| names.iter().position(|n| *n == s))
            else {
                return error(
                    StatusCode::BAD_REQUEST,
                    format!("say which stage: ?stage=NAME, one of {}", names.join(", ")),
                );
            };
            match shared.caches.flush(index).await {
                Ok(n) => json(
                    StatusCode::OK,
                    &serde_json::json!({ "stage": names[index], "flushed": n }),
                ),
                Err(e) => error(StatusCode::SERVICE_UNAVAILABLE, e),
            }
        }
        (
            _,
            "/health" | "/keys" | "/usage" | "/keys/reload" | "/flush" | "/cache" | "/cache/flush",
        ) => error(StatusCode::METHOD_NOT_ALLOWED, "method not allowed"),
        _ => error(
            StatusCode::NOT_FOUND,
            "not found: GET /health, /keys, /usage, /cache; POST /keys/reload, /flush, /cache/flush",
        ),
    }
}

/// Parses `/usage`'s query string into a query and the format (`json` or `csv`).
pub fn parse_usage_query(query: &str, today: i64) -> Result<(UsageQuery, bool), String> {
    let mut q = UsageQuery {
        from_day: today,
        to_day: today,
        ..Default::default()
    };
    let mut csv = false;
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let v = percent_encoding::percent_decode_str(v)
            .decode_utf8_lossy()
            .into_owned();
        let day = |v: &str| {
            tollgate_vtl::calendar::parse_iso_date(v)
                .ok_or_else(|| format!("`{v}` is not a date: write YYYY-MM-DD"))
        };
        match k {
            "from" => q.from_day = day(&v)?,
            "to" => q.to_day = day(&v)?,
            "key" => q.key_id = Some(v),
            "plan" => q.plan = Some(v),
            "api" => q.api = Some(v),
            "format" if v == "csv" => csv = true,
            "format" if v == "json" => csv = false,
            "format" => return Err(format!("format `{v}`: use json or csv")),
            other => return Err(format!("unknown parameter `{other}`")),
        }
    }
    if q.from_day > q.to_day {
        return Err("`from` is after `to`".to_owned());
    }
    if q.to_day - q.from_day > 366 {
        return Err("ask for at most 366 days at a time".to_owned());
    }
    Ok((q, csv))
}

async fn usage_report(query: &str, shared: &Shared, store: &Attached) -> Reply {
    let limits = &shared.limits;
    let today = (limits.clock.unix_millis() / 86_400_000) as i64;
    let (mut q, csv) = match parse_usage_query(query, today) {
        Ok(x) => x,
        Err(e) => return error(StatusCode::BAD_REQUEST, e),
    };
    // This gateway's usage only (a shared store may hold other APIs').
    q.api = Some(limits.spec.name.to_owned());
    let registry = limits.registry();
    let rows = match &store.config.spec {
        StoreSpec::Memory => {
            let plans: Vec<&str> = limits.spec.usage_plans.iter().map(|p| p.name).collect();
            Ok(usage::from_registry(
                &registry,
                limits.spec.name,
                &plans,
                &q,
            ))
        }
        _ => {
            if let Err(e) = store.flush(limits).await {
                tracing::warn!(error = %e, "admin: could not write counters before the report");
            }
            let keys = store.keys.clone();
            let query = q.clone();
            tokio::task::spawn_blocking(move || lock(&keys).usage(&query))
                .await
                .unwrap_or_else(|e| Err(StoreError::Backend(e.to_string())))
        }
    };
    let mut rows = match rows {
        Ok(r) => r,
        Err(e) => return error(StatusCode::SERVICE_UNAVAILABLE, e),
    };
    let names = |id: &str| {
        registry
            .entries()
            .find(|e| &*e.id == id)
            .map(|e| e.key.name.clone())
    };
    usage::finish(&mut rows, &names);
    if csv {
        reply(
            StatusCode::OK,
            "text/csv; charset=utf-8",
            usage::to_csv(&rows),
        )
    } else {
        reply(
            StatusCode::OK,
            "application/json",
            usage::to_json(&rows, &q),
        )
    }
}
