//! Checks of response caching: TTLs and capacities in API Gateway's ranges, cache keys naming
//! real request parameters, REST only, and answers that one cache entry would share between
//! clients that should not see each other's.

use crate::diagnostics::Sink;
use crate::ir::{Api, Flavor, MAX_CACHE_TTL, ParamLocation, Spanned};

pub(crate) fn check(api: &Api, sink: &mut Sink) {
    if api.flavor == Flavor::Http {
        for stage in &api.stages {
            if let Some(c) = &stage.cache {
                http_cache(sink, c.span, &format!("stage `{}`", stage.name.value));
            }
        }
        for route in &api.routes {
            if let Some(c) = &route.cache {
                http_cache(
                    sink,
                    c.span,
                    &format!("`{} {}`", route.method.value, route.path),
                );
            }
        }
        return;
    }
    for stage in &api.stages {
        let Some(c) = &stage.cache else { continue };
        ttl(&c.ttl, sink);
        if c.capacity.value == 0 {
            sink.error(
                "check::cache-capacity",
                "a cache of 0 bytes holds nothing",
                c.capacity.span,
                "no room",
                "give it room (`capacity=\"64MiB\"`), or remove `cache` to turn caching off",
            );
        }
    }
    let any_stage_caches = api.stages.iter().any(|s| s.cache.is_some());
    for route in &api.routes {
        let Some(c) = &route.cache else { continue };
        let what = format!("`{} {}`", route.method.value, route.path);
        if let Some(t) = &c.ttl {
            ttl(t, sink);
        }
        if !any_stage_caches && c.enabled.as_ref().is_none_or(|e| e.value) {
            sink.warning(
                "check::cache-without-stage",
                format!("{what} sets up caching, but no stage has a cache"),
                c.span,
                "never cached",
                "add `cache capacity=\"64MiB\"` to the stages that should cache answers",
            );
        }
        let mut seen: Vec<(ParamLocation, String)> = Vec::new();
        for k in &c.keys {
            let name = if k.location == ParamLocation::Header {
                k.name.to_ascii_lowercase()
            } else {
                k.name.clone()
            };
            if seen.contains(&(k.location, name.clone())) {
                sink.error(
                    "check::duplicate-cache-key",
                    format!(
                        "`{}.{}` is in the cache key twice",
                        k.location.as_str(),
                        k.name
                    ),
                    k.span,
                    "listed again",
                    "list each parameter once",
                );
            }
            seen.push((k.location, name));
            if k.location == ParamLocation::Path && route.path.param(&k.name).is_none() {
                let params: Vec<&str> = route.path.params().map(|(_, n)| n).collect();
                sink.error(
                    "check::unknown-path-param",
                    format!("{what} has no path parameter `{}`", k.name),
                    k.span,
                    "not in the path",
                    if params.is_empty() {
                        "the route has no path parameters; key on `querystring.NAME` or \
                         `header.NAME` instead"
                            .to_owned()
                    } else {
                        format!("its path parameters are: {}", params.join(", "))
                    },
                );
            }
        }
        // Safe by default: an answer cached for one API key must not be served to another
        // when it may depend on the key.
        let keyed_by_client = c.keys.iter().any(|k| {
            k.location == ParamLocation::Header
                && matches!(
                    k.name.to_ascii_lowercase().as_str(),
                    "x-api-key" | "authorization"
                )
        });
        if route.api_key_required.is_some()
            && !keyed_by_client
            && c.enabled.as_ref().is_none_or(|e| e.value)
        {
            sink.warning(
                "check::cache-shared-by-clients",
                format!(
                    "{what} requires an API key, but its cached answers are shared by every key"
                ),
                c.span,
                "one entry for every client",
                "if the answer depends on the caller, add `key \"header.x-api-key\"` to the \
                 cache; if it does not, this warning can stay",
            );
        }
    }
}

fn ttl(t: &Spanned<u64>, sink: &mut Sink) {
    if t.value > MAX_CACHE_TTL {
        sink.error(
            "check::cache-ttl-range",
            format!("ttl={} is out of range", t.value),
            t.span,
            "seconds",
            format!("API Gateway caches for 0 to {MAX_CACHE_TTL} s (0 turns caching off)"),
        );
    }
}

fn http_cache(sink: &mut Sink, span: crate::ir::Span, what: &str) {
    sink.error(
        "check::http-cache",
        format!("{what}: HTTP APIs have no response cache"),
        span,
        "not in an HTTP API",
        "API Gateway caches REST APIs only: use `flavor=rest`, or remove `cache`",
    );
}
