//! Compiled JSON Schema validators: `SchemaSet → TokenStream`, one function per schema node.
//!
//! Each node becomes `fn __tg_sN<R: Report>(v: &Value, at: &Path<'_>, r: &mut R) -> bool`.
//! Keywords are checked in straight-line code specialised to the node: no keyword table is
//! consulted at run time, regexes are compiled once (`LazyLock`), string enums become `matches!`.
//! With `Fast` the function returns at the first failure; with `Collect` it records every
//! violation. `anyOf`/`oneOf`/`not` probe their branches with `Fast` and report one violation.

use proc_macro2::{Ident, Literal, TokenStream};
use quote::{format_ident, quote};
use serde_json::Value;
use tollgate_dsl::schema::{
    Additional, Bound, Dependency, Items, JsonType, Keywords, NodeId, NodeKind, SchemaSet,
};

/// The function name of node `id`.
pub(crate) fn node_fn(id: NodeId) -> Ident {
    format_ident!("__tg_s{}", id)
}

/// Every node of `set` as a validator function (plus the statics they use).
pub(crate) fn validators(set: &SchemaSet) -> TokenStream {
    let fns = set.nodes.iter().enumerate().map(|(id, node)| {
        let name = node_fn(id);
        let body = match &node.kind {
            NodeKind::Ref(target) => {
                let t = node_fn(*target);
                quote!(#t(v, at, r))
            }
            NodeKind::Keywords(k) => keywords(id, &node.location, k),
        };
        let location = &node.location;
        quote! {
            #[allow(dead_code, unused_variables, unused_mut, unused_assignments, clippy::all)]
            fn #name<R: ::tollgate::__codegen::schema::Report>(
                v: &::tollgate::__codegen::schema::serde_json::Value,
                at: &::tollgate::__codegen::schema::Path<'_>,
                r: &mut R,
            ) -> bool {
                if !::tollgate::__codegen::schema::step() {
                    r.fail(at, #location, "budget", || ::std::string::String::from("validation exceeded its step budget"));
                    return false;
                }
                #body
            }
        }
    });
    quote!(#(#fns)*)
}

/// `{ ok = false; r.fail(…); if R::FAST { return false; } }`
fn fail(keyword: &str, message: TokenStream) -> TokenStream {
    quote! {{
        ok = false;
        r.fail(at, LOCATION, #keyword, || #message);
        if R::FAST {
            return false;
        }
    }}
}

/// Validates `value_expr` at `path_expr` against `node`, folding the result into `ok`.
fn descend(node: NodeId, value: TokenStream, path: TokenStream) -> TokenStream {
    let f = node_fn(node);
    quote! {{
        if !#f(#value, #path, r) {
            ok = false;
            if R::FAST {
                return false;
            }
        }
    }}
}

fn probe(node: NodeId) -> TokenStream {
    let f = node_fn(node);
    quote!(#f(v, at, &mut ::tollgate::__codegen::schema::Fast))
}

/// A `serde_json::Number` constant as tokens.
pub(crate) fn number_tokens(n: &serde_json::Number) -> TokenStream {
    number(n)
}

fn number(n: &serde_json::Number) -> TokenStream {
    if let Some(i) = n.as_i64() {
        quote!(::tollgate::__codegen::schema::serde_json::Number::from(#i))
    } else if let Some(u) = n.as_u64() {
        quote!(::tollgate::__codegen::schema::serde_json::Number::from(#u))
    } else {
        let f = n.as_f64().unwrap_or(0.0);
        let lit = Literal::f64_suffixed(f);
        quote!(::tollgate::__codegen::schema::float(#lit))
    }
}

fn keywords(id: NodeId, location: &str, k: &Keywords) -> TokenStream {
    let s = quote!(::tollgate::__codegen::schema);
    let mut statics = Vec::new();
    let mut general = Vec::new();
    let mut strings = Vec::new();
    let mut numbers = Vec::new();
    let mut arrays = Vec::new();
    let mut objects = Vec::new();

    if let Some(types) = &k.types {
        let conds = types.iter().map(|t| match t {
            JsonType::Null => quote!(v.is_null()),
            JsonType::Boolean => quote!(v.is_boolean()),
            JsonType::Object => quote!(v.is_object()),
            JsonType::Array => quote!(v.is_array()),
            JsonType::Number => quote!(v.is_number()),
            JsonType::Integer => quote!(v.as_number().is_some_and(#s::is_integer)),
            JsonType::String => quote!(v.is_string()),
        });
        let allowed: Vec<String> = types
            .iter()
            .map(|t| {
                serde_json::to_value(t)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_default()
            })
            .collect();
        let allowed = serde_json::to_string(&allowed).unwrap_or_default();
        let f = fail(
            "type",
            quote!(::std::format!(
                "instance type ({}) does not match any allowed primitive type (allowed: {})",
                #s::type_name(v),
                #allowed
            )),
        );
        general.push(quote!(if !(#(#conds)||*) #f));
    }

    if let Some(values) = &k.enumeration {
        let shown = serde_json::to_string(values).unwrap_or_default();
        let f = fail(
            "enum",
            quote!(
                ::std::format!("instance value ({}) not found in enum (possible values: {})", v, #shown)
            ),
        );
        if !values.is_empty() && values.iter().all(Value::is_string) {
            let strs = values.iter().filter_map(Value::as_str);
            general.push(quote!(if !::core::matches!(v.as_str(), ::core::option::Option::Some(#(#strs)|*)) #f));
        } else {
            let ident = format_ident!("ENUM_{}", id);
            let json = serde_json::to_string(values).unwrap_or_default();
            statics.push(quote! {
                static #ident: #s::LazyLock<::std::vec::Vec<#s::serde_json::Value>> =
                    #s::LazyLock::new(|| #s::serde_json::from_str(#json).unwrap_or_default());
            });
            general.push(quote!(if !#ident.iter().any(|e| #s::json_eq(e, v)) #f));
        }
    }

    // Strings.
    if k.min_length.is_some() || k.max_length.is_some() {
        strings.push(quote!(let len = #s::char_len(s);));
    }
    if let Some(min) = k.min_length {
        let f = fail(
            "minLength",
            quote!(
                ::std::format!("string {} is too short (length: {}, required minimum: {})", v, len, #min)
            ),
        );
        strings.push(quote!(if len < #min #f));
    }
    if let Some(max) = k.max_length {
        let f = fail(
            "maxLength",
            quote!(
                ::std::format!("string {} is too long (length: {}, maximum allowed: {})", v, len, #max)
            ),
        );
        strings.push(quote!(if len > #max #f));
    }
    if let Some(pattern) = &k.pattern {
        let ident = format_ident!("PATTERN_{}", id);
        statics.push(regex_static(&ident, pattern));
        let f = fail(
            "pattern",
            quote!(
                ::std::format!("ECMA 262 regex {:?} does not match input string {}", #pattern, v)
            ),
        );
        strings.push(quote!(if !#ident.as_ref().is_some_and(|re| re.is_match(s)) #f));
    }

    // Numbers.
    if let Some(Bound { value, exclusive }) = &k.maximum {
        let limit = number(value);
        let shown = value.to_string();
        let (cond, msg) = if *exclusive {
            (
                quote!(#s::compare(n, &#limit) != ::core::cmp::Ordering::Less),
                "numeric instance is not strictly lower than the required maximum (maximum: {}, found: {})",
            )
        } else {
            (
                quote!(#s::compare(n, &#limit) == ::core::cmp::Ordering::Greater),
                "numeric instance is greater than the required maximum (maximum: {}, found: {})",
            )
        };
        let f = fail("maximum", quote!(::std::format!(#msg, #shown, n)));
        numbers.push(quote!(if #cond #f));
    }
    if let Some(Bound { value, exclusive }) = &k.minimum {
        let limit = number(value);
        let shown = value.to_string();
        let (cond, msg) = if *exclusive {
            (
                quote!(#s::compare(n, &#limit) != ::core::cmp::Ordering::Greater),
                "numeric instance is not strictly greater than the required minimum (minimum: {}, found: {})",
            )
        } else {
            (
                quote!(#s::compare(n, &#limit) == ::core::cmp::Ordering::Less),
                "numeric instance is lower than the required minimum (minimum: {}, found: {})",
            )
        };
        let f = fail("minimum", quote!(::std::format!(#msg, #shown, n)));
        numbers.push(quote!(if #cond #f));
    }
    if let Some(m) = &k.multiple_of {
        let divisor = number(m);
        let shown = m.to_string();
        let f = fail(
            "multipleOf",
            quote!(
                ::std::format!("numeric instance is not a multiple of {} (found: {})", #shown, n)
            ),
        );
        numbers.push(quote!(if !#s::is_multiple_of(n, &#divisor) #f));
    }

    // Arrays.
    if let Some(min) = k.min_items {
        let f = fail(
            "minItems",
            quote!(
                ::std::format!("array is too short: must have at least {} elements but instance has {} elements", #min, a.len())
            ),
        );
        arrays.push(quote!(if (a.len() as u64) < #min #f));
    }
    if let Some(max) = k.max_items {
        let f = fail(
            "maxItems",
            quote!(
                ::std::format!("array is too long: must have at most {} elements but instance has {} elements", #max, a.len())
            ),
        );
        arrays.push(quote!(if (a.len() as u64) > #max #f));
    }
    if k.unique_items {
        let f = fail(
            "uniqueItems",
            quote!(::std::string::String::from(
                "array must not contain duplicate elements"
            )),
        );
        arrays.push(quote!(if !#s::all_unique(a) #f));
    }
    match &k.items {
        Some(Items::All(node)) => {
            let d = descend(*node, quote!(x), quote!(&#s::Path::Index(at, i)));
            arrays.push(quote!(for (i, x) in a.iter().enumerate() { #d }));
        }
        Some(Items::Tuple(nodes)) => {
            let n = nodes.len();
            let arms = nodes.iter().enumerate().map(|(i, node)| {
                let d = descend(*node, quote!(x), quote!(&#s::Path::Index(at, i)));
                quote!(#i => #d)
            });
            let rest = match &k.additional_items {
                Some(Additional::Schema(node)) => {
                    descend(*node, quote!(x), quote!(&#s::Path::Index(at, i)))
                }
                _ => quote!({}),
            };
            arrays.push(quote! {
                for (i, x) in a.iter().enumerate() {
                    match i {
                        #(#arms)*
                        _ => #rest
                    }
                }
            });
            if matches!(k.additional_items, Some(Additional::Forbidden)) {
                let f = fail(
                    "additionalItems",
                    quote!(
                        ::std::format!("array instance has {} elements but the schema allows at most {}", a.len(), #n)
                    ),
                );
                arrays.push(quote!(if a.len() > #n #f));
            }
        }
        None => {}
    }

    // Objects.
    if !k.required.is_empty() {
        let names = &k.required;
        let f = fail(
            "required",
            quote!(
                ::std::format!("object has missing required properties ({})", #s::quoted_list(missing.iter().copied()))
            ),
        );
        objects.push(quote! {
            let missing = #s::missing(o, &[#(#names),*]);
            if !missing.is_empty() #f
        });
    }
    if let Some(min) = k.min_properties {
        let f = fail(
            "minProperties",
            quote!(
                ::std::format!("object has too few properties (found {} but schema requires at least {})", o.len(), #min)
            ),
        );
        objects.push(quote!(if (o.len() as u64) < #min #f));
    }
    if let Some(max) = k.max_properties {
        let f = fail(
            "maxProperties",
            quote!(
                ::std::format!("object has too many properties (found {} but schema requires at most {})", o.len(), #max)
            ),
        );
        objects.push(quote!(if (o.len() as u64) > #max #f));
    }
    for (name, node) in &k.properties {
        let d = descend(*node, quote!(x), quote!(&#s::Path::Key(at, #name)));
        objects.push(quote!(if let ::core::option::Option::Some(x) = o.get(#name) #d));
    }
    let needs_key_loop = !k.pattern_properties.is_empty() || k.additional_properties.is_some();
    if needs_key_loop {
        let names: Vec<&str> = k.properties.iter().map(|(n, _)| n.as_str()).collect();
        let known = if names.is_empty() {
            quote!(false)
        } else {
            quote!(::core::matches!(key.as_str(), #(#names)|*))
        };
        let patterns = k
            .pattern_properties
            .iter()
            .enumerate()
            .map(|(i, (pattern, node))| {
                let ident = format_ident!("PATTERN_PROPS_{}_{}", id, i);
                statics.push(regex_static(&ident, pattern));
                let d = descend(*node, quote!(x), quote!(&#s::Path::Key(at, key)));
                quote! {
                    if #ident.as_ref().is_some_and(|re| re.is_match(key)) {
                        matched = true;
                        #d
                    }
                }
            });
        let (before, additional, after) = match &k.additional_properties {
            None => (quote!(), quote!(), quote!()),
            Some(Additional::Schema(node)) => {
                let d = descend(*node, quote!(x), quote!(&#s::Path::Key(at, key)));
                (quote!(), quote!(if !matched #d), quote!())
            }
            Some(Additional::Forbidden) => {
                let f = fail(
                    "additionalProperties",
                    quote!(::std::format!(
                        "object instance has properties which are not allowed by the schema: {}",
                        #s::quoted_list(extra.iter().map(|k| k.as_str()))
                    )),
                );
                (
                    quote!(let mut extra: ::std::vec::Vec<&::std::string::String> = ::std::vec::Vec::new();),
                    quote! {
                        if !matched {
                            extra.push(key);
                            if R::FAST {
                                break;
                            }
                        }
                    },
                    quote!(if !extra.is_empty() #f),
                )
            }
        };
        objects.push(quote! {
            #before
            for (key, x) in o.iter() {
                let mut matched = #known;
                #(#patterns)*
                #additional
            }
            #after
        });
    }
    for (name, dep) in &k.dependencies {
        match dep {
            Dependency::Properties(required) => {
                let f = fail(
                    "dependencies",
                    quote!(::std::format!(
                        "property {:?} of object has missing property dependencies (schema requires {}; missing: {})",
                        #name,
                        #s::quoted_list([#(#required),*]),
                        #s::quoted_list(missing.iter().copied())
                    )),
                );
                objects.push(quote! {
                    if o.contains_key(#name) {
                        let missing = #s::missing(o, &[#(#required),*]);
                        if !missing.is_empty() #f
                    }
                });
            }
            Dependency::Schema(node) => {
                let d = descend(*node, quote!(v), quote!(at));
                objects.push(quote!(if o.contains_key(#name) #d));
            }
        }
    }

    // Combinators, on the same instance.
    for node in &k.all_of {
        general.push(descend(*node, quote!(v), quote!(at)));
    }
    if !k.any_of.is_empty() {
        let n = k.any_of.len();
        let probes = k.any_of.iter().map(|n| probe(*n));
        let f = fail(
            "anyOf",
            quote!(
                ::std::format!("instance failed to match at least one required schema among {}", #n)
            ),
        );
        general.push(quote!(if !(#(#probes)||*) #f));
    }
    if !k.one_of.is_empty() {
        let n = k.one_of.len();
        let probes = k.one_of.iter().map(|n| probe(*n));
        let f = fail(
            "oneOf",
            quote!(
                ::std::format!("instance failed to match exactly one schema (matched {} out of {})", matched, #n)
            ),
        );
        general.push(quote! {
            let matched = [#(#probes),*].iter().filter(|m| **m).count();
            if matched != 1 #f
        });
    }
    if let Some(node) = k.not {
        let p = probe(node);
        let f = fail(
            "not",
            quote!(::std::string::String::from(
                "instance matched a schema which it should not"
            )),
        );
        general.push(quote!(if #p #f));
    }

    let mut by_type = Vec::new();
    if !strings.is_empty() {
        by_type.push(quote!(#s::serde_json::Value::String(s) => { #(#strings)* }));
    }
    if !numbers.is_empty() {
        by_type.push(quote!(#s::serde_json::Value::Number(n) => { #(#numbers)* }));
    }
    if !arrays.is_empty() {
        by_type.push(quote!(#s::serde_json::Value::Array(a) => { #(#arrays)* }));
    }
    if !objects.is_empty() {
        by_type.push(quote!(#s::serde_json::Value::Object(o) => { #(#objects)* }));
    }
    let by_type = (!by_type.is_empty()).then(|| {
        quote! {
            match v {
                #(#by_type)*
                _ => {}
            }
        }
    });
    quote! {
        const LOCATION: &str = #location;
        #(#statics)*
        let mut ok = true;
        #(#general)*
        #by_type
        ok
    }
}

fn regex_static(ident: &Ident, pattern: &str) -> TokenStream {
    // ECMA 262 semantics (ASCII `\d`, `\w`, …) translated to the `regex` crate's syntax, exactly
    // as the interpreter does; the check already refused untranslatable patterns. `ok()` keeps
    // the generated code free of panics.
    let translated = tollgate_dsl::schema::interpret::translate_regex(pattern)
        .unwrap_or_else(|_| "[^\\s\\S]".to_owned());
    let pattern = translated.as_str();
    quote! {
        static #ident: ::tollgate::__codegen::schema::LazyLock<::core::option::Option<::tollgate::__codegen::schema::Regex>> =
            ::tollgate::__codegen::schema::LazyLock::new(|| ::tollgate::__codegen::schema::Regex::new(#pattern).ok());
    }
}
