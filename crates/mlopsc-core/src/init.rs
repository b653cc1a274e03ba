//! `mlopsc init`: a new project from one of the examples, or the CI workflow for an existing
//! project.
//!
//! The examples' specs and step code are embedded at compile time, so that an installed
//! mlopsc creates a project without this repository. A project is only ever created in an
//! empty (or absent) directory, and each file is created exclusively: init never overwrites.

use std::collections::BTreeMap;
use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};

use include_dir::{Dir, include_dir};

/// The example a new project starts from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
pub enum Template {
    /// A PyTorch image classifier with every section: the skin-lesion flagship.
    ImageClassifier,
    /// An XGBoost model on a CSV table: the churn example.
    Tabular,
    /// The fewest lines that compile: a small PyTorch image classifier.
    Minimal,
}

/// What an example contributes to a project: its spec and its step code directory.
struct Example {
    spec: &'static str,
    code: &'static Dir<'static>,
}

static SKIN_LESION_CODE: Dir<'static> =
    include_dir!("$CARGO_MANIFEST_DIR/../../examples/skin-lesion/code");
static CHURN_CODE: Dir<'static> =
    include_dir!("$CARGO_MANIFEST_DIR/../../examples/churn-tabular/code");
static MINIMAL_CODE: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/../../examples/minimal/code");

impl Template {
    /// The name as `--template` takes it.
    pub fn name(self) -> &'static str {
        match self {
            Template::ImageClassifier => "image-classifier",
            Template::Tabular => "tabular",
            Template::Minimal => "minimal",
        }
    }

    /// The example directory under `examples/` this template copies.
    pub fn example_dir(self) -> &'static str {
        match self {
            Template::ImageClassifier => "skin-lesion",
            Template::Tabular => "churn-tabular",
            Template::Minimal => "minimal",
        }
    }

    fn example(self) -> Example {
        match self {
            Template::ImageClassifier => Example {
                spec: include_str!("../../../examples/skin-lesion/mlops.yaml"),
                code: &SKIN_LESION_CODE,
            },
            Template::Tabular => Example {
                spec: include_str!("../../../examples/churn-tabular/mlops.yaml"),
                code: &CHURN_CODE,
            },
            Template::Minimal => Example {
                spec: include_str!("../../../examples/minimal/mlops.yaml"),
                code: &MINIMAL_CODE,
            },
        }
    }
}

/// The spec's first line: the schema is written next to the spec, so the editor finds it
/// without network and it always matches the mlopsc that created the project.
pub const SCHEMA_HEADER: &str = "# yaml-language-server: $schema=mlops.schema.json";
/// Where the CI workflow goes, relative to the project.
pub const WORKFLOW_PATH: &str = ".github/workflows/mlopsc.yml";
/// The spec file of a new project.
pub const SPEC_FILE: &str = "mlops.yaml";

const WORKFLOW_TEMPLATE: &str = include_str!("../../../templates/init/mlopsc.yml");
const README_TEMPLATE: &str = include_str!("../../../templates/init/README.md");
const GITIGNORE: &str = include_str!("../../../templates/init/gitignore");

/// Where `run --local`, `serve --local` and `registry --local` keep the local object store
/// and registry, relative to the project.
pub const LOCAL_WORKDIR: &str = ".mlopsc/local";

/// Where the minimal template's sample images go: its data source's prefix in the local
/// object store, so that the first `run --local` finds data with no `--data`.
const SAMPLE_IMAGES: &str = ".mlopsc/local/s3/minimal-data-0001/images";

/// Three classes a small network tells apart in one run: stripes across, stripes down and a
/// chequerboard, each in its own colour, with noise.
const SAMPLE_CLASSES: [(&str, [u8; 3]); 3] = [
    ("across", [200, 40, 40]),
    ("down", [40, 170, 60]),
    ("chequered", [40, 60, 200]),
];
const SAMPLES_PER_CLASS: usize = 30;
const SAMPLE_SIZE: usize = 32;

/// The minimal template's sample data set: [`SAMPLES_PER_CLASS`] images of each class as
/// binary PPM (which Pillow reads), the same bytes on every run.
fn sample_images(files: &mut BTreeMap<String, Vec<u8>>) {
    let mut state: u32 = 2024;
    for (class, (name, colour)) in SAMPLE_CLASSES.into_iter().enumerate() {
        for i in 0..SAMPLES_PER_CLASS {
            let mut bytes = format!("P6 {SAMPLE_SIZE} {SAMPLE_SIZE} 255\n").into_bytes();
            for pixel in 0..SAMPLE_SIZE * SAMPLE_SIZE {
                let (row, column) = (pixel / SAMPLE_SIZE / 4, pixel % SAMPLE_SIZE / 4);
                let lit = match class {
                    0 => row % 2 == 0,
                    1 => column % 2 == 0,
                    _ => (row + column) % 2 == 0,
                };
                for channel in colour {
                    state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                    let noise = i32::from((state >> 27) as u8) - 16;
                    let base = if lit { i32::from(channel) } else { 20 };
                    bytes.push((base + noise).clamp(0, 255) as u8);
                }
            }
            files.insert(format!("{SAMPLE_IMAGES}/{name}/{i:02}.ppm"), bytes);
        }
    }
}

/// How many sample images a template's project gets, and where (relative to it); `None` for
/// a template without sample data, whose first `run --local` names the `--data` to pass.
pub fn sample_data(template: Template) -> Option<(usize, &'static str)> {
    (template == Template::Minimal)
        .then_some((SAMPLE_CLASSES.len() * SAMPLES_PER_CLASS, SAMPLE_IMAGES))
}

/// The files of a new project, by path relative to its directory (`/`-separated).
pub fn project_files(template: Template, project: &str) -> BTreeMap<String, Vec<u8>> {
    let example = template.example();
    let mut files = BTreeMap::new();
    files.insert(
        SPEC_FILE.to_string(),
        with_schema_header(example.spec).into_bytes(),
    );
    files.insert(
        "mlops.schema.json".to_string(),
        crate::spec::schema::json_schema_text().into_bytes(),
    );
    add_code(example.code, &mut files);
    let readme = README_TEMPLATE
        .replace("@PROJECT@", project)
        .replace("@TEMPLATE@", template.name())
        .replace("@VERSION@", env!("CARGO_PKG_VERSION"));
    files.insert("README.md".to_string(), readme.into_bytes());
    files.insert(".gitignore".to_string(), GITIGNORE.as_bytes().to_vec());
    files.insert(
        WORKFLOW_PATH.to_string(),
        workflow(&[SPEC_FILE.to_string()]).into_bytes(),
    );
    if sample_data(template).is_some() {
        sample_images(&mut files);
    }
    files
}

/// The example's spec with the schema header in place of the repository-relative one.
fn with_schema_header(spec: &str) -> String {
    match spec.split_once('\n') {
        Some((first, rest)) if first.starts_with("# yaml-language-server:") => {
            format!("{SCHEMA_HEADER}\n{rest}")
        }
        _ => format!("{SCHEMA_HEADER}\n{spec}"),
    }
}

/// The step code under `code/`, skipping what `build` skips too (hidden files, Python
/// caches), which a developer's checkout may hold after a local run.
fn add_code(dir: &Dir<'static>, files: &mut BTreeMap<String, Vec<u8>>) {
    for file in dir.files() {
        if is_step_code(file.path()) {
            let relative = file.path().to_string_lossy().replace('\\', "/");
            files.insert(format!("code/{relative}"), file.contents().to_vec());
        }
    }
    for sub in dir.dirs() {
        if is_step_code(sub.path()) {
            add_code(sub, files);
        }
    }
}

fn is_step_code(path: &Path) -> bool {
    path.file_name()
        .map(|name| name.to_string_lossy())
        .is_some_and(|name| !name.starts_with('.') && name != "__pycache__")
}

/// The GitHub Actions workflow that checks each spec (paths relative to the repository root).
pub fn workflow(specs: &[String]) -> String {
    let list: Vec<String> = specs
        .iter()
        .map(|spec| format!("          - {}", yaml_scalar(spec)))
        .collect();
    WORKFLOW_TEMPLATE
        .replace("@VERSION@", env!("CARGO_PKG_VERSION"))
        .replace("@SPECS@", &list.join("\n"))
}

/// A path as a YAML plain scalar when it is one, else double-quoted.
fn yaml_scalar(text: &str) -> String {
    let plain = !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./".contains(c));
    if plain {
        text.to_string()
    } else {
        serde_json::to_string(text).unwrap_or_default()
    }
}

/// Directories that never hold a project's spec: build output, tools, dependencies.
const NOT_SEARCHED: [&str; 4] = ["target", "node_modules", "generated", "__pycache__"];
/// How deep below the repository root a spec is looked for.
const SEARCH_DEPTH: usize = 4;

/// Every `mlops.yaml` below `root`, relative to it and sorted, skipping hidden directories
/// and [`NOT_SEARCHED`].
pub fn find_specs(root: &Path) -> std::io::Result<Vec<String>> {
    let mut found = Vec::new();
    let mut pending = vec![(root.to_path_buf(), 0)];
    while let Some((dir, depth)) = pending.pop() {
        for entry in std::fs::read_dir(&dir)? {
            let entry = entry?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with('.') {
                continue;
            }
            let kind = entry.file_type()?;
            if kind.is_dir() && depth < SEARCH_DEPTH && !NOT_SEARCHED.contains(&name.as_str()) {
                pending.push((entry.path(), depth + 1));
            } else if kind.is_file() && name == SPEC_FILE {
                let path = entry.path();
                let relative = path.strip_prefix(root).unwrap_or(&path);
                let parts: Vec<String> = relative
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy().into_owned())
                    .collect();
                found.push(parts.join("/"));
            }
        }
    }
    found.sort();
    Ok(found)
}

/// Why init wrote nothing (or, for an I/O error midway, stopped).
#[derive(Debug)]
pub enum InitError {
    /// The project directory holds files: init never writes into them.
    NotEmpty { dir: PathBuf, entries: Vec<String> },
    /// The project directory is a file.
    NotADirectory(PathBuf),
    /// The workflow exists already.
    WorkflowExists(PathBuf),
    /// `--ci` found no spec to check.
    NoSpec(PathBuf),
    /// A directory or file that could not be read or written.
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// How many entries of a non-empty directory the error names.
const ENTRIES_SHOWN: usize = 10;

impl fmt::Display for InitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InitError::NotEmpty { dir, entries } => {
                let shown: Vec<&str> = entries
                    .iter()
                    .take(ENTRIES_SHOWN)
                    .map(String::as_str)
                    .collect();
                let more = entries.len().saturating_sub(ENTRIES_SHOWN);
                let more = if more > 0 {
                    format!(" and {more} more")
                } else {
                    String::new()
                };
                write!(
                    f,
                    "`{}` is not empty: it holds {}{more}",
                    dir.display(),
                    shown.join(", ")
                )
            }
            InitError::NotADirectory(dir) => write!(f, "`{}` is a file", dir.display()),
            InitError::WorkflowExists(path) => write!(f, "`{}` exists already", path.display()),
            InitError::NoSpec(dir) => write!(f, "no {SPEC_FILE} below `{}`", dir.display()),
            InitError::Io { path, source } => write!(f, "`{}`: {source}", path.display()),
        }
    }
}

impl InitError {
    /// What the user can do about it.
    pub fn help(&self) -> &'static str {
        match self {
            InitError::NotEmpty { .. } | InitError::NotADirectory(_) => {
                "name a new or empty directory; init never writes into existing files"
            }
            InitError::WorkflowExists(_) => {
                "init never overwrites a file: move it away to write it again"
            }
            InitError::NoSpec(_) => {
                "run it in the repository that holds your mlops.yaml, or create a project with `mlopsc init DIR`"
            }
            InitError::Io { .. } => "check the path and its permissions",
        }
    }
}

fn io_error(path: &Path) -> impl FnOnce(std::io::Error) -> InitError + '_ {
    move |source| InitError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Creates a project in `dir`, which must be absent or empty. Returns the files written.
/// A relative `dir` is in `cwd`; errors name it as given.
pub fn create_project(
    cwd: &Path,
    dir: &Path,
    template: Template,
) -> Result<Vec<String>, InitError> {
    let real = cwd.join(dir);
    if real.exists() {
        if !real.is_dir() {
            return Err(InitError::NotADirectory(dir.to_path_buf()));
        }
        let mut entries = Vec::new();
        for entry in std::fs::read_dir(&real).map_err(io_error(dir))? {
            let entry = entry.map_err(io_error(dir))?;
            entries.push(entry.file_name().to_string_lossy().into_owned());
        }
        if !entries.is_empty() {
            entries.sort();
            return Err(InitError::NotEmpty {
                dir: dir.to_path_buf(),
                entries,
            });
        }
    }
    let project = project_name(&real);
    let files = project_files(template, &project);
    for (relative, bytes) in &files {
        write_new(cwd, &dir.join(relative), bytes)?;
    }
    Ok(files.into_keys().collect())
}

/// The project's name for its README: the directory's own name.
fn project_name(dir: &Path) -> String {
    let absolute = std::path::absolute(dir).unwrap_or_else(|_| dir.to_path_buf());
    absolute
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_else(|| "mlops".to_string())
}

/// Adds the CI workflow to the project in `dir`; returns the workflow's path and the specs
/// it checks. A relative `dir` is in `cwd`; the path returned and errors are as given.
pub fn add_workflow(cwd: &Path, dir: &Path) -> Result<(PathBuf, Vec<String>), InitError> {
    let path = dir.join(WORKFLOW_PATH);
    let real = cwd.join(&path);
    if real.exists() || real.is_symlink() {
        return Err(InitError::WorkflowExists(path));
    }
    let specs = find_specs(&cwd.join(dir)).map_err(io_error(dir))?;
    if specs.is_empty() {
        return Err(InitError::NoSpec(dir.to_path_buf()));
    }
    write_new(cwd, &path, workflow(&specs).as_bytes())?;
    Ok((path, specs))
}

/// Creates `path` (in `cwd` if relative) and its parent directories; fails rather than
/// replace an existing file.
fn write_new(cwd: &Path, path: &Path, bytes: &[u8]) -> Result<(), InitError> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(cwd.join(parent)).map_err(io_error(parent))?;
    }
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(cwd.join(path))
        .map_err(io_error(path))?;
    file.write_all(bytes).map_err(io_error(path))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_schema_header_replaces_the_repository_relative_one() {
        let spec = "# yaml-language-server: $schema=../../specs/mlops.schema.json\napiVersion: mlopsc/v1\n";
        assert_eq!(
            with_schema_header(spec),
            format!("{SCHEMA_HEADER}\napiVersion: mlopsc/v1\n")
        );
        assert_eq!(
            with_schema_header("apiVersion: mlopsc/v1\n"),
            format!("{SCHEMA_HEADER}\napiVersion: mlopsc/v1\n")
        );
    }

    #[test]
    fn spec_paths_are_quoted_only_when_yaml_needs_it() {
        assert_eq!(
            yaml_scalar("examples/a-b/mlops.yaml"),
            "examples/a-b/mlops.yaml"
        );
        assert_eq!(yaml_scalar("my dir/mlops.yaml"), "\"my dir/mlops.yaml\"");
        assert_eq!(yaml_scalar("#x/mlops.yaml"), "\"#x/mlops.yaml\"");
    }

    #[test]
    fn hidden_files_and_python_caches_are_not_step_code() {
        assert!(is_step_code(Path::new("train.py")));
        assert!(is_step_code(Path::new("lib/util.py")));
        assert!(!is_step_code(Path::new("__pycache__")));
        assert!(!is_step_code(Path::new(".DS_Store")));
    }
}
