//! Spans between the two worlds: the IR holds byte ranges ([`ir::Span`]), the compiler wants
//! `proc_macro2::Span`s. Each spanned token gets a range of its own in a virtual source, so any
//! label a check puts inside that range (sub-spans of a path literal included) maps back to the
//! token. The IR itself never holds a `syn` type.

use proc_macro2::Span;
use tollgate_dsl::ir;

/// Virtual byte ranges, each standing for one token's span.
#[derive(Default)]
pub(crate) struct SpanMap {
    entries: Vec<(usize, usize, Span)>,
    next: usize,
}

impl SpanMap {
    /// A range of `len` bytes (at least one) standing for `span`.
    pub(crate) fn add(&mut self, span: Span, len: usize) -> ir::Span {
        let len = len.max(1);
        let offset = self.next;
        // A gap between ranges, so an empty label at a range's end still maps to it.
        self.next += len + 1;
        self.entries.push((offset, len, span));
        ir::Span::new(offset, len)
    }

    /// A range for a one-token item (an identifier, a number).
    pub(crate) fn token(&mut self, span: Span) -> ir::Span {
        self.add(span, 1)
    }

    /// A range as long as the string literal's source text (quotes included), so sub-spans of
    /// its contents stay inside it.
    pub(crate) fn lit(&mut self, lit: &syn::LitStr) -> ir::Span {
        self.add(lit.span(), lit.token().to_string().len())
    }

    /// The token a label at `offset` points into.
    pub(crate) fn find(&self, offset: usize) -> Option<Span> {
        let i = self.entries.partition_point(|(o, _, _)| *o <= offset);
        let (o, len, span) = self.entries.get(i.checked_sub(1)?)?;
        (offset <= o + len).then_some(*span)
    }
}
