//! Checks of throttles: limits in range, per-method throttles naming a real route once.

use crate::diagnostics::Sink;
use crate::ir::{Api, Throttle};
use std::collections::HashMap;

/// Largest rate or burst accepted (API Gateway's account limits are 10,000 / 5,000 by default
/// and can be raised; a million leaves room without overflowing the bucket arithmetic).
pub const MAX_THROTTLE: f64 = 1_000_000.0;

pub(crate) fn check(api: &Api, sink: &mut Sink) {
    if let Some(t) = &api.throttle {
        limits(t, sink);
    }
    for stage in &api.stages {
        if let Some(t) = &stage.throttle {
            limits(t, sink);
        }
        let mut seen: HashMap<(String, crate::ir::Method), &crate::ir::MethodThrottle> =
            HashMap::new();
        for m in &stage.method_throttles {
            limits(&m.throttle, sink);
            let path = m.path.value.trim_end_matches('/');
            let path = if path.is_empty() { "/" } else { path };
            let found = api
                .routes
                .iter()
                .any(|r| r.path.to_string() == path && r.method.value == m.method.value);
            if !found {
                let same_path: Vec<String> = api
                    .routes
                    .iter()
                    .filter(|r| r.path.to_string() == path)
                    .map(|r| r.method.value.to_string())
                    .collect();
                let shape = |p: &str| {
                    p.split('/')
                        .map(|seg| if seg.starts_with('{') { "{}" } else { seg })
                        .collect::<Vec<_>>()
                        .join("/")
                };
                let same_shape = api
                    .routes
                    .iter()
                    .map(|r| r.path.to_string())
                    .find(|p| shape(p) == shape(path));
                let help = if let Some(p) = same_shape.filter(|_| same_path.is_empty()) {
                    format!("did you mean `{p}`? name the path parameters as the resource does")
                } else if same_path.is_empty() {
                    let paths: Vec<String> =
                        api.routes.iter().map(|r| r.path.to_string()).collect();
                    let refs: Vec<&str> = paths.iter().map(String::as_str).collect();
                    match crate::kdl::closest(path, &refs) {
                        Some(p) => format!(
                            "did you mean `{p}`? method throttles name a route's path as written, parameters included"
                        ),
                        None => {
                            "method throttles name a route's path as written, e.g. `\"/pets/{id}\"`"
                                .to_owned()
                        }
                    }
                } else {
                    format!("`{path}` has {}", same_path.join(", "))
                };
                sink.error(
                    "check::unknown-route",
                    format!("no route `{} {path}` to throttle", m.method.value),
                    m.path.span,
                    "no such route",
                    help,
                );
            }
            if let Some(first) = seen.insert((path.to_owned(), m.method.value), m) {
                sink.error_with(
                    "check::duplicate-throttle",
                    format!(
                        "`{} {path}` is throttled twice in stage `{}`",
                        m.method.value, stage.name.value
                    ),
                    &[(m.path.span, "second"), (first.path.span, "first")],
                    "keep one `throttle` per method",
                );
            }
        }
    }
}

fn limits(t: &Throttle, sink: &mut Sink) {
    let r = t.rate.value;
    if !(r > 0.0 && r <= MAX_THROTTLE) {
        sink.error(
            "check::throttle-range",
            format!("rate={r} is out of range"),
            t.rate.span,
            "requests per second",
            format!("use a rate above 0 and at most {MAX_THROTTLE}"),
        );
    }
    let b = t.burst.value;
    if b == 0 || b as f64 > MAX_THROTTLE {
        sink.error(
            "check::throttle-range",
            format!("burst={b} is out of range"),
            t.burst.span,
            if b == 0 {
                "a bucket of 0 refuses every request"
            } else {
                "too large"
            },
            format!("use a burst from 1 to {MAX_THROTTLE}"),
        );
    }
}
