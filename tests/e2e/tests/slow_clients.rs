//! Slow and idle clients (`ServerConfig::header_read_timeout`, enforced by the runtime's
//! connection watchdog): a request head trickled in byte by byte is cut off, an idle keep-alive
//! connection is closed, and neither a slow integration nor a connection without the limit is.
//! Raw TCP, so the test controls every byte and sees the close.

use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tollgate::{ServerConfig, StageVariableOverride};
use tollgate_e2e::apis::rest::RestApi;
use tollgate_e2e::{RestHandlers, Running, Upstream, start};

const TIMEOUT: Duration = Duration::from_millis(400);

async fn gateway(timeout: Option<Duration>, up: &Upstream) -> Running {
    let config = ServerConfig::default()
        .header_read_timeout(timeout)
        .stage_variable(StageVariableOverride {
            stage: None,
            name: "upstream".into(),
            value: up.url(),
        });
    start(RestApi::new(RestHandlers), config).await
}

/// Reads until the server closes the connection (or resets it); the bytes read.
async fn read_to_close(stream: &mut TcpStream, within: Duration) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    let deadline = tokio::time::Instant::now() + within;
    loop {
        match tokio::time::timeout_at(deadline, stream.read(&mut buf)).await {
            Err(_) => return None,
            Ok(Ok(0) | Err(_)) => return Some(out),
            Ok(Ok(n)) => out.extend_from_slice(&buf[..n]),
        }
    }
}

/// One keep-alive request on `stream`; the response head and body as text.
async fn exchange(stream: &mut TcpStream, path: &str) -> String {
    let req = format!("GET {path} HTTP/1.1\r\nhost: localhost\r\n\r\n");
    stream.write_all(req.as_bytes()).await.expect("write");
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let n = stream.read(&mut buf).await.expect("read");
        assert!(
            n > 0,
            "closed mid-answer: {}",
            String::from_utf8_lossy(&out)
        );
        out.extend_from_slice(&buf[..n]);
        let text = String::from_utf8_lossy(&out);
        if let Some(head_end) = text.find("\r\n\r\n") {
            let len: usize = text[..head_end]
                .lines()
                .find_map(|l| {
                    let (k, v) = l.split_once(':')?;
                    k.eq_ignore_ascii_case("content-length")
                        .then(|| v.trim().parse().ok())
                        .flatten()
                })
                .expect("a content-length");
            if out.len() >= head_end + 4 + len {
                return text.into_owned();
            }
        }
    }
}

#[tokio::test]
async fn a_request_head_trickled_byte_by_byte_is_cut_off() {
    let up = Upstream::start().await;
    let gw = gateway(Some(TIMEOUT), &up).await;
    let mut stream = TcpStream::connect(gw.addr).await.expect("connect");
    let started = Instant::now();
    let head = b"GET /test/users/u/repos/r HTTP/1.1\r\nhost: localhost\r\nx-slow: ";
    let mut closed = false;
    // A byte every 50 ms: the head would take longer than ten timeouts to arrive.
    for byte in head.iter().chain(std::iter::repeat_n(&b'a', 200)) {
        if stream.write_all(&[*byte]).await.is_err() {
            closed = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
        if started.elapsed() > TIMEOUT * 10 {
            break;
        }
    }
    if !closed {
        closed = read_to_close(&mut stream, TIMEOUT * 4).await.is_some();
    }
    assert!(
        closed,
        "a slow-loris head was still accepted after {:?}",
        started.elapsed()
    );
    assert!(
        started.elapsed() >= TIMEOUT,
        "closed before the timeout: {:?}",
        started.elapsed()
    );
    assert_eq!(
        up.hits(),
        0,
        "the trickled request never reached the upstream"
    );
}

#[tokio::test]
async fn an_idle_keep_alive_connection_is_closed_but_a_slow_integration_is_not() {
    let up = Upstream::start().await;
    let gw = gateway(Some(TIMEOUT), &up).await;
    let mut stream = TcpStream::connect(gw.addr).await.expect("connect");
    // The integration takes three timeouts to answer: the request is in progress, not idle.
    let slow = exchange(&mut stream, "/test/users/u/repos/r?sleep_ms=1200").await;
    assert!(slow.starts_with("HTTP/1.1 200"), "{slow}");
    // The same connection serves another request, then sits idle and is closed.
    let again = exchange(&mut stream, "/test/users/u/repos/r").await;
    assert!(again.starts_with("HTTP/1.1 200"), "{again}");
    let idle_from = Instant::now();
    let rest = read_to_close(&mut stream, TIMEOUT * 8).await;
    assert_eq!(
        rest.as_deref(),
        Some(&b""[..]),
        "an idle connection is closed quietly"
    );
    assert!(idle_from.elapsed() >= TIMEOUT, "{:?}", idle_from.elapsed());
    // A connection that never sends a byte is closed too.
    let mut silent = TcpStream::connect(gw.addr).await.expect("connect");
    assert!(read_to_close(&mut silent, TIMEOUT * 8).await.is_some());
}

#[tokio::test]
async fn without_the_limit_an_idle_connection_stays_open() {
    let up = Upstream::start().await;
    let gw = gateway(None, &up).await;
    let mut stream = TcpStream::connect(gw.addr).await.expect("connect");
    let first = exchange(&mut stream, "/test/users/u/repos/r").await;
    assert!(first.starts_with("HTTP/1.1 200"), "{first}");
    assert_eq!(
        read_to_close(&mut stream, TIMEOUT * 4).await,
        None,
        "still open"
    );
    let second = exchange(&mut stream, "/test/users/u/repos/r").await;
    assert!(second.starts_with("HTTP/1.1 200"), "{second}");
}
