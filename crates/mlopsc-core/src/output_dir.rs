//! The output directory of `build`: what mlopsc may replace in it, and how it is replaced.
//!
//! mlopsc owns exactly the files that the directory's previous `manifest.json` lists (and the
//! manifest itself). Anything else in the directory is the user's: a build refuses to touch a
//! directory that holds such files, before writing anything, rather than delete them. The
//! new files are written to a sibling directory that is renamed into place, so the directory
//! is either untouched or complete; it keeps its mode and owner.

use std::collections::BTreeSet;
use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

use crate::emit::{Artifacts, MANIFEST};
use crate::suggest::plural;

/// How many foreign files an error names before it only counts the rest.
const NAMED_FOREIGN_FILES: usize = 20;

/// An output directory, inspected: where it really is and what in it mlopsc wrote.
#[derive(Debug)]
pub struct OutputDir {
    /// The directory as the user named it, for messages.
    shown: PathBuf,
    /// The directory itself, with a symlink to it followed, so that the link stays a link.
    path: PathBuf,
    /// Whether the directory exists.
    exists: bool,
    /// Every entry below the directory, relative, `/`-separated; directories end in `/`.
    entries: Vec<Entry>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Entry {
    relative: String,
    /// Listed in the previous manifest (or a directory holding only such files).
    owned: bool,
    is_dir: bool,
    /// A directory with nothing in it: foreign, and named, as no file below it speaks for it.
    empty: bool,
}

/// How a directory differs from the artifacts: files that differ, are missing, or are extra.
#[derive(Debug, PartialEq, Eq)]
pub enum Difference {
    Changed(String),
    Missing(String),
    Extra(String),
}

/// What [`OutputDir::replace_keeping`] did.
#[derive(Debug, PartialEq, Eq)]
pub enum Replaced {
    /// The directory already held exactly the artifacts: nothing was written.
    Unchanged,
    /// The directory was replaced. `left_behind` holds anything mlopsc did not delete (a
    /// file that appeared during the build), which the caller reports.
    Written { left_behind: Vec<PathBuf> },
}

/// Why a build may not write to a directory, or could not.
#[derive(Debug)]
pub enum OutputError {
    /// The path exists and is not a directory (a regular file, a device, …).
    NotADirectory(PathBuf),
    /// The path is a symlink to nothing.
    DanglingLink(PathBuf),
    /// The filesystem root, the home directory or one of its ancestors: never an output.
    Protected(PathBuf),
    /// The directory holds files that mlopsc did not write.
    ForeignFiles {
        dir: PathBuf,
        files: Vec<String>,
    },
    /// A subdirectory holds an environment's build (its own manifest) of an environment the
    /// spec no longer declares: mlopsc does not guess whether it is still wanted.
    StaleEnvironment {
        dir: PathBuf,
        name: String,
    },
    Io {
        path: PathBuf,
        source: io::Error,
    },
}

impl fmt::Display for OutputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OutputError::NotADirectory(path) => {
                write!(f, "`{}` exists and is not a directory", path.display())
            }
            OutputError::DanglingLink(path) => write!(
                f,
                "`{}` is a symbolic link to a path that does not exist",
                path.display()
            ),
            OutputError::Protected(path) => write!(
                f,
                "refusing to write artifacts to `{}`: it is the filesystem root or your home directory",
                path.display()
            ),
            OutputError::ForeignFiles { dir, files } => {
                write!(
                    f,
                    "refusing to write to `{}`: it holds {} not written by mlopsc (not in its manifest.json):",
                    dir.display(),
                    plural(files.len(), "file")
                )?;
                for file in files.iter().take(NAMED_FOREIGN_FILES) {
                    write!(f, "\n  {file}")?;
                }
                if files.len() > NAMED_FOREIGN_FILES {
                    write!(f, "\n  … and {} more", files.len() - NAMED_FOREIGN_FILES)?;
                }
                Ok(())
            }
            OutputError::StaleEnvironment { dir, name } => write!(
                f,
                "refusing to write to `{}`: its subdirectory `{name}/` is the build of an environment `{name}` the spec no longer declares",
                dir.display()
            ),
            OutputError::Io { path, source } => write!(f, "`{}`: {source}", path.display()),
        }
    }
}

impl OutputError {
    /// One line telling the user what to do.
    pub fn help(&self) -> &'static str {
        match self {
            OutputError::NotADirectory(_) | OutputError::DanglingLink(_) => {
                "pass a directory with -o, or a path that does not exist yet"
            }
            OutputError::Protected(_) => {
                "pass a directory of its own with -o, such as generated/<project>"
            }
            OutputError::ForeignFiles { .. } => {
                "move those files elsewhere, or pass an empty or new directory with -o; nothing was written"
            }
            OutputError::StaleEnvironment { .. } => {
                "delete that subdirectory yourself if the environment is gone, or declare it again; nothing was written"
            }
            OutputError::Io { .. } => "the directory was left as it was",
        }
    }
}

fn io_error(path: &Path) -> impl FnOnce(io::Error) -> OutputError + '_ {
    move |source| OutputError::Io {
        path: path.to_path_buf(),
        source,
    }
}

impl OutputDir {
    /// Looks at `path` without changing anything. Errors name it `shown`, the path as the
    /// user gave it; `home` (the invocation's HOME) and its ancestors are never replaced.
    pub fn inspect(
        shown: &Path,
        path: &Path,
        home: Option<&Path>,
    ) -> Result<OutputDir, OutputError> {
        let resolved = match std::fs::symlink_metadata(path) {
            Err(err) if err.kind() == io::ErrorKind::NotFound => {
                return Ok(OutputDir {
                    shown: shown.to_path_buf(),
                    path: path.to_path_buf(),
                    exists: false,
                    entries: Vec::new(),
                });
            }
            Err(err) => return Err(io_error(shown)(err)),
            Ok(meta) if meta.file_type().is_symlink() => std::fs::canonicalize(path)
                .map_err(|_| OutputError::DanglingLink(shown.to_path_buf()))?,
            // Canonical, so that `.` or `a/..` has a name and a parent to swap it in.
            Ok(_) => std::fs::canonicalize(path).map_err(io_error(shown))?,
        };
        let meta = std::fs::metadata(&resolved).map_err(io_error(shown))?;
        if !meta.is_dir() {
            return Err(OutputError::NotADirectory(shown.to_path_buf()));
        }
        if is_protected(&resolved, home) {
            return Err(OutputError::Protected(shown.to_path_buf()));
        }
        let owned = previous_manifest(&resolved);
        let mut entries = Vec::new();
        walk(&resolved, "", &owned, &mut entries).map_err(io_error(shown))?;
        Ok(OutputDir {
            shown: shown.to_path_buf(),
            path: resolved,
            exists: true,
            entries,
        })
    }

    /// Files and empty directories that mlopsc did not write, in path order.
    pub fn foreign(&self) -> Vec<String> {
        self.entries
            .iter()
            .filter(|e| !e.owned && (!e.is_dir || e.empty))
            .map(|e| e.relative.clone())
            .collect()
    }

    /// Every file below the directory (not directories), in path order.
    pub fn files(&self) -> impl Iterator<Item = &str> {
        self.entries
            .iter()
            .filter(|e| !e.is_dir)
            .map(|e| e.relative.as_str())
    }

    /// Replaces the directory with `artifacts`, or refuses before writing anything if it
    /// holds foreign files. The subdirectories named in `keep` (the environments' own outputs,
    /// each with its own manifest) are carried over into the new directory untouched. Another
    /// subdirectory with a manifest of mlopsc's is an environment no longer declared: refused
    /// with [`OutputError::StaleEnvironment`]. A directory that already holds exactly
    /// `artifacts` is left as it is.
    pub fn replace_keeping(
        &self,
        artifacts: &Artifacts,
        keep: &[String],
    ) -> Result<Replaced, OutputError> {
        let kept = |relative: &str| keep.iter().any(|k| relative.starts_with(&format!("{k}/")));
        let stale = self.stale_environments(artifacts, keep);
        let foreign: Vec<String> = self
            .foreign()
            .into_iter()
            .filter(|relative| !kept(relative))
            .filter(|relative| !stale.iter().any(|s| relative.starts_with(&format!("{s}/"))))
            .collect();
        if foreign.is_empty()
            && let Some(name) = stale.into_iter().next()
        {
            return Err(OutputError::StaleEnvironment {
                dir: self.shown.clone(),
                name,
            });
        }
        if !foreign.is_empty() {
            return Err(OutputError::ForeignFiles {
                dir: self.shown.clone(),
                files: foreign,
            });
        }
        // Up to date: nothing to change, and the files (and their modification times, which
        // `make` and editors watch) are left alone.
        if self.exists
            && self
                .differences(artifacts, keep)
                .is_ok_and(|d| d.is_empty())
        {
            return Ok(Replaced::Unchanged);
        }
        let parent = match self.path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        std::fs::create_dir_all(&parent).map_err(io_error(&parent))?;
        let name = self
            .path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "out".into());
        let staged = sibling(&parent, &name, "new").map_err(io_error(&parent))?;
        let written = write_files(&staged, artifacts).and_then(|()| {
            if self.exists {
                copy_mode_and_owner(&self.path, &staged)
            } else {
                Ok(())
            }
        });
        if let Err(err) = written {
            let _ = std::fs::remove_dir_all(&staged);
            return Err(io_error(&self.shown)(err));
        }
        if let Err(err) = self.carry_over(&staged, keep) {
            let _ = std::fs::remove_dir_all(&staged);
            return Err(io_error(&self.shown)(err));
        }
        if !self.exists {
            return std::fs::rename(&staged, &self.path)
                .map(|()| Replaced::Written {
                    left_behind: Vec::new(),
                })
                .map_err(|err| {
                    let _ = std::fs::remove_dir_all(&staged);
                    io_error(&self.shown)(err)
                });
        }
        // Move the old directory aside, swap the new one in, then delete what mlopsc owned.
        let old = match sibling_name(&parent, &name, "old") {
            Ok(old) => old,
            Err(err) => {
                let _ = std::fs::remove_dir_all(&staged);
                return Err(io_error(&parent)(err));
            }
        };
        if let Err(err) = std::fs::rename(&self.path, &old) {
            self.put_back(&staged, keep);
            let _ = std::fs::remove_dir_all(&staged);
            return Err(io_error(&self.shown)(err));
        }
        if let Err(err) = std::fs::rename(&staged, &self.path) {
            let _ = std::fs::rename(&old, &self.path);
            self.put_back(&staged, keep);
            let _ = std::fs::remove_dir_all(&staged);
            return Err(io_error(&self.shown)(err));
        }
        Ok(Replaced::Written {
            left_behind: self.remove_owned(&old),
        })
    }

    /// How the directory differs from `artifacts`, read without writing anything. Every file
    /// the artifacts do not include is extra, hidden ones too, except below the `keep`
    /// subdirectories (the environments' own outputs).
    pub fn differences(
        &self,
        artifacts: &Artifacts,
        keep: &[String],
    ) -> Result<Vec<Difference>, OutputError> {
        let mut out = Vec::new();
        for (file, artifact) in artifacts.iter() {
            let path = self.path.join(file);
            match std::fs::read(&path) {
                Ok(existing) if existing == artifact.bytes => {}
                Ok(_) => out.push(Difference::Changed(file.to_string())),
                Err(err) if err.kind() == io::ErrorKind::NotFound => {
                    out.push(Difference::Missing(file.to_string()))
                }
                Err(source) => return Err(OutputError::Io { path, source }),
            }
        }
        out.extend(
            self.files()
                .filter(|file| !artifacts.contains(file))
                .filter(|file| !keep.iter().any(|k| file.starts_with(&format!("{k}/"))))
                .map(|file| Difference::Extra(file.to_string())),
        );
        Ok(out)
    }

    /// The top-level subdirectories outside `keep` and the artifacts that hold a manifest of
    /// mlopsc's: the outputs of environments that are no longer declared.
    fn stale_environments(&self, artifacts: &Artifacts, keep: &[String]) -> Vec<String> {
        self.entries
            .iter()
            .filter(|e| e.is_dir && !e.owned && e.relative.matches('/').count() == 1)
            .map(|e| e.relative.trim_end_matches('/').to_string())
            .filter(|name| !keep.contains(name))
            .filter(|name| {
                !artifacts
                    .iter()
                    .any(|(file, _)| file.starts_with(&format!("{name}/")))
            })
            .filter(|name| !previous_manifest(&self.path.join(name)).is_empty())
            .collect()
    }

    /// Moves the kept subdirectories from the current directory into `staged`. On failure the
    /// ones already moved go back, so the current directory stays whole.
    fn carry_over(&self, staged: &Path, keep: &[String]) -> io::Result<()> {
        if !self.exists {
            return Ok(());
        }
        let mut moved: Vec<&String> = Vec::new();
        for name in keep {
            let from = self.path.join(name);
            if !from.is_dir() {
                continue;
            }
            if let Err(err) = std::fs::rename(&from, staged.join(name)) {
                for name in moved {
                    let _ = std::fs::rename(staged.join(name), self.path.join(name));
                }
                return Err(err);
            }
            moved.push(name);
        }
        Ok(())
    }

    /// Moves the kept subdirectories back from `staged` after a failed swap, before `staged`
    /// is deleted: an environment's output is never lost with it.
    fn put_back(&self, staged: &Path, keep: &[String]) {
        for name in keep {
            if staged.join(name).is_dir() {
                let _ = std::fs::rename(staged.join(name), self.path.join(name));
            }
        }
    }

    /// Deletes the files this directory's manifest listed from its moved-aside copy, then the
    /// directories that are left empty. Anything else stays; its path is returned.
    fn remove_owned(&self, old: &Path) -> Vec<PathBuf> {
        for entry in self.entries.iter().filter(|e| e.owned && !e.is_dir) {
            let _ = std::fs::remove_file(old.join(&entry.relative));
        }
        let mut dirs: Vec<&Entry> = self.entries.iter().filter(|e| e.is_dir).collect();
        // Deepest first, so that a parent is empty by the time it is removed.
        dirs.sort_by_key(|e| std::cmp::Reverse(e.relative.matches('/').count()));
        for dir in dirs {
            let _ = std::fs::remove_dir(old.join(&dir.relative));
        }
        match std::fs::remove_dir(old) {
            Ok(()) => Vec::new(),
            Err(_) => vec![old.to_path_buf()],
        }
    }
}

/// The root, the home directory and its ancestors: a typo in `-o` must not aim at them.
fn is_protected(dir: &Path, home: Option<&Path>) -> bool {
    if dir.parent().is_none() {
        return true;
    }
    let home = home.and_then(|h| std::fs::canonicalize(h).ok());
    home.is_some_and(|home| home.starts_with(dir))
}

/// The files the directory's previous manifest lists, plus the manifest itself; nothing
/// when there is no manifest or it is not one of mlopsc's.
fn previous_manifest(dir: &Path) -> BTreeSet<String> {
    let Ok(bytes) = std::fs::read(dir.join(MANIFEST.path)) else {
        return BTreeSet::new();
    };
    let Ok(manifest) = serde_json::from_slice::<serde_json::Value>(&bytes) else {
        return BTreeSet::new();
    };
    let (Some(files), true) = (
        manifest.get("files").and_then(|f| f.as_object()),
        manifest.get("mlopscVersion").is_some_and(|v| v.is_string()),
    ) else {
        return BTreeSet::new();
    };
    files
        .keys()
        .cloned()
        .chain(std::iter::once(MANIFEST.path.to_string()))
        .collect()
}

/// Lists every entry below `dir`, hidden ones included, and returns whether mlopsc owns all
/// of them. A directory is owned when it is not empty and everything below it is owned.
fn walk(
    dir: &Path,
    prefix: &str,
    owned: &BTreeSet<String>,
    out: &mut Vec<Entry>,
) -> io::Result<bool> {
    let mut children: Vec<_> = std::fs::read_dir(dir)?
        .map(|entry| entry.and_then(|e| Ok((e.file_name(), e.file_type()?.is_dir()))))
        .collect::<io::Result<_>>()?;
    children.sort();
    let mut all_owned = !children.is_empty();
    for (name, is_dir) in children {
        let relative = format!("{prefix}{}", name.to_string_lossy());
        let entry_owned = if is_dir {
            let relative = format!("{relative}/");
            let at = out.len();
            let inner = walk(&dir.join(&name), &relative, owned, out)?;
            let empty = out.len() == at;
            out.insert(
                at,
                Entry {
                    relative,
                    owned: inner,
                    is_dir: true,
                    empty,
                },
            );
            inner
        } else {
            let entry_owned = owned.contains(&relative);
            out.push(Entry {
                relative,
                owned: entry_owned,
                is_dir: false,
                empty: false,
            });
            entry_owned
        };
        all_owned &= entry_owned;
    }
    Ok(all_owned)
}

/// Creates a new, empty sibling directory `.<name>.mlopsc-<tag>-<pid>-<n>` (with the
/// process's umask, unlike a private temporary directory).
fn sibling(parent: &Path, name: &str, tag: &str) -> io::Result<PathBuf> {
    for n in 0..1000 {
        let path = parent.join(format!(".{name}.mlopsc-{tag}-{}-{n}", std::process::id()));
        match std::fs::create_dir(&path) {
            Ok(()) => return Ok(path),
            Err(err) if err.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(err) => return Err(err),
        }
    }
    Err(io::Error::new(
        io::ErrorKind::AlreadyExists,
        "no free name for a temporary directory",
    ))
}

/// A free sibling name (not created): where the old directory is moved aside.
fn sibling_name(parent: &Path, name: &str, tag: &str) -> io::Result<PathBuf> {
    let path = sibling(parent, name, tag)?;
    std::fs::remove_dir(&path)?;
    Ok(path)
}

fn write_files(dir: &Path, artifacts: &Artifacts) -> io::Result<()> {
    // Each directory once: `dir` is new and empty, and files of a directory come together.
    let mut created: Option<PathBuf> = None;
    for (file, artifact) in artifacts.iter() {
        let path = dir.join(file);
        if let Some(p) = path.parent()
            && p != dir
            && created.as_deref() != Some(p)
        {
            std::fs::create_dir_all(p)?;
            created = Some(p.to_path_buf());
        }
        std::fs::write(&path, &artifact.bytes)?;
    }
    Ok(())
}

#[cfg(unix)]
fn copy_mode_and_owner(from: &Path, to: &Path) -> io::Result<()> {
    use std::os::unix::fs::MetadataExt as _;
    let meta = std::fs::metadata(from)?;
    std::fs::set_permissions(to, meta.permissions())?;
    let now = std::fs::metadata(to)?;
    if (now.uid(), now.gid()) != (meta.uid(), meta.gid()) {
        std::os::unix::fs::chown(to, Some(meta.uid()), Some(meta.gid()))?;
    }
    Ok(())
}

#[cfg(not(unix))]
fn copy_mode_and_owner(from: &Path, to: &Path) -> io::Result<()> {
    let meta = std::fs::metadata(from)?;
    std::fs::set_permissions(to, meta.permissions())
}
