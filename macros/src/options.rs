//! Attribute arguments as a small tree: `name`, `name = value`, `name(…)`, positional strings and
//! paths. `TokenStream → Vec<Opt>`; the readers in [`crate::model`] give each name a meaning.

use proc_macro2::{Span, TokenStream};
use syn::parse::{Parse, ParseStream, Parser};
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::{Ident, Lit, LitStr, Token};

/// One entry of an attribute's argument list.
pub(crate) enum Opt {
    /// A positional string: `"/pets/{id}"`.
    Str(LitStr),
    /// `name`, `name = value` or `name(…)`.
    Named {
        /// The option's name.
        name: Ident,
        /// What follows it.
        value: OptValue,
    },
    /// A path with `::`: `models::NewPet`.
    Path(syn::Path),
}

/// What follows an option's name.
pub(crate) enum OptValue {
    /// Nothing: a flag such as `api_key_required`.
    Flag,
    /// `= literal` (a leading `-` is kept in `negative`).
    Lit {
        /// The literal.
        lit: Lit,
        /// Whether it was written with a leading `-`.
        negative: bool,
    },
    /// `( … )`.
    List(Vec<Opt>),
}

impl Parse for Opt {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        if input.peek(LitStr) {
            return Ok(Opt::Str(input.parse()?));
        }
        // `type = "jwt"`: a keyword as an option name.
        let name = if input.peek(Token![type]) {
            let kw: Token![type] = input.parse()?;
            Ident::new("type", kw.span)
        } else {
            let path = syn::Path::parse_mod_style(input)?;
            match path.get_ident() {
                Some(name) => name.clone(),
                None => return Ok(Opt::Path(path)),
            }
        };
        if input.peek(Token![=]) {
            input.parse::<Token![=]>()?;
            let negative = input.peek(Token![-]);
            if negative {
                input.parse::<Token![-]>()?;
            }
            let lit: Lit = input.parse()?;
            return Ok(Opt::Named {
                name,
                value: OptValue::Lit { lit, negative },
            });
        }
        if input.peek(syn::token::Paren) {
            let content;
            syn::parenthesized!(content in input);
            let items = Punctuated::<Opt, Token![,]>::parse_terminated(&content)?;
            return Ok(Opt::Named {
                name,
                value: OptValue::List(items.into_iter().collect()),
            });
        }
        Ok(Opt::Named {
            name,
            value: OptValue::Flag,
        })
    }
}

/// Parses an attribute's arguments.
pub(crate) fn parse(tokens: TokenStream) -> syn::Result<Vec<Opt>> {
    Punctuated::<Opt, Token![,]>::parse_terminated
        .parse2(tokens)
        .map(|p| p.into_iter().collect())
}

impl Opt {
    /// The span of the whole entry's name (or of the literal/path).
    pub(crate) fn span(&self) -> Span {
        match self {
            Opt::Str(s) => s.span(),
            Opt::Named { name, .. } => name.span(),
            Opt::Path(p) => p.span(),
        }
    }
}

/// Collects errors while reading options; one error per mistake.
#[derive(Default)]
pub(crate) struct Errors(Option<syn::Error>);

impl Errors {
    /// Records an error at `span`.
    pub(crate) fn at(&mut self, span: Span, message: impl std::fmt::Display) {
        self.push(syn::Error::new(span, message));
    }

    /// Records an error.
    pub(crate) fn push(&mut self, e: syn::Error) {
        match &mut self.0 {
            Some(all) => all.combine(e),
            None => self.0 = Some(e),
        }
    }

    /// Whether nothing was recorded.
    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_none()
    }

    /// The errors as `compile_error!`s.
    pub(crate) fn into_tokens(self) -> TokenStream {
        self.0.map(|e| e.to_compile_error()).unwrap_or_default()
    }

    /// `unknown option `x` in `where``, with a "did you mean" among `expected`.
    pub(crate) fn unknown(&mut self, name: &Ident, place: &str, expected: &[&str]) {
        let n = name.to_string();
        let hint = match tollgate_dsl::kdl::closest(&n, expected) {
            Some(c) => format!("did you mean `{c}`? "),
            None => String::new(),
        };
        self.at(
            name.span(),
            format!(
                "unknown option `{n}` in {place}\nhelp: {hint}{place} accepts: {}",
                expected.join(", ")
            ),
        );
    }
}

/// `= "text"`.
pub(crate) fn string(name: &Ident, value: &OptValue, errors: &mut Errors) -> Option<LitStr> {
    match value {
        OptValue::Lit {
            lit: Lit::Str(s),
            negative: false,
        } => Some(s.clone()),
        _ => {
            errors.at(
                name.span(),
                format!("`{name}` takes a string: `{name} = \"…\"`"),
            );
            None
        }
    }
}

/// `= 42` (a non-negative integer), with the literal's span.
pub(crate) fn integer(name: &Ident, value: &OptValue, errors: &mut Errors) -> Option<(u64, Span)> {
    match value {
        OptValue::Lit {
            lit: Lit::Int(i),
            negative: false,
        } => match i.base10_parse::<u64>() {
            Ok(v) => Some((v, i.span())),
            Err(e) => {
                errors.push(e);
                None
            }
        },
        OptValue::Lit {
            lit,
            negative: true,
        } => {
            errors.at(lit.span(), format!("`{name}` cannot be negative"));
            None
        }
        _ => {
            errors.at(
                name.span(),
                format!("`{name}` takes a non-negative integer: `{name} = 10`"),
            );
            None
        }
    }
}

/// `= 1.5` or `= 2` (any number), with the literal's span.
pub(crate) fn number(name: &Ident, value: &OptValue, errors: &mut Errors) -> Option<(f64, Span)> {
    let (lit, negative) = match value {
        OptValue::Lit { lit, negative } => (lit, *negative),
        _ => {
            errors.at(
                name.span(),
                format!("`{name}` takes a number: `{name} = 10`"),
            );
            return None;
        }
    };
    let v = match lit {
        Lit::Int(i) => i.base10_parse::<f64>(),
        Lit::Float(f) => f.base10_parse::<f64>(),
        _ => {
            errors.at(lit.span(), format!("`{name}` takes a number"));
            return None;
        }
    };
    match v {
        Ok(v) => Some((if negative { -v } else { v }, lit.span())),
        Err(e) => {
            errors.push(e);
            None
        }
    }
}

/// `= true|false`, or a bare flag (`true`).
pub(crate) fn boolean(name: &Ident, value: &OptValue, errors: &mut Errors) -> Option<(bool, Span)> {
    match value {
        OptValue::Flag => Some((true, name.span())),
        OptValue::Lit {
            lit: Lit::Bool(b),
            negative: false,
        } => Some((b.value, b.span())),
        _ => {
            errors.at(name.span(), format!("`{name}` takes `true` or `false`"));
            None
        }
    }
}

/// `(…)`: the nested entries.
pub(crate) fn list<'a>(
    name: &Ident,
    value: &'a OptValue,
    example: &str,
    errors: &mut Errors,
) -> Option<&'a [Opt]> {
    match value {
        OptValue::List(items) => Some(items),
        _ => {
            errors.at(name.span(), format!("`{name}` takes a list: `{example}`"));
            None
        }
    }
}
