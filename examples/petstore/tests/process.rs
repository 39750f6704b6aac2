//! The petstore *binary*: it prints where it listens, serves, and on SIGTERM finishes the
//! requests in flight before exiting cleanly.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use tollgate::http::StatusCode;
use tollgate_e2e::{Client, PROTOCOLS, Proto, Upstream};

struct Gateway {
    child: Child,
    addr: SocketAddr,
}

impl Drop for Gateway {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn spawn(args: &[&str]) -> Gateway {
    let mut child = Command::new(env!("CARGO_BIN_EXE_petstore"))
        .args(["--listen", "127.0.0.1:0", "--log", "warn"])
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start the petstore binary");
    let stdout = child.stdout.take().expect("stdout");
    let mut first = String::new();
    BufReader::new(stdout)
        .read_line(&mut first)
        .expect("read the first line");
    let addr = first
        .trim()
        .strip_prefix("listening on http://")
        .unwrap_or_else(|| panic!("unexpected first line {first:?}"))
        .parse()
        .expect("an address");
    Gateway { child, addr }
}

fn sigterm(child: &Child) {
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("run kill");
    assert!(status.success());
}

#[tokio::test]
async fn the_binary_serves_the_petstore() {
    let gw = spawn(&[]);
    let client = Client::new();
    for proto in PROTOCOLS {
        let pets = client
            .get(proto, &format!("http://{}/prod/pets", gw.addr))
            .await;
        assert_eq!(pets.status, StatusCode::OK);
        let nope = client
            .get(proto, &format!("http://{}/prod/nope", gw.addr))
            .await;
        assert_eq!(nope.status, StatusCode::FORBIDDEN);
        assert_eq!(nope.text(), r#"{"message":"Missing Authentication Token"}"#);
    }
}

#[tokio::test]
async fn sigterm_lets_in_flight_requests_finish_then_exits_zero() {
    let up = Upstream::start().await;
    let var = format!("prod.upstream={}", up.url());
    let mut gw = spawn(&["--stage-var", &var]);
    let client = Client::new();
    let mut in_flight = Vec::new();
    for i in 0..12 {
        let proto = if i % 2 == 0 {
            Proto::Http1
        } else {
            Proto::Http2
        };
        let url = format!("http://{}/prod/proxy/job/{i}?sleep_ms=800", gw.addr);
        let client = client.clone();
        in_flight.push(tokio::spawn(async move { client.get(proto, &url).await }));
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    while up.hits() < 12 {
        assert!(
            Instant::now() < deadline,
            "requests never reached the upstream"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    sigterm(&gw.child);
    for r in in_flight {
        let r = r.await.expect("request task");
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    }
    let status = tokio::task::spawn_blocking(move || gw.child.wait())
        .await
        .expect("join")
        .expect("wait");
    assert!(status.success(), "{status}");
}

#[tokio::test]
async fn an_api_key_from_the_keys_file_opens_the_inventory() {
    let dir = tollgate_e2e::TempDir::new("petstore-keys");
    let file = dir.join("keys.json");
    let mut keys = tollgate::store::open(&tollgate::store::StoreSpec::Memory, Some(&file))
        .expect("open the keys file");
    let (_, key) = tollgate_e2e::create_key(keys.as_mut(), "partner", &["partners"], 0);
    let gw = spawn(&["--api-keys", file.to_str().unwrap()]);
    let client = Client::new();
    let url = format!("http://{}/prod/inventory", gw.addr);
    let r = client.get(Proto::Http1, &url).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(r.text(), r#"{"message":"Forbidden"}"#);
    let r = client
        .request(
            Proto::Http2,
            tollgate::http::Method::GET,
            &url,
            &[("x-api-key", &key)],
            Vec::new(),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.text(), r#"{"dogs":2,"cats":1}"#);
    assert!(
        r.header("ratelimit")
            .is_some_and(|h| h.starts_with(r#""key";r=19;t=1, "quota";r=999;"#)),
        "{:?}",
        r.header("ratelimit")
    );
}
