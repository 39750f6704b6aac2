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
use tollgate_dsl::schema::{Items, JsonType, Keywords, NodeId, NodeKind, SchemaSet};

use crate::api::{snake_case, upper_camel};

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
            [JsonType::String] => quote!(::std::string::String),
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
        let fields: Vec<TokenStream> = k
            .properties
            .iter()
            .map(|(prop, node)| {
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
                if k.required.iter().any(|r| r == prop) || self.nullable(*node) {
                    // Required, or already an `Option` (nullable): absent and null both read as None.
                    quote! {
                        #rename
                        pub #ident: #ty,
                    }
                } else {
                    quote! {
                        #rename
                        #[serde(default, skip_serializing_if = "::core::option::Option::is_none")]
                        pub #ident: ::core::option::Option<#ty>,
                    }
                }
            })
            .collect();
        self.in_progress.retain(|n| *n != id);
        let doc = format!(" `{}`", self.set.node(id).location);
        self.items.push(quote! {
            #[doc = #doc]
            #[derive(::core::fmt::Debug, ::core::clone::Clone, ::core::cmp::PartialEq,
                     ::tollgate::__codegen::serde::Serialize, ::tollgate::__codegen::serde::Deserialize)]
            #[serde(crate = "::tollgate::__codegen::serde")]
            pub struct #ident {
                #(#fields)*
            }
        });
        ident
    }
}
