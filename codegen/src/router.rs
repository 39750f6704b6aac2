//! The route table as a `match` over path segments: `ir::Api → TokenStream`.
//!
//! Routes with the same path *shape* (literals, parameters, greedy tail) share one arm; arms are
//! ordered most specific first (literal before parameter before greedy, segment by segment), so
//! Rust's first-match semantics give API Gateway's priority. In REST APIs the resource is chosen
//! first and a missing method is a 403 there (no fall-through); in HTTP APIs the method is part of
//! the guard, so `POST /pets/1` can fall through to `ANY /{proxy+}` as API Gateway's HTTP APIs do.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use std::cmp::Ordering;
use tollgate_dsl::ir::{Api, Flavor, Method, SegmentKind};

#[derive(Debug, Clone, PartialEq, Eq)]
enum Shape {
    Literal(String),
    Param,
    Greedy,
}

impl Shape {
    fn rank(&self) -> u8 {
        match self {
            Shape::Literal(_) => 0,
            Shape::Param => 1,
            Shape::Greedy => 2,
        }
    }
}

fn compare(a: &[Shape], b: &[Shape]) -> Ordering {
    for (x, y) in a.iter().zip(b) {
        let o = x.rank().cmp(&y.rank()).then_with(|| match (x, y) {
            (Shape::Literal(l), Shape::Literal(r)) => l.cmp(r),
            _ => Ordering::Equal,
        });
        if o != Ordering::Equal {
            return o;
        }
    }
    a.len().cmp(&b.len())
}

struct Arm {
    shape: Vec<Shape>,
    /// (method, route id)
    methods: Vec<(Method, usize)>,
}

/// The `match` that maps `(segments, m)` to `Option<usize>` (a route id).
pub(crate) fn route_match(api: &Api) -> (TokenStream, Vec<crate::auth::Preflight>) {
    let mut arms: Vec<Arm> = Vec::new();
    for (id, route) in api.routes.iter().enumerate() {
        let shape: Vec<Shape> = route
            .path
            .segments
            .iter()
            .map(|s| match &s.kind {
                SegmentKind::Literal { text } => Shape::Literal(text.clone()),
                SegmentKind::Param { .. } => Shape::Param,
                SegmentKind::Greedy { .. } => Shape::Greedy,
            })
            .collect();
        match arms.iter_mut().find(|a| a.shape == shape) {
            Some(arm) => arm.methods.push((route.method.value, id)),
            None => arms.push(Arm {
                shape,
                methods: vec![(route.method.value, id)],
            }),
        }
    }
    arms.sort_by(|a, b| compare(&a.shape, &b.shape));

    // Resources under CORS without their own OPTIONS method: the gateway answers preflights,
    // with ids past the routes.
    let mut preflights = Vec::new();
    let preflight_ids: Vec<Option<usize>> = arms
        .iter()
        .map(|arm| {
            let own = arm
                .methods
                .iter()
                .any(|(m, _)| matches!(m, Method::Options | Method::Any));
            let cors = arm
                .methods
                .iter()
                .find(|(_, id)| crate::auth::effective_cors(api, &api.routes[*id]).is_some());
            match (own, cors) {
                (false, Some((_, first))) => {
                    let methods: Vec<Method> = arm.methods.iter().map(|(m, _)| *m).collect();
                    preflights.push(crate::auth::Preflight {
                        route: *first,
                        methods: crate::auth::preflight_methods(&methods),
                    });
                    Some(api.routes.len() + preflights.len() - 1)
                }
                _ => None,
            }
        })
        .collect();

    let arms = arms.iter().zip(preflight_ids).map(|(arm, preflight)| {
        let mut pats = Vec::new();
        let mut guards = Vec::new();
        for (i, s) in arm.shape.iter().enumerate() {
            match s {
                Shape::Literal(l) => pats.push(quote!(#l)),
                Shape::Param => {
                    let b = format_ident!("__p{}", i);
                    pats.push(quote!(#b));
                    guards.push(quote!(!#b.is_empty()));
                }
                Shape::Greedy => {
                    // At least one segment, the first non-empty.
                    let b = format_ident!("__p{}", i);
                    pats.push(quote!(#b, ..));
                    guards.push(quote!(!#b.is_empty()));
                }
            }
        }
        let mut explicit: Vec<&(Method, usize)> = arm
            .methods
            .iter()
            .filter(|(m, _)| *m != Method::Any)
            .collect();
        explicit.sort();
        let any = arm
            .methods
            .iter()
            .find(|(m, _)| *m == Method::Any)
            .map(|(_, id)| *id);
        let method_arms = explicit.iter().map(|(m, id)| {
            let v = method_variant(*m);
            quote!(__M::#v => ::core::option::Option::Some(#id),)
        });
        let any_arm =
            any.map(|id| quote!(__m if __m.is_standard() => ::core::option::Option::Some(#id),));
        let preflight_arm =
            preflight.map(|id| quote!(__M::Options => ::core::option::Option::Some(#id),));
        if api.flavor == Flavor::Http {
            let accepted = if any.is_some() {
                quote!(m.is_standard())
            } else {
                let mut vs: Vec<_> = explicit.iter().map(|(m, _)| method_variant(*m)).collect();
                if preflight.is_some() {
                    vs.push(method_variant(Method::Options));
                }
                quote!(::core::matches!(m, #(__M::#vs)|*))
            };
            guards.push(accepted);
        }
        let guard = if guards.is_empty() {
            quote!()
        } else {
            quote!(if #(#guards)&&*)
        };
        quote! {
            [#(#pats),*] #guard => match m {
                #(#method_arms)*
                #preflight_arm
                #any_arm
                _ => ::core::option::Option::None,
            },
        }
    });
    let tokens = quote! {
        match segments {
            #(#arms)*
            _ => ::core::option::Option::None,
        }
    };
    (tokens, preflights)
}

fn method_variant(m: Method) -> proc_macro2::Ident {
    format_ident!(
        "{}",
        match m {
            Method::Get => "Get",
            Method::Post => "Post",
            Method::Put => "Put",
            Method::Patch => "Patch",
            Method::Delete => "Delete",
            Method::Head => "Head",
            Method::Options => "Options",
            Method::Any => unreachable!("ANY is matched with a guard"),
        }
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literal_beats_param_beats_greedy_segment_by_segment() {
        let lit = |s: &str| Shape::Literal(s.into());
        let mut shapes = vec![
            vec![Shape::Greedy],
            vec![lit("pets"), Shape::Param],
            vec![lit("pets"), lit("mine")],
            vec![Shape::Param, lit("x")],
            vec![lit("pets")],
            vec![lit("pets"), Shape::Greedy],
        ];
        shapes.sort_by(|a, b| compare(a, b));
        assert_eq!(
            shapes,
            vec![
                vec![lit("pets")],
                vec![lit("pets"), lit("mine")],
                vec![lit("pets"), Shape::Param],
                vec![lit("pets"), Shape::Greedy],
                vec![Shape::Param, lit("x")],
                vec![Shape::Greedy],
            ]
        );
    }
}
