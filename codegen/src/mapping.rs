//! Specs for non-proxy `http` integrations, templated mocks and gateway responses: each
//! template becomes a render function (see `template.rs`), each mapping a constant.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use tollgate_dsl::ir::{
    Api, GatewayResponse, IntegrationResponse, Location, MappingSource, MappingTarget,
    MappingTemplate, ParameterMapping, Passthrough, Route, SegmentKind, UriPart,
};

use crate::template;

/// Collects render functions; each gets a unique name.
#[derive(Default)]
pub(crate) struct Templates {
    fns: Vec<TokenStream>,
    /// Integration-response arrays: `static`s, since their patterns cache a compiled regex
    /// (interior mutability cannot sit in a promoted constant).
    statics: Vec<TokenStream>,
}

impl Templates {
    fn spec(&mut self, t: &MappingTemplate) -> TokenStream {
        let name = format_ident!("__tollgate_template_{}", self.fns.len());
        self.fns
            .push(template::function(quote!(), &name, &t.template));
        let ct = t.content_type.value.to_ascii_lowercase();
        quote!(::tollgate::__codegen::TemplateSpec { content_type: #ct, render: #name })
    }

    fn specs(&mut self, ts: &[MappingTemplate]) -> TokenStream {
        let items: Vec<TokenStream> = ts.iter().map(|t| self.spec(t)).collect();
        quote!(&[#(#items),*])
    }

    /// The render functions, to place at module level.
    pub(crate) fn into_tokens(self) -> TokenStream {
        let (fns, statics) = (self.fns, self.statics);
        quote!(#(#fns)* #(#statics)*)
    }
}

fn passthrough(p: Passthrough) -> TokenStream {
    match p {
        Passthrough::WhenNoMatch => quote!(::tollgate::__codegen::Passthrough::WhenNoMatch),
        Passthrough::WhenNoTemplates => quote!(::tollgate::__codegen::Passthrough::WhenNoTemplates),
        Passthrough::Never => quote!(::tollgate::__codegen::Passthrough::Never),
    }
}

fn source(s: &MappingSource) -> TokenStream {
    let c = quote!(::tollgate::__codegen::MapSource);
    let opt = |p: &Option<String>| match p {
        Some(p) => quote!(::core::option::Option::Some(#p)),
        None => quote!(::core::option::Option::None),
    };
    match s {
        MappingSource::Static { value } => quote!(#c::Static(#value)),
        MappingSource::MethodRequest { location, name } => match location {
            Location::Path => quote!(#c::Path(#name)),
            Location::Querystring => quote!(#c::Query(#name)),
            Location::MultiQuerystring => quote!(#c::MultiQuery(#name)),
            Location::Header => {
                let n = name.to_ascii_lowercase();
                quote!(#c::Header(#n))
            }
            Location::MultiHeader => {
                let n = name.to_ascii_lowercase();
                quote!(#c::MultiHeader(#n))
            }
        },
        MappingSource::MethodRequestBody { path } => {
            let p = opt(path);
            quote!(#c::RequestBody(#p))
        }
        MappingSource::IntegrationResponseHeader { name, multi } => {
            let n = name.to_ascii_lowercase();
            if *multi {
                quote!(#c::ResponseMultiHeader(#n))
            } else {
                quote!(#c::ResponseHeader(#n))
            }
        }
        MappingSource::IntegrationResponseBody { path } => {
            let p = opt(path);
            quote!(#c::ResponseBody(#p))
        }
        MappingSource::StageVariable { name } => quote!(#c::StageVariable(#name)),
        MappingSource::Context { path } => quote!(#c::Context(&[#(#path),*])),
    }
}

fn header_mappings(ms: &[ParameterMapping]) -> TokenStream {
    let items = ms.iter().filter_map(|m| match &m.target.value {
        MappingTarget::MethodResponseHeader { name }
        | MappingTarget::GatewayResponseHeader { name } => {
            let n = name.to_ascii_lowercase();
            let s = source(&m.source.value);
            Some(quote!(::tollgate::__codegen::HeaderMapping { name: #n, source: #s }))
        }
        MappingTarget::IntegrationRequest { .. } => None,
    });
    quote!(&[#(#items),*])
}

fn responses(rs: &[IntegrationResponse], t: &mut Templates) -> TokenStream {
    let items: Vec<TokenStream> = rs
        .iter()
        .map(|r| {
            let status = r.status.value;
            let pattern = match &r.pattern {
                Some(p) => {
                    let p = &p.value;
                    quote!(::core::option::Option::Some(::tollgate::__codegen::Pattern::new(#p)))
                }
                None => quote!(::core::option::Option::None),
            };
            let headers = header_mappings(&r.parameters);
            let templates = t.specs(&r.templates);
            quote!(::tollgate::__codegen::ResponseSpec { status: #status, pattern: #pattern, headers: #headers, templates: #templates })
        })
        .collect();
    let ident = format_ident!("__TOLLGATE_RESPONSES_{}", t.statics.len());
    let n = items.len();
    t.statics
        .push(quote!(static #ident: [::tollgate::__codegen::ResponseSpec; #n] = [#(#items),*];));
    quote!(&#ident)
}

/// The static spec of route `id`'s `http` integration or templated mock, if it has one.
pub(crate) fn integration_spec(
    api: &Api,
    id: usize,
    r: &Route,
    t: &mut Templates,
) -> Option<TokenStream> {
    use tollgate_dsl::ir::Integration;
    match &r.integration {
        Integration::Mock {
            passthrough: p,
            request_templates,
            responses: rs,
            ..
        } if !rs.is_empty() => {
            let ident = format_ident!("__TOLLGATE_MOCK_TEMPLATE_{}", id);
            let p = passthrough(*p);
            let req = t.specs(request_templates);
            let rs = responses(rs, t);
            Some(quote! {
                static #ident: ::tollgate::__codegen::MockTemplateSpec = ::tollgate::__codegen::MockTemplateSpec {
                    passthrough: #p,
                    request_templates: #req,
                    responses: #rs,
                };
            })
        }
        Integration::Http {
            uri,
            http_method,
            timeout_ms,
            passthrough: p,
            parameters,
            request_templates,
            responses: rs,
            ..
        } => {
            let ident = format_ident!("__TOLLGATE_HTTP_{}", id);
            let timeout = timeout_ms.as_ref().map(|t| t.value).unwrap_or_else(|| {
                api.flavor
                    .default_timeout_ms()
                    .min(api.max_integration_timeout_ms.value)
            });
            let mapped = |name: &str| {
                parameters.iter().any(|m| {
                    matches!(&m.target.value, MappingTarget::IntegrationRequest { location: Location::Path, name: n } if n == name)
                })
            };
            let parts = uri.value.parts.iter().map(|p| match p {
                UriPart::Literal(l) => quote!(::tollgate::__codegen::UriPart::Literal(#l)),
                UriPart::StageVariable(v) => quote!(::tollgate::__codegen::UriPart::StageVariable(#v)),
                UriPart::PathParam(name) if mapped(name) => quote!(::tollgate::__codegen::UriPart::Mapped(#name)),
                UriPart::PathParam(name) => {
                    let found = r.path.segments.iter().enumerate().find(|(_, s)| {
                        matches!(&s.kind, SegmentKind::Param { name: n, .. } | SegmentKind::Greedy { name: n } if n == name)
                    });
                    match found {
                        Some((i, s)) if matches!(s.kind, SegmentKind::Greedy { .. }) => {
                            quote!(::tollgate::__codegen::UriPart::Tail(#i))
                        }
                        Some((i, _)) => quote!(::tollgate::__codegen::UriPart::Segment(#i)),
                        None => quote!(::tollgate::__codegen::UriPart::Mapped(#name)),
                    }
                }
            });
            let method = match http_method {
                Some(m) => {
                    let m = &m.value;
                    quote!(::core::option::Option::Some(#m))
                }
                None => quote!(::core::option::Option::None),
            };
            let p = passthrough(*p);
            let params = parameters.iter().filter_map(|m| {
                let MappingTarget::IntegrationRequest { location, name } = &m.target.value else {
                    return None;
                };
                let target = match location {
                    Location::Path => quote!(::tollgate::__codegen::MapTarget::Path(#name)),
                    Location::Querystring | Location::MultiQuerystring => {
                        quote!(::tollgate::__codegen::MapTarget::Query(#name))
                    }
                    Location::Header | Location::MultiHeader => {
                        let n = name.to_ascii_lowercase();
                        quote!(::tollgate::__codegen::MapTarget::Header(#n))
                    }
                };
                let s = source(&m.source.value);
                Some(quote!(::tollgate::__codegen::RequestMapping { target: #target, source: #s }))
            });
            let req = t.specs(request_templates);
            let rs = responses(rs, t);
            Some(quote! {
                static #ident: ::tollgate::__codegen::HttpSpec = ::tollgate::__codegen::HttpSpec {
                    uri: &[#(#parts),*],
                    method: #method,
                    timeout_ms: #timeout,
                    passthrough: #p,
                    parameters: &[#(#params),*],
                    request_templates: #req,
                    responses: #rs,
                };
            })
        }
        _ => None,
    }
}

/// `&[GatewayResponseSpec …]` for the API.
pub(crate) fn gateway_responses(gs: &[GatewayResponse], t: &mut Templates) -> TokenStream {
    let items: Vec<TokenStream> = gs
        .iter()
        .map(|g| {
            let kind = &g.kind.value;
            let status = match &g.status {
                Some(s) => {
                    let s = s.value;
                    quote!(::core::option::Option::Some(#s))
                }
                None => quote!(::core::option::Option::None),
            };
            let headers = header_mappings(&g.parameters);
            let templates = t.specs(&g.templates);
            quote!(::tollgate::__codegen::GatewayResponseSpec { kind: #kind, status: #status, headers: #headers, templates: #templates })
        })
        .collect();
    quote!(&[#(#items),*])
}
