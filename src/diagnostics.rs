//! Diagnostics: one type for every problem mlopsc reports, and its three renderings.
//!
//! A [`Diagnostic`] carries a stable [`Code`], the byte span of the offending YAML and a help
//! line. Rendering is separate from detection so that the same list can be printed for people
//! (miette), for machines (`--format json`, an interface other tools read) or for GitHub
//! workflow annotations.

use std::fmt::Write as _;

use serde::Serialize;

use crate::span::Span;

/// Every diagnostic code. The string form is stable: docs, tests and users' CI depend on it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Code {
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
    /// A role of the generated template would be denied a request the system makes: a bug
    /// in mlopsc, found by the static access check before anything is written.
    A001,
}

impl Code {
    pub const ALL: &'static [Code] = &[
        Code::F001,
        Code::F002,
        Code::Y001,
        Code::Y002,
        Code::Y003,
        Code::Y004,
        Code::Y005,
        Code::Y006,
        Code::Y007,
        Code::S001,
        Code::S002,
        Code::S003,
        Code::S004,
        Code::S005,
        Code::N001,
        Code::N002,
        Code::N003,
        Code::I001,
        Code::I002,
        Code::I003,
        Code::I004,
        Code::I005,
        Code::I006,
        Code::I007,
        Code::V001,
        Code::V002,
        Code::V003,
        Code::V004,
        Code::V005,
        Code::V006,
        Code::V007,
        Code::X001,
        Code::X002,
        Code::X003,
        Code::X004,
        Code::R001,
        Code::R002,
        Code::R003,
        Code::R004,
        Code::A001,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Code::F001 => "F001",
            Code::F002 => "F002",
            Code::Y001 => "Y001",
            Code::Y002 => "Y002",
            Code::Y003 => "Y003",
            Code::Y004 => "Y004",
            Code::Y005 => "Y005",
            Code::Y006 => "Y006",
            Code::Y007 => "Y007",
            Code::S001 => "S001",
            Code::S002 => "S002",
            Code::S003 => "S003",
            Code::S004 => "S004",
            Code::S005 => "S005",
            Code::N001 => "N001",
            Code::N002 => "N002",
            Code::N003 => "N003",
            Code::I001 => "I001",
            Code::I002 => "I002",
            Code::I003 => "I003",
            Code::I004 => "I004",
            Code::I005 => "I005",
            Code::I006 => "I006",
            Code::I007 => "I007",
            Code::V001 => "V001",
            Code::V002 => "V002",
            Code::V003 => "V003",
            Code::V004 => "V004",
            Code::V005 => "V005",
            Code::V006 => "V006",
            Code::V007 => "V007",
            Code::X001 => "X001",
            Code::X002 => "X002",
            Code::X003 => "X003",
            Code::X004 => "X004",
            Code::R001 => "R001",
            Code::R002 => "R002",
            Code::R003 => "R003",
            Code::R004 => "R004",
            Code::A001 => "A001",
        }
    }

    pub fn parse(text: &str) -> Option<Code> {
        Code::ALL
            .iter()
            .copied()
            .find(|c| c.as_str().eq_ignore_ascii_case(text.trim()))
    }

    /// The documentation page, as shipped in `docs/diagnostics/` and compiled in for
    /// `mlopsc explain`.
    pub fn documentation(self) -> &'static str {
        match self {
            Code::F001 => include_str!("../docs/diagnostics/F001.md"),
            Code::F002 => include_str!("../docs/diagnostics/F002.md"),
            Code::Y001 => include_str!("../docs/diagnostics/Y001.md"),
            Code::Y002 => include_str!("../docs/diagnostics/Y002.md"),
            Code::Y003 => include_str!("../docs/diagnostics/Y003.md"),
            Code::Y004 => include_str!("../docs/diagnostics/Y004.md"),
            Code::Y005 => include_str!("../docs/diagnostics/Y005.md"),
            Code::Y006 => include_str!("../docs/diagnostics/Y006.md"),
            Code::Y007 => include_str!("../docs/diagnostics/Y007.md"),
            Code::S001 => include_str!("../docs/diagnostics/S001.md"),
            Code::S002 => include_str!("../docs/diagnostics/S002.md"),
            Code::S003 => include_str!("../docs/diagnostics/S003.md"),
            Code::S004 => include_str!("../docs/diagnostics/S004.md"),
            Code::S005 => include_str!("../docs/diagnostics/S005.md"),
            Code::N001 => include_str!("../docs/diagnostics/N001.md"),
            Code::N002 => include_str!("../docs/diagnostics/N002.md"),
            Code::N003 => include_str!("../docs/diagnostics/N003.md"),
            Code::I001 => include_str!("../docs/diagnostics/I001.md"),
            Code::I002 => include_str!("../docs/diagnostics/I002.md"),
            Code::I003 => include_str!("../docs/diagnostics/I003.md"),
            Code::I004 => include_str!("../docs/diagnostics/I004.md"),
            Code::I005 => include_str!("../docs/diagnostics/I005.md"),
            Code::I006 => include_str!("../docs/diagnostics/I006.md"),
            Code::I007 => include_str!("../docs/diagnostics/I007.md"),
            Code::V001 => include_str!("../docs/diagnostics/V001.md"),
            Code::V002 => include_str!("../docs/diagnostics/V002.md"),
            Code::V003 => include_str!("../docs/diagnostics/V003.md"),
            Code::V004 => include_str!("../docs/diagnostics/V004.md"),
            Code::V005 => include_str!("../docs/diagnostics/V005.md"),
            Code::V006 => include_str!("../docs/diagnostics/V006.md"),
            Code::V007 => include_str!("../docs/diagnostics/V007.md"),
            Code::X001 => include_str!("../docs/diagnostics/X001.md"),
            Code::X002 => include_str!("../docs/diagnostics/X002.md"),
            Code::X003 => include_str!("../docs/diagnostics/X003.md"),
            Code::X004 => include_str!("../docs/diagnostics/X004.md"),
            Code::R001 => include_str!("../docs/diagnostics/R001.md"),
            Code::R002 => include_str!("../docs/diagnostics/R002.md"),
            Code::R003 => include_str!("../docs/diagnostics/R003.md"),
            Code::R004 => include_str!("../docs/diagnostics/R004.md"),
            Code::A001 => include_str!("../docs/diagnostics/A001.md"),
        }
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
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
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
