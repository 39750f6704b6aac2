//! `tollgate keys …` and `tollgate usage …`, run as processes against a keys file, a SQLite
//! store and a stand-in admin endpoint.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use tollgate::store::{self, CounterDelta, StoreSpec};

fn tollgate(args: &[&str]) -> Output {
    tollgate_in(args, None)
}

fn tollgate_in(args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_tollgate"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove("TOLLGATE_STORE")
        .env_remove("TOLLGATE_API_KEYS")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run tollgate");
    if let Some(text) = stdin {
        child
            .stdin
            .take()
            .unwrap()
            .write_all(text.as_bytes())
            .unwrap();
    }
    drop(child.stdin.take());
    child.wait_with_output().expect("wait for tollgate")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn tmp(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("keys-cli");
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join(name);
    let _ = std::fs::remove_file(&p);
    p
}

const API: &str = "dsl/tests/fixtures/ok/usage-plans.kdl";

#[test]
fn keys_are_created_listed_disabled_and_deleted_in_a_keys_file() {
    let file = tmp("lifecycle.json");
    let f = file.to_str().unwrap();
    let out = tollgate(&[
        "keys",
        "create",
        "--name",
        "alice",
        "--plan",
        "basic",
        "--api",
        API,
        "--api-keys",
        f,
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    let id = stdout
        .strip_prefix("created API key ")
        .and_then(|s| s.split_whitespace().next())
        .unwrap_or_else(|| panic!("{stdout}"))
        .to_owned();
    let value = stdout
        .lines()
        .find_map(|l| l.strip_prefix("value: "))
        .unwrap_or_else(|| panic!("{stdout}"))
        .to_owned();
    assert_eq!(value.len(), 40);
    assert!(text(&out.stderr).contains("shown only now"));
    // Only the digest is stored.
    let on_disk = std::fs::read_to_string(&file).unwrap();
    assert!(!on_disk.contains(&value) && on_disk.contains(&id));

    let out = tollgate(&["keys", "list", "--api-keys", f]);
    let list = text(&out.stdout);
    assert!(
        list.lines().any(|l| l.starts_with(&id)
            && l.contains("enabled")
            && l.contains("basic")
            && l.ends_with("alice")),
        "{list}"
    );
    assert!(!list.contains(&value));

    assert!(
        tollgate(&["keys", "disable", &id, "--api-keys", f])
            .status
            .success()
    );
    let out = tollgate(&["keys", "list", "--format", "json", "--api-keys", f]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["items"][0]["enabled"], false);
    assert_eq!(json["items"][0]["usagePlans"], serde_json::json!(["basic"]));
    assert!(
        tollgate(&["keys", "enable", &id, "--api-keys", f])
            .status
            .success()
    );
    let out = tollgate(&[
        "keys",
        "set-plans",
        &id,
        "gold",
        "--api",
        API,
        "--api-keys",
        f,
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("usage plans: gold"));
    assert!(
        tollgate(&["keys", "delete", &id, "--api-keys", f])
            .status
            .success()
    );
    let out = tollgate(&["keys", "delete", &id, "--api-keys", f]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains(&format!("no API key `{id}`")));
}

#[test]
fn keys_commands_explain_what_is_wrong() {
    let file = tmp("errors.json");
    let f = file.to_str().unwrap();
    let out = tollgate(&["keys", "list"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("say where the keys are"),
        "{}",
        text(&out.stderr)
    );
    let out = tollgate(&[
        "keys",
        "create",
        "--name",
        "x",
        "--plan",
        "silver",
        "--api",
        API,
        "--api-keys",
        f,
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr)
            .contains("API `shop` has no usage plan `silver`; its plans are: basic, gold")
    );
    // basic and gold are both bound to stage prod: one plan per stage per key.
    let out = tollgate(&[
        "keys",
        "create",
        "--name",
        "x",
        "--plan",
        "basic",
        "--plan",
        "gold",
        "--api",
        API,
        "--api-keys",
        f,
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("both bound to stage `prod`"),
        "{}",
        text(&out.stderr)
    );
    let out = tollgate(&[
        "keys",
        "create",
        "--name",
        "x",
        "--value",
        "too-short",
        "--api-keys",
        f,
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("API Key value should be at least 20 characters"));
    let out = tollgate(&["keys", "list", "--store", "postgres://db"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("is not a store"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn keys_import_reads_api_gateways_csv_all_or_nothing() {
    let db = tmp("import.db");
    let s = format!("sqlite:{}", db.display());
    let csv = "Enabled,Name,key,UsageplanIds,Description\n\
               true,MyFirstApiKey,apikey1234abcdefghij0123456789,basic,An imported key\n\
               FALSE,Second,apikey1234abcdefghij0123456780,'gold',\n";
    let out = tollgate_in(
        &["keys", "import", "-", "--api", API, "--store", &s],
        Some(csv),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout),
        "imported 2 key(s): 2 created, 0 updated\n"
    );
    // The same values again: API Gateway overwrites (ids stay).
    let before = store::open(&StoreSpec::Sqlite(db.clone()), None)
        .unwrap()
        .keys()
        .unwrap();
    let out = tollgate_in(
        &["keys", "import", "-", "--store", &s],
        Some(&csv.replace("MyFirstApiKey", "Renamed")),
    );
    assert_eq!(
        text(&out.stdout),
        "imported 2 key(s): 0 created, 2 updated\n"
    );
    let after = store::open(&StoreSpec::Sqlite(db.clone()), None)
        .unwrap()
        .keys()
        .unwrap();
    assert_eq!(
        before.iter().map(|k| &k.id).collect::<Vec<_>>(),
        after.iter().map(|k| &k.id).collect::<Vec<_>>()
    );
    assert_eq!(after[0].name, "Renamed");
    assert!(!after[1].enabled);
    // One bad line: nothing is imported, every problem is named.
    let bad = "Name,Key,Enabled\nok,apikey1234abcdefghij0123456781,true\nshort,abc,true\nodd,apikey1234abcdefghij0123456782,perhaps\n";
    let csv_file = tmp("bad.csv");
    std::fs::write(&csv_file, bad).unwrap();
    let out = tollgate(&["keys", "import", csv_file.to_str().unwrap(), "--store", &s]);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(
        err.contains("has 2 problem(s); nothing was imported"),
        "{err}"
    );
    assert!(
        err.contains("bad.csv:3: API Key value should be at least 20 characters"),
        "{err}"
    );
    assert!(
        err.contains("bad.csv:4: Enabled is `perhaps`; write TRUE or FALSE"),
        "{err}"
    );
    assert_eq!(
        store::open(&StoreSpec::Sqlite(db), None)
            .unwrap()
            .keys()
            .unwrap()
            .len(),
        2
    );
}

#[test]
fn usage_reports_a_sqlite_store_as_json_and_csv() {
    let db = tmp("usage.db");
    let mut st = store::open(&StoreSpec::Sqlite(db.clone()), None).unwrap();
    let (key, _) = store::create_key(
        st.as_mut(),
        store::NewKey {
            name: "alice".into(),
            enabled: true,
            plans: vec!["basic".into()],
            ..Default::default()
        },
        0,
    )
    .unwrap();
    let day = |d: &str| tollgate_vtl::calendar::parse_iso_date(d).unwrap() as u32;
    let row = |period, delta| CounterDelta {
        api: "shop".into(),
        plan: "basic".into(),
        key_id: key.id.clone(),
        period,
        delta,
    };
    st.save_counters(
        &[],
        &[
            row(day("2026-11-27"), 12),
            row(day("2026-11-28"), 3),
            row(day("2026-12-01"), 9),
        ],
    )
    .unwrap();
    let s = format!("sqlite:{}", db.display());
    let out = tollgate(&[
        "usage",
        "--store",
        &s,
        "--from",
        "2026-11-27",
        "--to",
        "2026-11-30",
        "--format",
        "csv",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout),
        format!(
            "api,usage_plan,key_id,key_name,date,requests\n\
             shop,basic,{id},alice,2026-11-27,12\n\
             shop,basic,{id},alice,2026-11-28,3\n",
            id = key.id
        )
    );
    let out = tollgate(&[
        "usage",
        "--store",
        &s,
        "--from",
        "2026-11-28",
        "--key",
        &key.id,
    ]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["from"], "2026-11-28");
    assert_eq!(json["to"], "2026-11-28");
    assert_eq!(json["items"][0]["requests"], 3);
    assert_eq!(json["items"][0]["keyName"], "alice");
    let out = tollgate(&["usage", "--store", &s, "--from", "2026-02-30"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("`2026-02-30` is not a date"));
    let out = tollgate(&["usage", "--api-keys", "x.json", "--from", "2026-11-28"]);
    assert!(
        text(&out.stderr).contains("ask its admin endpoint"),
        "{}",
        text(&out.stderr)
    );
}

/// `tollgate usage --admin URL` asks a running gateway's admin endpoint and prints its answer.
#[test]
fn usage_asks_a_running_gateways_admin_endpoint() {
    use http_body_util::Full;
    let rt = tokio::runtime::Runtime::new().unwrap();
    let listener = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let addr = listener.local_addr().unwrap();
    let seen = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    let seen2 = seen.clone();
    rt.spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let seen = seen2.clone();
            tokio::spawn(async move {
                let svc =
                    hyper::service::service_fn(move |req: http::Request<hyper::body::Incoming>| {
                        let seen = seen.clone();
                        async move {
                            *seen.lock().unwrap() = req.uri().to_string();
                            Ok::<_, std::convert::Infallible>(http::Response::new(Full::new(
                                bytes::Bytes::from_static(
                                    b"api,usage_plan,key_id,key_name,date,requests\n",
                                ),
                            )))
                        }
                    });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(hyper_util::rt::TokioIo::new(stream), svc)
                    .await;
            });
        }
    });
    let admin = format!("http://{addr}");
    let out = tollgate(&["cache", "flush", "--stage", "prod", "--admin", &admin]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(*seen.lock().unwrap(), "/cache/flush?stage=prod");
    let out = tollgate(&["cache", "flush", "--stage", "prod"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("say which cache"),
        "{}",
        text(&out.stderr)
    );
    let out = tollgate(&[
        "usage",
        "--admin",
        &admin,
        "--from",
        "2026-11-01",
        "--to",
        "2026-11-28",
        "--key",
        "k 1",
        "--format",
        "csv",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout),
        "api,usage_plan,key_id,key_name,date,requests\n"
    );
    assert_eq!(
        *seen.lock().unwrap(),
        "/usage?from=2026-11-01&to=2026-11-28&format=csv&key=k%201"
    );
    let out = tollgate(&[
        "usage",
        "--admin",
        "http://127.0.0.1:9",
        "--from",
        "2026-11-01",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("cannot reach the admin endpoint"),
        "{}",
        text(&out.stderr)
    );
}
