//! One admission decision as the gateway makes it (issue #4): the in-memory store's keyed
//! decision — hash the `x-api-key`, find the key, its plan's bucket, its quota, the method's
//! bucket, usage metering — against an open route's; and the same decision in Redis (one script
//! call: latency alone, and throughput with 64 in flight), when `redis-server` is installed.
//!
//! Run with: `cargo bench -p tollgate-bench --bench limits`

use criterion::{Criterion, criterion_group, criterion_main};
use std::future::Future;
use std::hint::black_box;
use std::pin::pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};
use tollgate::__codegen::Gateway;
use tollgate_runtime::clock::Clock;
use tollgate_runtime::limits::Limits;
use tollgate_runtime::store::{self, StoreConfig, StoreSpec};

mod api {
    tollgate::include_api!("bench");
}

type Spec = api::BenchApi<()>;

const VALUE: &str = "bench-key-value-0123456789abcdefghij";

/// Polls a future that completes without waiting (every in-memory decision) once.
fn now<T>(f: impl Future<Output = T>) -> T {
    match pin!(f).poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(v) => v,
        Poll::Pending => panic!("an in-memory decision waited"),
    }
}

fn key(store: &mut dyn store::KeyStore) {
    store::create_key(
        store,
        store::NewKey {
            name: "bench".into(),
            value: Some(VALUE.into()),
            enabled: true,
            plans: vec!["load".into()],
            ..Default::default()
        },
        0,
    )
    .expect("create the bench key");
}

fn route(path: &str) -> usize {
    Spec::SPEC
        .routes
        .iter()
        .position(|r| r.resource_path == path)
        .expect("a route of bench.kdl")
}

/// A `redis-server` on a free port, killed on drop.
struct Redis(std::process::Child, u16, std::path::PathBuf);

impl Redis {
    fn start() -> Option<Redis> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .ok()?
            .local_addr()
            .ok()?
            .port();
        let dir = std::env::temp_dir().join(format!("tollgate-bench-redis-{port}"));
        std::fs::create_dir_all(&dir).ok()?;
        let child = std::process::Command::new("redis-server")
            .args([
                "--port",
                &port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .arg("--dir")
            .arg(&dir)
            .stdout(std::process::Stdio::null())
            .spawn()
            .ok()?;
        let deadline = Instant::now() + Duration::from_secs(5);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            if Instant::now() > deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Some(Redis(child, port, dir))
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
        let _ = std::fs::remove_dir_all(&self.2);
    }
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime");
    let mut headers = http::HeaderMap::new();
    headers.insert("x-api-key", http::HeaderValue::from_static(VALUE));
    let (open, keyed) = (route("/open"), route("/keyed"));

    let dir = std::env::temp_dir().join(format!("tollgate-bench-keys-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a temp dir");
    let file = dir.join("keys.json");
    let _ = std::fs::remove_file(&file);
    key(store::open(&StoreSpec::Memory, Some(&file))
        .expect("keys file")
        .as_mut());
    let config = StoreConfig {
        api_keys_file: Some(file),
        ..Default::default()
    };
    let memory = rt
        .block_on(Limits::open(Spec::SPEC, &config, Clock::system()))
        .expect("memory limits");

    let mut g = c.benchmark_group("limits");
    g.bench_function("memory/open-route", |b| {
        b.iter(|| black_box(now(memory.admit(0, open, None))))
    });
    g.bench_function("memory/authenticate", |b| {
        b.iter(|| black_box(memory.authenticate(black_box(&headers), None, 0).is_ok()))
    });
    g.bench_function("memory/keyed-decision", |b| {
        b.iter(|| {
            let k = memory
                .authenticate(black_box(&headers), None, 0)
                .expect("the key");
            black_box(now(memory.admit(0, keyed, Some(&k))))
        })
    });

    match Redis::start() {
        None => eprintln!("SKIPPED the Redis decisions: redis-server is not installed"),
        Some(redis) => {
            let url = format!("redis://127.0.0.1:{}/0", redis.1);
            key(store::open(&StoreSpec::Redis(url.clone()), None)
                .expect("redis keys")
                .as_mut());
            let config = StoreConfig {
                spec: StoreSpec::Redis(url),
                redis_timeout: Duration::from_secs(5),
                ..Default::default()
            };
            let limits = Arc::new(
                rt.block_on(Limits::open(Spec::SPEC, &config, Clock::system()))
                    .expect("redis limits"),
            );
            let k = limits.authenticate(&headers, None, 0).expect("the key");
            g.bench_function("redis/keyed-decision-latency", |b| {
                b.iter(|| {
                    let r = rt.block_on(limits.admit(0, keyed, Some(&k)));
                    black_box(r.expect("admitted"))
                })
            });
            // Throughput: 64 decisions in flight over the multiplexed connection; the time
            // reported is per decision.
            g.bench_function("redis/keyed-decision-64-in-flight", |b| {
                b.iter_custom(|iters| {
                    let per_task = iters.div_ceil(64);
                    let started = Instant::now();
                    rt.block_on(async {
                        let tasks: Vec<_> = (0..64)
                            .map(|_| {
                                let (limits, k) = (limits.clone(), k.clone());
                                tokio::spawn(async move {
                                    for _ in 0..per_task {
                                        black_box(
                                            limits
                                                .admit(0, keyed, Some(&k))
                                                .await
                                                .expect("admitted"),
                                        );
                                    }
                                })
                            })
                            .collect();
                        for t in tasks {
                            t.await.expect("a decision task");
                        }
                    });
                    started
                        .elapsed()
                        .mul_f64(iters as f64 / (per_task * 64) as f64)
                })
            });
        }
    }
    g.finish();
    let _ = std::fs::remove_dir_all(&dir);
}

criterion_group!(benches, bench);
criterion_main!(benches);
