//! Diagnostics: one type for every problem mlopsc reports, and its three renderings.
//!
//! A [`Diagnostic`] carries a stable [`Code`], the byte span of the offending YAML and a help
//! line. Rendering is separate from detection so that the same list can be printed for people
//! (miette), for machines (`--format json`, an interface other tools read) or for GitHub
//! workflow annotations.

use std::fmt::Write as _;

use serde::Serialize;

use crate::span::Span;

/// Declares every diagnostic code once, as `/// summary` and the code: the enum, [`Code::ALL`],
/// the string form and the documentation page (`docs/diagnostics/<code>.md`, compiled in) are
/// generated from this one list, so a new code cannot miss any of them.
macro_rules! codes {
    ($($(#[doc = $summary:literal])+ $code:ident,)+) => {
        /// Every diagnostic code. The string form is stable: docs, tests and users' CI depend on it.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum Code {
            $($(#[doc = $summary])+ $code,)+
        }

        impl Code {
            /// Every code, in declaration order.
            pub const ALL: &'static [Code] = &[$(Code::$code),+];

            pub fn as_str(self) -> &'static str {
                match self {
                    $(Code::$code => stringify!($code),)+
                }
            }

            /// The documentation page, as shipped in `docs/diagnostics/` and compiled in for
            /// `mlopsc explain`.
            pub fn documentation(self) -> &'static str {
                match self {
                    $(Code::$code => include_str!(concat!("../../../docs/diagnostics/", stringify!($code), ".md")),)+
                }
            }
        }
    };
}

codes! {
    /// The file cannot be read: missing, a directory, or no permission.
    F001,
    /// The step code directory or a script it should hold is missing.
    F002,
    /// The YAML is malformed.
    Y001,
    /// A mapping repeats a key.
    Y002,
    /// The file holds no document.
    Y003,
    /// The file is not UTF-8.
    Y004,
    /// The YAML has more nodes than mlopsc reads.
    Y005,
    /// The YAML nests deeper than mlopsc reads.
    Y006,
    /// YAML aliases expand to more than mlopsc reads.
    Y007,
    /// A key the language does not know.
    S001,
    /// A required key is missing.
    S002,
    /// A value has the wrong type.
    S003,
    /// A value is not one of the allowed choices.
    S004,
    /// A value breaks a bound: minimum, maximum, length or pattern.
    S005,
    /// An environment overrides a key the language does not define, or one it may not change.
    S006,
    /// An S3 bucket name breaks S3's naming rules.
    N001,
    /// A resource name breaks its AWS naming rule or length.
    N002,
    /// A name is used twice.
    N003,
    /// An unknown SageMaker instance type.
    I001,
    /// The model needs a GPU instance.
    I002,
    /// Spot capacity where SageMaker does not support it.
    I003,
    /// Spot training without a checkpoint location.
    I004,
    /// Spot max wait shorter than max runtime.
    I005,
    /// A distribution strategy the instance type cannot run.
    I006,
    /// No AWS framework container for the framework version.
    I007,
    /// A threshold outside its metric's range.
    V001,
    /// Split ratios do not sum to 1.
    V002,
    /// A gate or monitor on a metric that evaluation does not compute.
    V003,
    /// A metric that does not fit the problem type or framework.
    V004,
    /// Inconsistent bounds: autoscaling min above max, tiering days out of order.
    V005,
    /// Normalization mean and std that do not match in length.
    V006,
    /// A monitoring setting that does not fit the monitoring kind (image or tabular).
    V007,
    /// The spec compiles to a stack larger than AWS accepts: too many resources, or a
    /// template too long.
    V008,
    /// A canary the new fleet cannot hold: more than half of its instances, or a fleet of one.
    V009,
    /// A rollback alarm that cannot fire while the canary alone serves the new model (a
    /// warning).
    V010,
    /// Captures that expire before their labels arrive, so model quality never sees them.
    V011,
    /// A per-class quality gate on a metric that has no per-class value.
    V012,
    /// An invalid EventBridge or Model Monitor schedule expression.
    X001,
    /// An invalid S3 URI.
    X002,
    /// An invalid email address.
    X003,
    /// An invalid ARN or AWS region.
    X004,
    /// A reference that does not resolve.
    R001,
    /// The step graph has a cycle.
    R002,
    /// A member that this kind of entry requires is missing, or one it forbids is present.
    R003,
    /// A feature that needs another part of the spec that is absent.
    R004,
    /// An environment takes its models from an environment in another region.
    R005,
    /// An override of an environment that takes its models from another: a training setting
    /// where nothing is trained (a warning).
    R006,
    /// A role of the generated template would be denied a request the system makes: a bug
    /// in mlopsc, found by the static access check before anything is written.
    A001,
}

impl Code {
    pub fn parse(text: &str) -> Option<Code> {
        Code::ALL
            .iter()
            .copied()
            .find(|c| c.as_str().eq_ignore_ascii_case(text.trim()))
    }
}

impl std::fmt::Display for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

/// One problem at one place.
#[derive(Clone, Debug, PartialEq)]
pub struct Diagnostic {
    pub code: Code,
    pub severity: Severity,
    pub message: String,
    pub span: Span,
    /// Text under the caret; the message is used when absent.
    pub label: Option<String>,
    pub help: Option<String>,
    /// Other places that explain the problem, each with its label; human output shows them,
    /// the machine formats carry only the primary location.
    pub secondary: Vec<(Span, String)>,
}

impl Diagnostic {
    pub fn error(code: Code, span: Span, message: impl Into<String>) -> Self {
        Diagnostic {
            code,
            severity: Severity::Error,
            message: message.into(),
            span,
            label: None,
            help: None,
            secondary: Vec::new(),
        }
    }

    pub fn with_secondary(mut self, span: Span, label: impl Into<String>) -> Self {
        self.secondary.push((span, label.into()));
        self
    }

    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    pub fn with_label(mut self, label: impl Into<String>) -> Self {
        self.label = Some(label.into());
        self
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

/// The file a list of diagnostics is about.
#[derive(Clone, Debug)]
pub struct SourceFile {
    /// The path as the user gave it; printed in every rendering.
    pub name: String,
    pub text: String,
}

impl SourceFile {
    /// 1-based line and column (in characters) of a byte offset. Lines end at `\n`, `\r\n`
    /// or a lone `\r`, as in YAML and in miette's snippets.
    pub fn line_column(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let before = self.text.as_bytes().get(..offset).unwrap_or_default();
        let mut line = 1;
        let mut line_start = 0;
        for (i, &b) in before.iter().enumerate() {
            let crlf = b == b'\r' && before.get(i + 1) == Some(&b'\n');
            if b == b'\n' || (b == b'\r' && !crlf) {
                line += 1;
                line_start = i + 1;
            }
        }
        let column = self
            .text
            .get(line_start..offset)
            .map(|s| s.chars().count())
            .unwrap_or(0)
            + 1;
        (line, column)
    }
}

/// How diagnostics are printed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
pub enum Format {
    /// Annotated source snippets for people (respects NO_COLOR).
    #[default]
    Human,
    /// `{"diagnostics": [...]}` for machines.
    Json,
    /// GitHub workflow-command annotations.
    Github,
}

/// Renders for people with miette: code, message, labelled snippet and help.
pub fn render_human(source: &SourceFile, diagnostics: &[Diagnostic], color: bool) -> String {
    let theme = if color {
        miette::GraphicalTheme::unicode()
    } else {
        miette::GraphicalTheme::unicode_nocolor()
    };
    let handler = miette::GraphicalReportHandler::new_themed(theme)
        .with_width(100)
        .with_links(false);
    let mut out = String::new();
    for diagnostic in diagnostics {
        let report = Report { diagnostic, source };
        // Writing into a String cannot fail.
        let _ = handler.render_report(&mut out, &report);
        out.push('\n');
    }
    out.push_str(&summary(diagnostics));
    out
}

fn summary(diagnostics: &[Diagnostic]) -> String {
    let errors = diagnostics.iter().filter(|d| d.is_error()).count();
    let warnings = diagnostics.len() - errors;
    let plural = |n: usize, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
    format!(
        "{}, {}\n",
        plural(errors, "error"),
        plural(warnings, "warning")
    )
}

#[derive(Serialize)]
struct JsonDiagnostic<'a> {
    code: &'static str,
    severity: Severity,
    message: &'a str,
    file: &'a str,
    line: usize,
    column: usize,
    help: Option<&'a str>,
}

#[derive(Serialize)]
struct JsonReport<'a> {
    diagnostics: Vec<JsonDiagnostic<'a>>,
}

/// Renders `{"diagnostics": [...]}`: the documented machine interface.
pub fn render_json(source: &SourceFile, diagnostics: &[Diagnostic]) -> String {
    let report = JsonReport {
        diagnostics: diagnostics
            .iter()
            .map(|d| {
                let (line, column) = source.line_column(d.span.start);
                JsonDiagnostic {
                    code: d.code.as_str(),
                    severity: d.severity,
                    message: &d.message,
                    file: &source.name,
                    line,
                    column,
                    help: d.help.as_deref(),
                }
            })
            .collect(),
    };
    let mut text = serde_json::to_string_pretty(&report).unwrap_or_default();
    text.push('\n');
    text
}

/// Renders GitHub workflow commands: `::error file=…,line=…,col=…,title=CODE::message`.
pub fn render_github(source: &SourceFile, diagnostics: &[Diagnostic]) -> String {
    let mut out = String::new();
    for d in diagnostics {
        let (line, column) = source.line_column(d.span.start);
        let command = match d.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        let mut message = d.message.clone();
        if let Some(help) = &d.help {
            message.push_str("\nhelp: ");
            message.push_str(help);
        }
        let _ = writeln!(
            out,
            "::{command} file={},line={line},col={column},title={}::{}",
            escape_property(&source.name),
            d.code,
            escape_data(&message)
        );
    }
    out
}

fn escape_data(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

fn escape_property(text: &str) -> String {
    escape_data(text).replace(':', "%3A").replace(',', "%2C")
}

pub fn render(
    format: Format,
    source: &SourceFile,
    diagnostics: &[Diagnostic],
    color: bool,
) -> String {
    match format {
        Format::Human => render_human(source, diagnostics, color),
        Format::Json => render_json(source, diagnostics),
        Format::Github => render_github(source, diagnostics),
    }
}

/// Adapts a [`Diagnostic`] to miette's trait for the graphical renderer.
struct Report<'a> {
    diagnostic: &'a Diagnostic,
    source: &'a SourceFile,
}

impl std::fmt::Debug for Report<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.diagnostic.message)
    }
}

impl std::fmt::Display for Report<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.diagnostic.message)
    }
}

impl std::error::Error for Report<'_> {}

impl miette::Diagnostic for Report<'_> {
    fn code<'b>(&'b self) -> Option<Box<dyn std::fmt::Display + 'b>> {
        Some(Box::new(self.diagnostic.code))
    }

    fn severity(&self) -> Option<miette::Severity> {
        Some(match self.diagnostic.severity {
            Severity::Error => miette::Severity::Error,
            Severity::Warning => miette::Severity::Warning,
        })
    }

    fn help<'b>(&'b self) -> Option<Box<dyn std::fmt::Display + 'b>> {
        self.diagnostic
            .help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn std::fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        // A file that could not be read (F001) or is empty has no snippet to show;
        // miette would otherwise draw an empty frame.
        if self.source.text.is_empty() {
            None
        } else {
            Some(self.source)
        }
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = miette::LabeledSpan> + '_>> {
        let label = self
            .diagnostic
            .label
            .clone()
            .unwrap_or_else(|| "here".to_string());
        let primary = miette::LabeledSpan::new_primary_with_span(Some(label), self.diagnostic.span);
        let secondary =
            self.diagnostic.secondary.iter().map(|(span, label)| {
                miette::LabeledSpan::new_with_span(Some(label.clone()), *span)
            });
        Some(Box::new(std::iter::once(primary).chain(secondary)))
    }
}

/// miette reads snippets from the file, but counts the column of the header in bytes; this
/// replaces it with the column in characters, which the JSON and GitHub renderings print.
impl miette::SourceCode for SourceFile {
    fn read_span<'a>(
        &'a self,
        span: &miette::SourceSpan,
        context_lines_before: usize,
        context_lines_after: usize,
    ) -> Result<Box<dyn miette::SpanContents<'a> + 'a>, miette::MietteError> {
        let contents =
            self.text
                .as_str()
                .read_span(span, context_lines_before, context_lines_after)?;
        // miette gives a column only for a snippet that starts on the span's own line.
        let column = if context_lines_before == 0 {
            self.line_column(span.offset()).1 - 1
        } else {
            contents.column()
        };
        Ok(Box::new(miette::MietteSpanContents::new_named(
            self.name.clone(),
            contents.data(),
            *contents.span(),
            contents.line(),
            column,
            contents.line_count(),
        )))
    }
}
