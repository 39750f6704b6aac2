//! Access control's generated constants: authorizers, the resource policy, CORS
//! configurations and preflight answers, each route's `auth`, and the handler-trait methods
//! of custom authorizers. `&ir::Api → TokenStream`.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use tollgate_dsl::ir::{
    Api, AuthorizerKind, Cors, IdentityLocation, JwksLocation, Method, Route, RouteAuth,
};

/// The CORS configuration in force for `route`, if it answers CORS at all.
pub(crate) fn effective_cors<'a>(api: &'a Api, route: &'a Route) -> Option<&'a Cors> {
    route
        .cors
        .as_ref()
        .or(api.cors.as_ref())
        .filter(|c| !c.disabled)
}

/// The ident of the static holding `route`'s CORS configuration.
fn cors_ident(api: &Api, id: usize) -> proc_macro2::Ident {
    if api.routes[id].cors.is_some() {
        format_ident!("__TOLLGATE_CORS_{}", id)
    } else {
        format_ident!("__TOLLGATE_CORS_API")
    }
}

fn cors_static(ident: &proc_macro2::Ident, c: &Cors) -> TokenStream {
    let origins = c.allow_origins.iter().map(|o| o.value.as_str());
    let join = |list: &[tollgate_dsl::ir::Spanned<String>], lower: bool| -> String {
        list.iter()
            .map(|s| {
                if lower {
                    s.value.to_ascii_lowercase()
                } else {
                    s.value.to_ascii_uppercase()
                }
            })
            .collect::<Vec<_>>()
            .join(",")
    };
    let methods = join(&c.allow_methods, false);
    let headers = join(&c.allow_headers, true);
    let expose = join(&c.expose_headers, true);
    let max_age = match &c.max_age {
        Some(a) => {
            let v = a.value;
            quote!(::core::option::Option::Some(#v))
        }
        None => quote!(::core::option::Option::None),
    };
    let credentials = c.allow_credentials.as_ref().is_some_and(|b| b.value);
    let disabled = c.disabled;
    quote! {
        static #ident: ::tollgate::__codegen::CorsSpec = ::tollgate::__codegen::CorsSpec {
            allow_origins: &[#(#origins),*],
            allow_methods: #methods,
            allow_headers: #headers,
            expose_headers: #expose,
            max_age: #max_age,
            allow_credentials: #credentials,
            disabled: #disabled,
        };
    }
}

/// A resource whose `OPTIONS` the gateway answers: the first route id at that path.
pub(crate) struct Preflight {
    pub(crate) route: usize,
    pub(crate) methods: String,
}

/// The statics: authorizers, resource policy, CORS configurations, preflight answers.
pub(crate) fn statics(api: &Api, preflights: &[Preflight]) -> TokenStream {
    let authorizers = api.authorizers.iter().map(|a| {
        let name = &a.name.value;
        let kind = match &a.kind {
            AuthorizerKind::Token { validation, .. } => {
                let v = match validation {
                    Some(v) => {
                        let v = &v.value;
                        quote!(::core::option::Option::Some(#v))
                    }
                    None => quote!(::core::option::Option::None),
                };
                quote!(::tollgate::__codegen::AuthorizerKindSpec::Token { validation: #v })
            }
            AuthorizerKind::Request { .. } => {
                quote!(::tollgate::__codegen::AuthorizerKindSpec::Request)
            }
            AuthorizerKind::Jwt {
                issuer,
                audiences,
                jwks,
            } => {
                let issuer = &issuer.value;
                let audiences = audiences.iter().map(|a| a.value.as_str());
                let (file, uri) = match &jwks.value {
                    JwksLocation::File(f) => (
                        quote!(::core::option::Option::Some(#f)),
                        quote!(::core::option::Option::None),
                    ),
                    JwksLocation::Url(u) => (
                        quote!(::core::option::Option::None),
                        quote!(::core::option::Option::Some(#u)),
                    ),
                };
                quote!(::tollgate::__codegen::AuthorizerKindSpec::Jwt {
                    issuer: #issuer,
                    audiences: &[#(#audiences),*],
                    jwks_file: #file,
                    jwks_uri: #uri,
                })
            }
        };
        let sources = a.identity_sources.iter().map(|s| {
            let loc = match s.location {
                IdentityLocation::Header => quote!(Header),
                IdentityLocation::QueryString => quote!(QueryString),
                IdentityLocation::StageVariable => quote!(StageVariable),
                IdentityLocation::Context => quote!(Context),
            };
            // Header names are matched lower-case (http's HeaderMap).
            let name = if s.location == IdentityLocation::Header {
                s.name.to_ascii_lowercase()
            } else {
                s.name.clone()
            };
            quote!(::tollgate::__codegen::IdentitySourceSpec {
                location: ::tollgate::__codegen::IdentityLocation::#loc,
                name: #name,
            })
        });
        let ttl = if a.kind.handler().is_some() {
            a.ttl.value
        } else {
            0
        };
        quote!(::tollgate::__codegen::AuthorizerSpec {
            name: #name,
            kind: #kind,
            identity_sources: &[#(#sources),*],
            ttl_secs: #ttl,
        })
    });
    let policy = api.resource_policy.as_ref().map(|p| {
        let statements = p.statements.iter().map(|s| {
            let list = |l: &[tollgate_dsl::ir::Spanned<String>]| {
                let v = l.iter().map(|x| x.value.as_str());
                quote!(&[#(#v),*])
            };
            let allow = s.allow;
            let (resources, ips, not_ips, uas, refs, principals) = (
                list(&s.resources),
                list(&s.source_ips),
                list(&s.not_source_ips),
                list(&s.user_agents),
                list(&s.referers),
                list(&s.principals),
            );
            quote!(::tollgate::__codegen::StatementSpec {
                allow: #allow,
                resources: #resources,
                source_ips: #ips,
                not_source_ips: #not_ips,
                user_agents: #uas,
                referers: #refs,
                principals: #principals,
            })
        });
        quote! {
            static __TOLLGATE_RESOURCE_POLICY: ::tollgate::__codegen::ResourcePolicySpec =
                ::tollgate::__codegen::ResourcePolicySpec { statements: &[#(#statements),*] };
        }
    });
    let mut cors = Vec::new();
    if let Some(c) = &api.cors {
        cors.push(cors_static(&format_ident!("__TOLLGATE_CORS_API"), c));
    }
    for (id, r) in api.routes.iter().enumerate() {
        if let Some(c) = &r.cors {
            cors.push(cors_static(&format_ident!("__TOLLGATE_CORS_{}", id), c));
        }
    }
    let preflights = preflights.iter().map(|p| {
        let ident = cors_ident(api, p.route);
        let methods = &p.methods;
        quote!(::tollgate::__codegen::PreflightSpec { cors: &#ident, methods: #methods })
    });
    let n = preflights.len();
    quote! {
        static __TOLLGATE_AUTHORIZERS: &[::tollgate::__codegen::AuthorizerSpec] = &[#(#authorizers),*];
        #policy
        #(#cors)*
        static __TOLLGATE_PREFLIGHT: [::tollgate::__codegen::PreflightSpec; #n] = [#(#preflights),*];
    }
}

/// `ApiSpec.resource_policy` and `ApiSpec.cors`.
pub(crate) fn api_fields(api: &Api) -> (TokenStream, TokenStream) {
    let policy = if api.resource_policy.is_some() {
        quote!(::core::option::Option::Some(&__TOLLGATE_RESOURCE_POLICY))
    } else {
        quote!(::core::option::Option::None)
    };
    let cors = if api.cors.as_ref().is_some_and(|c| !c.disabled) {
        quote!(::core::option::Option::Some(&__TOLLGATE_CORS_API))
    } else {
        quote!(::core::option::Option::None)
    };
    (policy, cors)
}

/// `RouteSpec.auth` and `RouteSpec.cors` of route `id`.
pub(crate) fn route_fields(api: &Api, id: usize) -> (TokenStream, TokenStream) {
    let r = &api.routes[id];
    let auth = match &r.auth {
        None => quote!(::tollgate::__codegen::RouteAuthSpec::None),
        Some(RouteAuth::Iam(_)) => quote!(::tollgate::__codegen::RouteAuthSpec::Iam),
        Some(RouteAuth::Authorizer { name, scopes }) => {
            let index = api
                .authorizers
                .iter()
                .position(|a| a.name.value == name.value)
                .expect("checked: routes name declared authorizers");
            let scopes = scopes.iter().map(|s| s.value.as_str());
            quote!(::tollgate::__codegen::RouteAuthSpec::Authorizer { index: #index, scopes: &[#(#scopes),*] })
        }
    };
    let cors = if r.cors.is_some() {
        let ident = format_ident!("__TOLLGATE_CORS_{}", id);
        quote!(::core::option::Option::Some(&#ident))
    } else {
        quote!(::core::option::Option::None)
    };
    (auth, cors)
}

/// The authorization step generated for route `id`, if it has one: run before API keys and
/// throttling, as API Gateway does.
pub(crate) fn route_step(api: &Api, id: usize) -> Option<TokenStream> {
    let r = &api.routes[id];
    let custom = match &r.auth {
        Some(RouteAuth::Authorizer { name, .. }) => api
            .authorizers
            .iter()
            .find(|a| a.name.value == name.value)
            .and_then(|a| a.kind.handler()),
        _ => None,
    };
    match custom {
        Some(handler) => {
            let method = format_ident!("{}", handler.value);
            Some(quote! {
                ex.authorize_custom(#id, |input| self.handlers.#method(input)).await?;
            })
        }
        None if r.auth.is_some() || api.resource_policy.is_some() => Some(quote! {
            ex.authorize(#id).await?;
        }),
        None => None,
    }
}

/// The handler-trait methods of custom authorizers.
pub(crate) fn trait_methods(api: &Api) -> Vec<TokenStream> {
    api.authorizers
        .iter()
        .filter_map(|a| {
            let handler = a.kind.handler()?;
            let method = format_ident!("{}", handler.value);
            let doc = format!(
                " Authorizer `{}` ({}): decides who the caller is and what they may invoke. \
                 `Err(AuthorizerError::Unauthorized)` answers 401; a policy without a matching \
                 Allow answers 403.",
                a.name.value,
                a.kind.type_name().to_ascii_uppercase()
            );
            Some(quote! {
                #[doc = #doc]
                fn #method(
                    &self,
                    request: ::tollgate::__codegen::AuthorizerRequest,
                ) -> impl ::core::future::Future<
                    Output = ::core::result::Result<
                        ::tollgate::__codegen::AuthorizerResponse,
                        ::tollgate::__codegen::AuthorizerError,
                    >,
                > + ::core::marker::Send;
            })
        })
        .collect()
}

/// The comma-joined methods of a resource for its preflight answer (`OPTIONS` included).
pub(crate) fn preflight_methods(methods: &[Method]) -> String {
    let mut list: Vec<&str> = Vec::new();
    for m in methods {
        if *m == Method::Any {
            return "*".to_owned();
        }
        list.push(m.as_str());
    }
    list.push("OPTIONS");
    list.join(",")
}
