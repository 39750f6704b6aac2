//! User-facing errors: every problem is a `miette` diagnostic with a stable code, a label on the
//! exact span and a help line naming the fix. Front ends and checks *collect* into a [`Sink`];
//! the whole batch is reported at once as one [`Diagnostics`].

use crate::ir::Span;
use miette::{
    Diagnostic, GraphicalReportHandler, GraphicalTheme, LabeledSpan, MietteDiagnostic, NamedSource,
    Severity,
};
use std::fmt;
use std::sync::Arc;

/// Collects diagnostics while a front end or check runs.
#[derive(Debug, Default)]
pub struct Sink {
    items: Vec<MietteDiagnostic>,
}

impl Sink {
    /// An empty sink.
    pub fn new() -> Self {
        Sink::default()
    }

    /// Records an error: `code` is appended to `tollgate::`, the label sits on `span`.
    pub fn error(
        &mut self,
        code: &str,
        message: impl Into<String>,
        span: Span,
        label: impl Into<String>,
        help: impl Into<String>,
    ) {
        self.push(Severity::Error, code, message, span, label, help);
    }

    /// Records an error with several labels; the first is the primary one.
    pub fn error_with(
        &mut self,
        code: &str,
        message: impl Into<String>,
        labels: &[(Span, &str)],
        help: impl Into<String>,
    ) {
        let mut d = MietteDiagnostic::new(message)
            .with_code(format!("tollgate::{code}"))
            .with_severity(Severity::Error)
            .with_help(help);
        for (i, (span, text)) in labels.iter().enumerate() {
            let label =
                LabeledSpan::new_with_span(Some((*text).to_owned()), (span.offset, span.len));
            d = d.and_label(if i == 0 {
                LabeledSpan::new_primary_with_span(label.label().map(str::to_owned), *label.inner())
            } else {
                label
            });
        }
        self.items.push(d);
    }

    /// Records a warning; warnings never fail a build.
    pub fn warning(
        &mut self,
        code: &str,
        message: impl Into<String>,
        span: Span,
        label: impl Into<String>,
        help: impl Into<String>,
    ) {
        self.push(Severity::Warning, code, message, span, label, help);
    }

    fn push(
        &mut self,
        severity: Severity,
        code: &str,
        message: impl Into<String>,
        span: Span,
        label: impl Into<String>,
        help: impl Into<String>,
    ) {
        let help = help.into();
        let mut d = MietteDiagnostic::new(message)
            .with_code(format!("tollgate::{code}"))
            .with_severity(severity)
            .with_label(LabeledSpan::new_with_span(
                Some(label.into()),
                (span.offset, span.len),
            ));
        if !help.is_empty() {
            d = d.with_help(help);
        }
        self.items.push(d);
    }

    /// Adds an already-built diagnostic (used for the KDL parser's own errors).
    pub fn push_raw(&mut self, d: MietteDiagnostic) {
        self.items.push(d);
    }

    /// Whether any *error* (not warning) was recorded.
    pub fn has_errors(&self) -> bool {
        self.items
            .iter()
            .any(|d| d.severity.unwrap_or(Severity::Error) == Severity::Error)
    }

    /// Number of recorded diagnostics of any severity.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// Whether nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Turns the sink into a report over `source`.
    pub fn into_diagnostics(self, source: &Source) -> Diagnostics {
        Diagnostics {
            source: source.named(),
            items: self.items,
        }
    }
}

/// A source file: its display name, text, and the directory its relative paths (schema files)
/// are resolved against.
#[derive(Debug, Clone)]
pub struct Source {
    name: String,
    text: Arc<str>,
    base_dir: std::path::PathBuf,
}

impl Source {
    /// A source named `name` (usually the file path) with contents `text`.
    pub fn new(name: impl Into<String>, text: impl Into<Arc<str>>) -> Self {
        Source {
            name: name.into(),
            text: text.into(),
            base_dir: std::path::PathBuf::from("."),
        }
    }

    /// Resolve relative paths in the source against `dir`. Default: the current directory.
    pub fn with_base_dir(mut self, dir: impl Into<std::path::PathBuf>) -> Self {
        self.base_dir = dir.into();
        self
    }

    /// The directory relative paths are resolved against.
    pub fn base_dir(&self) -> &std::path::Path {
        &self.base_dir
    }

    /// The display name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The contents.
    pub fn text(&self) -> &str {
        &self.text
    }

    fn named(&self) -> NamedSource<String> {
        NamedSource::new(self.name.clone(), self.text.to_string()).with_language("kdl")
    }
}

/// Every diagnostic of one run over one source file, reported together.
///
/// `Display` gives a one-line summary; [`Diagnostics::render`] (and `Debug`, so that
/// `build.rs`'s `.unwrap()` shows it) draws each diagnostic with its source snippet.
pub struct Diagnostics {
    source: NamedSource<String>,
    items: Vec<MietteDiagnostic>,
}

impl Diagnostics {
    /// The individual diagnostics.
    pub fn items(&self) -> &[MietteDiagnostic] {
        &self.items
    }

    /// Number of errors (warnings excluded).
    pub fn error_count(&self) -> usize {
        self.items
            .iter()
            .filter(|d| d.severity.unwrap_or(Severity::Error) == Severity::Error)
            .count()
    }

    /// Whether this holds any error (rather than warnings only).
    pub fn has_errors(&self) -> bool {
        self.error_count() > 0
    }

    /// Renders every diagnostic with its source snippet: unicode art, no colour, 100 columns.
    /// Deterministic, so tests pin it.
    pub fn render(&self) -> String {
        self.render_with(GraphicalTheme::unicode_nocolor())
    }

    /// Renders with colours when `color` is set (for terminals).
    pub fn render_with(&self, theme: GraphicalTheme) -> String {
        let handler = GraphicalReportHandler::new_themed(theme)
            .with_width(100)
            .with_links(false);
        let mut out = String::new();
        for d in &self.items {
            let one = One {
                source: &self.source,
                inner: d,
            };
            // Rendering into a String cannot fail.
            let _ = handler.render_report(&mut out, &one);
        }
        out
    }
}

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let errors = self.error_count();
        let warnings = self.items.len() - errors;
        write!(
            f,
            "{}: {errors} error{}",
            self.source.name(),
            if errors == 1 { "" } else { "s" }
        )?;
        if warnings > 0 {
            write!(
                f,
                ", {warnings} warning{}",
                if warnings == 1 { "" } else { "s" }
            )?;
        }
        Ok(())
    }
}

impl fmt::Debug for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{self}")?;
        f.write_str(&self.render())
    }
}

impl std::error::Error for Diagnostics {}

impl Diagnostic for Diagnostics {
    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        Some(&self.source)
    }

    fn related<'a>(&'a self) -> Option<Box<dyn Iterator<Item = &'a dyn Diagnostic> + 'a>> {
        Some(Box::new(self.items.iter().map(|d| d as &dyn Diagnostic)))
    }
}

/// One diagnostic paired with the shared source, for rendering on its own.
struct One<'a> {
    source: &'a NamedSource<String>,
    inner: &'a MietteDiagnostic,
}

impl fmt::Debug for One<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.inner, f)
    }
}

impl fmt::Display for One<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self.inner, f)
    }
}

impl std::error::Error for One<'_> {}

impl Diagnostic for One<'_> {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.inner.code()
    }
    fn severity(&self) -> Option<Severity> {
        self.inner.severity()
    }
    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.inner.help()
    }
    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        self.inner.labels()
    }
    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        Some(self.source)
    }
}
