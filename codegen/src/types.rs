//! Rust types for models: `SchemaSet → TokenStream` of serde structs.
//!
//! A model whose schema is an object with `properties` becomes a struct (required properties as
//! plain fields, the others as `Option`); nested objects become their own structs; `string`,
//! `integer`, `number`, `boolean` and arrays map to `String`, `i64`, `f64`, `bool`, `Vec<T>`, and
//! `["T", "null"]` to `Option<T>`. What a Rust type cannot say (`oneOf`, mixed types, enums of
//! non-strings…) stays a `serde_json::Value` — the compiled validator still checks it exactly.

use proc_macro2::{Ident, TokenStream};
use quote::{format_ident, quote};
use std::collections::HashMap;
use tollgate_dsl::schema::{Additional, Items, JsonType, Keywords, NodeId, NodeKind, SchemaSet};

use crate::api::{snake_case, upper_camel};

/// A model name as its Rust type name.
pub(crate) fn upper_camel_name(s: &str) -> String {
    upper_camel(s)
}

/// The generated `models` module and the type of each model (in `roots` order), as a path
/// relative to the API module (`models::Pet`).
pub(crate) struct ModelTypes {
    pub(crate) module: TokenStream,
    pub(crate) types: Vec<TokenStream>,
}

struct Gen<'a> {
    set: &'a SchemaSet,
    /// Root node → model name (so `$ref`s to a model use its struct).
    roots: HashMap<NodeId, String>,
    /// Node → struct name, for structs generated or in progress.
    structs: HashMap<NodeId, Ident>,
    in_progress: Vec<NodeId>,
    taken: Vec<String>,
    items: Vec<TokenStream>,
}

pub(crate) fn model_types(set: &SchemaSet, models: &[(String, NodeId)]) -> ModelTypes {
    let mut g = Gen {
        set,
        roots: models.iter().map(|(n, id)| (*id, n.clone())).collect(),
        structs: HashMap::new(),
        in_progress: Vec::new(),
        taken: models.iter().map(|(n, _)| upper_camel(n)).collect(),
        items: Vec::new(),
    };
    let mut types = Vec::new();
    for (name, root) in models {
        let ident = format_ident!("{}", upper_camel(name));
        let ty = g.ty(*root, name);
        let is_struct = g
            .structs
            .get(&g.resolve(*root))
            .is_some_and(|s| *s == ident);
        if !is_struct {
            let doc = format!(
                " The `{name}` model: its schema has no Rust struct form, so it stays JSON (validated)."
            );
            g.items.push(quote! {
                #[doc = #doc]
                pub type #ident = #ty;
            });
        }
        types.push(quote!(models::#ident));
    }
    let items = &g.items;
    ModelTypes {
        module: quote! {
            /// Rust types of the API's models (serde), handed to handlers already validated.
            #[allow(dead_code)]
            pub mod models {
                #(#items)*
            }
        },
        types,
    }
}

impl Gen<'_> {
    /// Follows `$ref`s to the node that carries keywords.
    fn resolve(&self, mut id: NodeId) -> NodeId {
        let mut hops = 0;
        while let NodeKind::Ref(t) = &self.set.node(id).kind {
            id = *t;
            hops += 1;
            if hops > self.set.nodes.len() {
                break;
            }
        }
        id
    }

    /// Statements checking `expr` (a reference to the Rust value `ty(id)` produced) against node
    /// `id`: they `return Checked::Invalid` on a certain violation and set `unsure` when the
    /// typed form cannot decide. `None` when a keyword has no typed form (not struct-exact).
    fn check(&mut self, id: NodeId, expr: TokenStream) -> Option<TokenStream> {
        let s = quote!(::tollgate::__codegen::schema);
        let target = self.resolve(id);
        let NodeKind::Keywords(k) = &self.set.node(target).kind else {
            return None;
        };
        if !k.all_of.is_empty() || !k.any_of.is_empty() || !k.one_of.is_empty() || k.not.is_some() {
            return None;
        }
        let types = k.types.as_ref()?;
        let (nullable, rest): (Vec<_>, Vec<_>) = types.iter().partition(|t| **t == JsonType::Null);
        let value = if nullable.is_empty() {
            expr.clone()
        } else {
            quote!(v)
        };
        let invalid = quote!(return #s::Checked::Invalid;);
        let string_enum = |k: &Keywords| -> Option<Option<TokenStream>> {
            match &k.enumeration {
                None => Some(None),
                Some(values)
                    if !values.is_empty() && values.iter().all(serde_json::Value::is_string) =>
                {
                    let strs = values.iter().filter_map(serde_json::Value::as_str);
                    Some(Some(
                        quote!(if !::core::matches!(s, #(#strs)|*) { #invalid }),
                    ))
                }
                Some(_) => None,
            }
        };
        let bounds = |k: &Keywords, n: TokenStream| -> TokenStream {
            let mut out = Vec::new();
            if let Some(b) = &k.maximum {
                let limit = crate::model::number_tokens(&b.value);
                let bad = if b.exclusive {
                    quote!(::core::cmp::Ordering::Greater | ::core::cmp::Ordering::Equal)
                } else {
                    quote!(::core::cmp::Ordering::Greater)
                };
                out.push(quote!(if ::core::matches!(#s::compare(&#n, &#limit), #bad) { #invalid }));
            }
            if let Some(b) = &k.minimum {
                let limit = crate::model::number_tokens(&b.value);
                let bad = if b.exclusive {
                    quote!(::core::cmp::Ordering::Less | ::core::cmp::Ordering::Equal)
                } else {
                    quote!(::core::cmp::Ordering::Less)
                };
                out.push(quote!(if ::core::matches!(#s::compare(&#n, &#limit), #bad) { #invalid }));
            }
            if let Some(m) = &k.multiple_of {
                let m = crate::model::number_tokens(m);
                out.push(quote!(if !#s::is_multiple_of(&#n, &#m) { #invalid }));
            }
            quote!(#(#out)*)
        };
        let inner = match rest.as_slice() {
            [JsonType::String] => {
                let en = string_enum(k)?;
                let len = (k.min_length.is_some() || k.max_length.is_some())
                    .then(|| quote!(let len = #s::char_len(s);));
                let min = k.min_length.map(|m| quote!(if len < #m { #invalid }));
                let max = k.max_length.map(|m| quote!(if len > #m { #invalid }));
                let pattern = k.pattern.as_ref().map(|p| {
                    let translated = tollgate_dsl::schema::interpret::translate_regex(p)
                        .unwrap_or_else(|_| "[^\\s\\S]".to_owned());
                    quote! {
                        static PATTERN: #s::LazyLock<::core::option::Option<#s::Regex>> =
                            #s::LazyLock::new(|| #s::Regex::new(#translated).ok());
                        if !PATTERN.as_ref().is_some_and(|re| re.is_match(s)) { #invalid }
                    }
                });
                quote! {{
                    let s: &str = #value;
                    #en #len #min #max #pattern
                }}
            }
            [JsonType::Integer] => {
                if k.enumeration.is_some() {
                    return None;
                }
                // Integer limits compare as i64 directly; anything else through exact numbers.
                let direct = [&k.maximum, &k.minimum]
                    .iter()
                    .all(|b| b.as_ref().is_none_or(|b| b.value.as_i64().is_some()));
                if direct {
                    let mut out = Vec::new();
                    if let Some(b) = &k.maximum {
                        let l = b.value.as_i64().unwrap_or_default();
                        out.push(if b.exclusive {
                            quote!(if i >= #l { #invalid })
                        } else {
                            quote!(if i > #l { #invalid })
                        });
                    }
                    if let Some(b) = &k.minimum {
                        let l = b.value.as_i64().unwrap_or_default();
                        out.push(if b.exclusive {
                            quote!(if i <= #l { #invalid })
                        } else {
                            quote!(if i < #l { #invalid })
                        });
                    }
                    if let Some(m) = &k.multiple_of {
                        let m = crate::model::number_tokens(m);
                        out.push(quote!(if !#s::is_multiple_of(&#s::serde_json::Number::from(i), &#m) { #invalid }));
                    }
                    quote! {{
                        let i: i64 = *#value;
                        #(#out)*
                    }}
                } else {
                    let b = bounds(k, quote!(n));
                    quote! {{
                        let n = #s::serde_json::Number::from(*#value);
                        #b
                    }}
                }
            }
            [JsonType::Number] => {
                if k.enumeration.is_some() {
                    return None;
                }
                // Below 2^53 a typed f64 is exactly the written number, and limits that are f64s
                // (or integers below 2^53) compare exactly as f64s too.
                let exact_f64 = |n: &serde_json::Number| {
                    n.as_f64()
                        .is_some_and(|f| f.abs() < 9_007_199_254_740_992.0)
                        && (n.is_f64() || n.as_i64().is_some_and(|i| i.unsigned_abs() < (1 << 53)))
                };
                let direct = [&k.maximum, &k.minimum]
                    .iter()
                    .all(|b| b.as_ref().is_none_or(|b| exact_f64(&b.value)));
                let b = if direct {
                    let mut out = Vec::new();
                    if let Some(b) = &k.maximum {
                        let l = proc_macro2::Literal::f64_suffixed(
                            b.value.as_f64().unwrap_or_default(),
                        );
                        out.push(if b.exclusive {
                            quote!(if f >= #l { #invalid })
                        } else {
                            quote!(if f > #l { #invalid })
                        });
                    }
                    if let Some(b) = &k.minimum {
                        let l = proc_macro2::Literal::f64_suffixed(
                            b.value.as_f64().unwrap_or_default(),
                        );
                        out.push(if b.exclusive {
                            quote!(if f <= #l { #invalid })
                        } else {
                            quote!(if f < #l { #invalid })
                        });
                    }
                    if let Some(m) = &k.multiple_of {
                        let m = crate::model::number_tokens(m);
                        out.push(quote!(if !#s::is_multiple_of(&n, &#m) { #invalid }));
                    }
                    quote!(#(#out)*)
                } else {
                    bounds(k, quote!(n))
                };
                quote! {
                    match #s::exact_number(*#value) {
                        ::core::option::Option::None => unsure = true,
                        ::core::option::Option::Some(n) => {
                            let f: f64 = *#value;
                            #b
                        }
                    }
                }
            }
            [JsonType::Boolean] => {
                if k.enumeration.is_some() {
                    return None;
                }
                quote!()
            }
            [JsonType::Array] => {
                if k.enumeration.is_some() {
                    return None;
                }
                let Some(Items::All(item)) = &k.items else {
                    return None;
                };
                let item_check = self.check(*item, quote!(x))?;
                if k.unique_items && !self.scalar(*item) {
                    return None;
                }
                let min = k
                    .min_items
                    .map(|m| quote!(if (a.len() as u64) < #m { #invalid }));
                let max = k
                    .max_items
                    .map(|m| quote!(if (a.len() as u64) > #m { #invalid }));
                let unique = k
                    .unique_items
                    .then(|| quote!(if !#s::unique_by_eq(a) { #invalid }));
                quote! {{
                    let a = #value;
                    #min #max #unique
                    for x in a.iter() { #item_check }
                }}
            }
            [JsonType::Object] if !k.properties.is_empty() && k.pattern_properties.is_empty() => {
                quote! {
                    match #s::TypedCheck::check(#value) {
                        #s::Checked::Invalid => return #s::Checked::Invalid,
                        #s::Checked::Unsure => unsure = true,
                        #s::Checked::Valid => {}
                    }
                }
            }
            [JsonType::Object] => {
                let plain = k.properties.is_empty()
                    && k.pattern_properties.is_empty()
                    && k.required.is_empty()
                    && k.additional_properties.is_none()
                    && k.dependencies.is_empty()
                    && k.min_properties.is_none()
                    && k.max_properties.is_none()
                    && k.enumeration.is_none();
                if !plain {
                    return None;
                }
                quote!()
            }
            _ => return None,
        };
        Some(if nullable.is_empty() {
            inner
        } else {
            quote!(if let ::core::option::Option::Some(v) = (#expr).as_ref() { #inner })
        })
    }

    /// Whether node `id` maps to a scalar Rust type (typed `uniqueItems` compares with `==`).
    fn scalar(&self, id: NodeId) -> bool {
        let NodeKind::Keywords(k) = &self.set.node(self.resolve(id)).kind else {
            return false;
        };
        matches!(
            k.types.as_deref(),
            Some([JsonType::String] | [JsonType::Integer] | [JsonType::Boolean])
        )
    }

    /// Whether node `id` maps to `Option<T>` (a `["T", "null"]` type).
    fn nullable(&self, id: NodeId) -> bool {
        let NodeKind::Keywords(k) = &self.set.node(self.resolve(id)).kind else {
            return false;
        };
        let plain =
            k.all_of.is_empty() && k.any_of.is_empty() && k.one_of.is_empty() && k.not.is_none();
        plain
            && k.types.as_ref().is_some_and(|t| {
                t.len() == 2
                    && t.contains(&JsonType::Null)
                    && !t.iter().all(|x| *x == JsonType::Null)
            })
    }

    fn json() -> TokenStream {
        quote!(::tollgate::__codegen::schema::serde_json::Value)
    }

    /// The Rust type for node `id`; `hint` names a struct if one is needed.
    fn ty(&mut self, id: NodeId, hint: &str) -> TokenStream {
        // A reference to another model uses that model's type.
        if let NodeKind::Ref(t) = &self.set.node(id).kind {
            let target = self.resolve(*t);
            if let Some(model) = self
                .roots
                .get(&target)
                .or_else(|| self.roots.get(t))
                .cloned()
            {
                return self.ty_keywords(target, &model);
            }
        }
        let target = self.resolve(id);
        let hint = self
            .roots
            .get(&target)
            .cloned()
            .unwrap_or_else(|| hint.to_owned());
        self.ty_keywords(target, &hint)
    }

    fn ty_keywords(&mut self, id: NodeId, hint: &str) -> TokenStream {
        let NodeKind::Keywords(k) = &self.set.node(id).kind else {
            return Self::json();
        };
        if !k.all_of.is_empty() || !k.any_of.is_empty() || !k.one_of.is_empty() || k.not.is_some() {
            return Self::json();
        }
        let Some(types) = &k.types else {
            return Self::json();
        };
        let (nullable, rest): (Vec<_>, Vec<_>) = types.iter().partition(|t| **t == JsonType::Null);
        let base = match rest.as_slice() {
            [JsonType::String] => quote!(::tollgate::__codegen::schema::CompactString),
            [JsonType::Integer] => quote!(i64),
            [JsonType::Number] => quote!(f64),
            [JsonType::Boolean] => quote!(bool),
            [JsonType::Array] => match &k.items {
                Some(Items::All(item)) => {
                    let item_ty = self.ty(*item, &format!("{hint}Item"));
                    quote!(::std::vec::Vec<#item_ty>)
                }
                _ => quote!(::std::vec::Vec<::tollgate::__codegen::schema::serde_json::Value>),
            },
            [JsonType::Object] if !k.properties.is_empty() && k.pattern_properties.is_empty() => {
                let ident = self.struct_for(id, k, hint);
                if self.in_progress.contains(&id) {
                    quote!(::std::boxed::Box<#ident>)
                } else {
                    quote!(#ident)
                }
            }
            [JsonType::Object] => quote!(
                ::tollgate::__codegen::schema::serde_json::Map<::std::string::String, ::tollgate::__codegen::schema::serde_json::Value>
            ),
            _ => return Self::json(),
        };
        if nullable.is_empty() {
            base
        } else {
            quote!(::core::option::Option<#base>)
        }
    }

    fn struct_for(&mut self, id: NodeId, k: &Keywords, hint: &str) -> Ident {
        if let Some(existing) = self.structs.get(&id) {
            return existing.clone();
        }
        let mut name = upper_camel(hint);
        if name.is_empty() || name.starts_with(|c: char| c.is_ascii_digit()) {
            name.insert_str(0, "Model");
        }
        if self.roots.get(&id).map(|m| upper_camel(m)) != Some(name.clone()) {
            let base = name.clone();
            let mut n = 2;
            while self.taken.contains(&name) {
                name = format!("{base}{n}");
                n += 1;
            }
            self.taken.push(name.clone());
        }
        let ident = format_ident!("{}", name);
        self.structs.insert(id, ident.clone());
        self.in_progress.push(id);
        let mut used: Vec<String> = Vec::new();
        let mut fields: Vec<TokenStream> = Vec::new();
        let mut checks: Vec<TokenStream> = Vec::new();
        // Struct-level keywords a struct cannot express make the fast path unsure.
        let mut exact = k.pattern_properties.is_empty()
            && !matches!(k.additional_properties, Some(Additional::Schema(_)))
            && k.dependencies.is_empty()
            && k.min_properties.is_none()
            && k.max_properties.is_none()
            && k.enumeration.is_none()
            && k.required
                .iter()
                .all(|r| k.properties.iter().any(|(p, _)| p == r));
        for (prop, node) in &k.properties {
            let ty = self.ty(*node, &format!("{name}{}", upper_camel(prop)));
            let mut field = snake_case(prop);
            while used.contains(&field)
                || syn::parse_str::<Ident>(&field).is_err()
                || field == "self"
            {
                field.push('_');
            }
            used.push(field.clone());
            let ident = format_ident!("{}", field);
            let rename = (field != *prop).then(|| quote!(#[serde(rename = #prop)]));
            let required = k.required.iter().any(|r| r == prop);
            let nullable = self.nullable(*node);
            let check = if required || nullable {
                // Required, or already an `Option` (nullable): absent and null both read as None.
                fields.push(quote! {
                    #rename
                    pub #ident: #ty,
                });
                self.check(*node, quote!(&self.#ident))
            } else {
                // Optional and not nullable: absent is None, a present `null` is refused.
                fields.push(quote! {
                    #rename
                    #[serde(
                        default,
                        deserialize_with = "::tollgate::__codegen::schema::present",
                        skip_serializing_if = "::core::option::Option::is_none"
                    )]
                    pub #ident: ::core::option::Option<#ty>,
                });
                self.check(*node, quote!(v))
                    .map(|c| quote!(if let ::core::option::Option::Some(v) = &self.#ident { #c }))
            };
            match check {
                Some(c) => checks.push(c),
                None => exact = false,
            }
        }
        self.in_progress.retain(|n| *n != id);
        let doc = format!(" `{}`", self.set.node(id).location);
        let deny = matches!(k.additional_properties, Some(Additional::Forbidden))
            .then(|| quote!(#[serde(deny_unknown_fields)]));
        let s = quote!(::tollgate::__codegen::schema);
        let body = if exact {
            quote! {
                let mut unsure = false;
                #(#checks)*
                if unsure { #s::Checked::Unsure } else { #s::Checked::Valid }
            }
        } else {
            quote!(#s::Checked::Unsure)
        };
        self.items.push(quote! {
            #[doc = #doc]
            #[derive(::core::fmt::Debug, ::core::clone::Clone, ::core::cmp::PartialEq,
                     ::tollgate::__codegen::serde::Serialize, ::tollgate::__codegen::serde::Deserialize)]
            #[serde(crate = "::tollgate::__codegen::serde")]
            #deny
            pub struct #ident {
                #(#fields)*
            }

            impl #s::TypedCheck for #ident {
                const EXACT: bool = #exact;
                #[allow(unused_mut, unused_variables, clippy::all)]
                fn check(&self) -> #s::Checked {
                    #body
                }
            }
        });
        ident
    }
}
