//! `#[derive(tollgate::Model)]`: `syn::DeriveInput → JSON Schema (draft 4) → check → tokens`.
//!
//! The schema is what a KDL `model NAME schema=…` would hold: an object whose properties are the
//! fields (`Option<T>` ones optional), with the `#[model(…)]` keywords on each. It is checked
//! here with the same schema compiler the API checks use, so a bad `pattern` is an error on the
//! attribute. The derive also emits a callback macro through which `#[tollgate::api]` reads the
//! schema (a proc macro cannot see other items), and the conversion from validated JSON.

use crate::options::{self, Errors, Opt, OptValue};
use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote};
use serde_json::{Map, Value, json};
use syn::spanned::Spanned;
use syn::{Data, DeriveInput, Fields, Ident, Lit, Type};

const FIELD_OPTIONS: &[&str] = &[
    "rename",
    "min_length",
    "max_length",
    "pattern",
    "format",
    "minimum",
    "maximum",
    "exclusive_minimum",
    "exclusive_maximum",
    "multiple_of",
    "min_items",
    "max_items",
    "unique_items",
    "description",
];

const CONTAINER_OPTIONS: &[&str] = &["additional_properties", "description"];

/// API Gateway's model URL, which models use to refer to each other (any API id works).
const MODEL_URL: &str = "https://apigateway.amazonaws.com/restapis/api/models/";

/// Expands the derive.
pub(crate) fn derive(input: TokenStream) -> TokenStream {
    let input: DeriveInput = match syn::parse2(input) {
        Ok(i) => i,
        Err(e) => return e.to_compile_error(),
    };
    let mut errors = Errors::default();
    let ident = &input.ident;
    let name = ident.to_string();
    if !input.generics.params.is_empty() {
        errors.at(input.generics.span(), "a model cannot be generic");
    }
    let fields = match &input.data {
        Data::Struct(s) => match &s.fields {
            Fields::Named(n) => n.named.iter().collect::<Vec<_>>(),
            _ => {
                errors.at(ident.span(), "a model is a struct with named fields");
                Vec::new()
            }
        },
        _ => {
            errors.at(ident.span(), "a model is a struct with named fields");
            Vec::new()
        }
    };
    let mut schema = Map::new();
    schema.insert(
        "$schema".into(),
        json!("http://json-schema.org/draft-04/schema#"),
    );
    schema.insert("title".into(), json!(name));
    schema.insert("type".into(), json!("object"));
    // JSON pointers of the keywords written, for errors from the schema compiler.
    let mut pointers: Vec<(String, Span)> = Vec::new();
    for attr in input.attrs.iter().filter(|a| a.path().is_ident("model")) {
        for opt in attr_options(attr, &mut errors) {
            let Opt::Named { name: n, value } = &opt else {
                errors.at(
                    opt.span(),
                    "expected an option such as `additional_properties = false`",
                );
                continue;
            };
            match n.to_string().as_str() {
                "additional_properties" => {
                    if let Some((b, s)) = options::boolean(n, value, &mut errors) {
                        schema.insert("additionalProperties".into(), json!(b));
                        pointers.push(("/additionalProperties".into(), s));
                    }
                }
                "description" => {
                    if let Some(s) = options::string(n, value, &mut errors) {
                        schema.insert("description".into(), json!(s.value()));
                    }
                }
                _ => errors.unknown(n, "a model's `#[model]`", CONTAINER_OPTIONS),
            }
        }
    }
    let mut properties = Map::new();
    let mut nested: Vec<syn::Path> = Vec::new();
    let mut required = Vec::new();
    let mut conversions = Vec::new();
    for field in &fields {
        let Some(field_ident) = &field.ident else {
            continue;
        };
        let raw = field_ident.to_string();
        let mut prop = raw.strip_prefix("r#").unwrap_or(&raw).to_owned();
        let (mut s, is_required) = match type_schema(&field.ty, &mut nested) {
            Ok(x) => x,
            Err(e) => {
                errors.push(e);
                continue;
            }
        };
        let mut keywords: Vec<(String, Span)> = Vec::new();
        for attr in field.attrs.iter().filter(|a| a.path().is_ident("model")) {
            for opt in attr_options(attr, &mut errors) {
                let Opt::Named { name: n, value } = &opt else {
                    errors.at(opt.span(), "expected an option such as `min_length = 1`");
                    continue;
                };
                let key = n.to_string();
                let (keyword, v, span) = match key.as_str() {
                    "rename" => {
                        if let Some(r) = options::string(n, value, &mut errors) {
                            prop = r.value();
                        }
                        continue;
                    }
                    "min_length" | "max_length" | "min_items" | "max_items" => {
                        let Some((v, s)) = options::integer(n, value, &mut errors) else {
                            continue;
                        };
                        (camel(&key), json!(v), s)
                    }
                    "minimum" | "maximum" | "multiple_of" => {
                        let Some((v, s)) = json_number(n, value, &mut errors) else {
                            continue;
                        };
                        (camel(&key), v, s)
                    }
                    "exclusive_minimum" | "exclusive_maximum" | "unique_items" => {
                        let Some((v, s)) = options::boolean(n, value, &mut errors) else {
                            continue;
                        };
                        (camel(&key), json!(v), s)
                    }
                    "pattern" | "format" | "description" => {
                        let Some(v) = options::string(n, value, &mut errors) else {
                            continue;
                        };
                        (key.clone(), json!(v.value()), v.span())
                    }
                    _ => {
                        errors.unknown(n, "a field's `#[model]`", FIELD_OPTIONS);
                        continue;
                    }
                };
                s.insert(keyword.clone(), v);
                keywords.push((keyword, span));
            }
        }
        for (k, span) in keywords {
            pointers.push((format!("/properties/{}/{k}", pointer_escape(&prop)), span));
        }
        pointers.push((
            format!("/properties/{}", pointer_escape(&prop)),
            field.ty.span(),
        ));
        if is_required {
            required.push(json!(prop));
        }
        properties.insert(prop.clone(), Value::Object(s));
        conversions.push(quote! {
            #field_ident: ::tollgate::__macros::FromJson::from_field(o.get(#prop))?
        });
    }
    schema.insert("properties".into(), Value::Object(properties));
    if !required.is_empty() {
        schema.insert("required".into(), Value::Array(required));
    }
    let schema = Value::Object(schema);
    if errors.is_empty() {
        let uri = tollgate_dsl::check::model_uri(&name);
        // Referenced models are checked by their own derive; here they only need to exist.
        let empty = json!({});
        let stubs: Vec<String> = nested
            .iter()
            .filter_map(|p| p.segments.last())
            .map(|s| tollgate_dsl::check::model_uri(&s.ident.to_string()))
            .collect();
        let mut roots = vec![(uri.as_str(), &schema)];
        roots.extend(stubs.iter().map(|u| (u.as_str(), &empty)));
        if let Err(problems) = tollgate_dsl::schema::compile(&roots) {
            for p in problems {
                let pointer = p.location.split_once('#').map(|(_, p)| p).unwrap_or("");
                // The most precise keyword written at or above the problem.
                let span = pointers
                    .iter()
                    .filter(|(q, _)| pointer == q || pointer.starts_with(&format!("{q}/")))
                    .max_by_key(|(q, _)| q.len())
                    .map(|(_, s)| *s)
                    .unwrap_or_else(|| ident.span());
                errors.at(
                    span,
                    format!(
                        "{}\nhelp: {} (model `{name}`, at {pointer})",
                        p.message, p.help
                    ),
                );
            }
        }
    }
    if !errors.is_empty() {
        return errors.into_tokens();
    }
    let json_text = schema.to_string();
    let callback = format_ident!("__tollgate_model_{}", ident);
    // The models this one refers to, asked for next (as the type paths; the chain turns
    // each into its callback).
    let nested_callbacks = &nested;
    quote! {
        impl ::tollgate::Model for #ident {
            const NAME: &'static str = #name;
            const SCHEMA: &'static str = #json_text;
        }

        impl ::tollgate::__macros::FromJson for #ident {
            fn from_json(v: &::tollgate::__macros::serde_json::Value) -> ::core::option::Option<Self> {
                let o = v.as_object()?;
                ::core::option::Option::Some(Self { #(#conversions),* })
            }
        }

        /// Hands this model's schema to `#[tollgate::api]`, which cannot read other items (and
        /// asks for the models it refers to next).
        #[doc(hidden)]
        macro_rules! #callback {
            (($($a:tt)*) {$($i:tt)*} [$($p:tt)*] $($rest:tt)*) => {
                ::tollgate::__api_expand! {
                    ($($a)*) {$($i)*} [#(#nested_callbacks,)* $($p)*] $($rest)* model #ident #json_text
                }
            };
        }
        #[doc(hidden)]
        #[allow(unused_imports)]
        pub(crate) use #callback;
    }
}

fn attr_options(attr: &syn::Attribute, errors: &mut Errors) -> Vec<Opt> {
    match &attr.meta {
        syn::Meta::List(l) => match options::parse(l.tokens.clone()) {
            Ok(o) => o,
            Err(e) => {
                errors.push(e);
                Vec::new()
            }
        },
        _ => {
            errors.at(attr.span(), "write `#[model(option = value, …)]`");
            Vec::new()
        }
    }
}

/// `min_length` → `minLength`.
fn camel(s: &str) -> String {
    let mut out = String::new();
    let mut up = false;
    for c in s.chars() {
        if c == '_' {
            up = true;
        } else if up {
            out.push(c.to_ascii_uppercase());
            up = false;
        } else {
            out.push(c);
        }
    }
    out
}

fn pointer_escape(s: &str) -> String {
    s.replace('~', "~0").replace('/', "~1")
}

/// An integer literal stays an integer in the schema; others are numbers.
fn json_number(name: &Ident, value: &OptValue, errors: &mut Errors) -> Option<(Value, Span)> {
    if let OptValue::Lit {
        lit: Lit::Int(i),
        negative,
    } = value
        && let Ok(v) = i.base10_parse::<i64>()
    {
        return Some((json!(if *negative { -v } else { v }), i.span()));
    }
    let (v, s) = options::number(name, value, errors)?;
    Some((json!(v), s))
}

/// The schema of a field's type, and whether the property is required (not an `Option`).
fn type_schema(ty: &Type, nested: &mut Vec<syn::Path>) -> syn::Result<(Map<String, Value>, bool)> {
    let unsupported = || {
        syn::Error::new(
            ty.span(),
            "a model field is String, an integer, f32/f64, bool, serde_json::Value, another model, Vec<T> or Option<T>",
        )
    };
    let Type::Path(p) = ty else {
        return Err(unsupported());
    };
    let seg = p.path.segments.last().ok_or_else(unsupported)?;
    let inner = || match &seg.arguments {
        syn::PathArguments::AngleBracketed(a) => match a.args.first() {
            Some(syn::GenericArgument::Type(t)) => Ok(t),
            _ => Err(unsupported()),
        },
        _ => Err(unsupported()),
    };
    let name = seg.ident.to_string();
    let scalar = |t: &str| {
        let mut m = Map::new();
        m.insert("type".into(), json!(t));
        Ok((m, true))
    };
    match name.as_str() {
        "Option" => type_schema(inner()?, nested).map(|(m, _)| (m, false)),
        "Vec" => {
            let (items, _) = type_schema(inner()?, nested)?;
            let mut m = Map::new();
            m.insert("type".into(), json!("array"));
            m.insert("items".into(), Value::Object(items));
            Ok((m, true))
        }
        "String" | "CompactString" => scalar("string"),
        "i8" | "i16" | "i32" | "i64" | "u8" | "u16" | "u32" | "u64" | "isize" | "usize" => {
            scalar("integer")
        }
        "f32" | "f64" => scalar("number"),
        "bool" => scalar("boolean"),
        "Value" => Ok((Map::new(), true)),
        // Another `#[derive(tollgate::Model)]` struct: a reference to that model, as KDL models
        // refer to each other by API Gateway's model URL.
        _ if seg.arguments.is_empty() && name.starts_with(|c: char| c.is_ascii_uppercase()) => {
            if !nested
                .iter()
                .any(|n| n.segments.last().is_some_and(|s| s.ident == name))
            {
                nested.push(p.path.clone());
            }
            let mut m = Map::new();
            m.insert("$ref".into(), json!(format!("{MODEL_URL}{name}")));
            Ok((m, true))
        }
        _ => Err(unsupported()),
    }
}
