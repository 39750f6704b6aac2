//! The reference for tollgate's load tests: a bare hyper server with the same connection setup
//! as tollgate's (hyper-util auto builder: HTTP/1.1 + h2c, multi-thread tokio, `TCP_NODELAY`)
//! answering every request with the petstore's `/status` body. No routing, no request ids:
//! the floor a gateway's cost is measured against.
//!
//! With `--gateway-headers` it also sends the headers a tollgate cache hit carries (request id,
//! extended id, cache status; the same byte count), so a load test can tell what the answer's
//! bytes cost from what the gateway's work costs.
//!
//! Run with: `cargo run --release -p tollgate-bench --bin bare-hyper -- 127.0.0.1:8090`

use bytes::Bytes;
use http_body_util::Full;
use hyper_util::rt::{TokioExecutor, TokioIo};
use std::convert::Infallible;

const BODY: &[u8] = br#"{"status":"ok"}"#;

/// What a tollgate cache hit adds to the answer, value lengths included.
const GATEWAY_HEADERS: &[(&str, &str)] = &[
    ("x-tollgate-cache", "hit"),
    ("x-amzn-requestid", "2a80905e-1881-423c-ac5f-c55b7c4ac8e8"),
    ("x-amz-apigw-id", "jXxeCCijPC9vPHc="),
];

fn main() -> std::io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:8090".to_owned());
    let gateway_headers = std::env::args().any(|a| a == "--gateway-headers");
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(async move {
            let listener = tokio::net::TcpListener::bind(&addr).await?;
            println!("listening on http://{}", listener.local_addr()?);
            let builder = std::sync::Arc::new(hyper_util::server::conn::auto::Builder::new(
                TokioExecutor::new(),
            ));
            loop {
                let (stream, _) = listener.accept().await?;
                let _ = stream.set_nodelay(true);
                let builder = builder.clone();
                tokio::spawn(async move {
                    let svc = hyper::service::service_fn(move |_req| async move {
                        let mut r = http::Response::new(Full::new(Bytes::from_static(BODY)));
                        r.headers_mut().insert(
                            http::header::CONTENT_TYPE,
                            http::HeaderValue::from_static("application/json"),
                        );
                        if gateway_headers {
                            for (name, value) in GATEWAY_HEADERS {
                                r.headers_mut()
                                    .insert(*name, http::HeaderValue::from_static(value));
                            }
                        }
                        Ok::<_, Infallible>(r)
                    });
                    let _ = builder.serve_connection(TokioIo::new(stream), svc).await;
                });
            }
        })
}
