//! Results folders written atomically.
//!
//! Files are written into a hidden temporary folder next to the target
//! (`.NAME.tmp-PID`) and the folder is renamed into place only when every
//! file is complete, so an interrupted command never leaves a half-written
//! results folder. An existing non-empty folder is replaced only when the
//! caller allows it (`--force`).
//!
//! **Interrupts.** Every temporary path of the process is listed in a
//! registry while it exists, and every file-system step on one (create,
//! write, rename, remove) runs with the registry locked. `interrupt`
//! takes the lock for good, removes what is listed and hands the lock to
//! its caller (the SIGINT handler), which exits while holding it: no worker
//! can then create or fill a temporary path again, and a rename into place
//! has either happened (the result is complete and kept) or never will.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, PoisonError};

mod lock;
pub(crate) use lock::{FolderInUse, FolderLock};

/// The temporary paths of this process, and whether it was interrupted.
#[derive(Debug)]
struct Registry {
    paths: Vec<PathBuf>,
    interrupted: bool,
}

static REGISTRY: Mutex<Registry> = Mutex::new(Registry {
    paths: Vec::new(),
    interrupted: false,
});

fn registry() -> MutexGuard<'static, Registry> {
    // A panicking writer cannot leave the list inconsistent: keep using it.
    REGISTRY.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Runs one file-system step on temporary paths with the registry locked;
/// refuses once the process has been interrupted.
fn guarded<T>(step: impl FnOnce(&mut Vec<PathBuf>) -> io::Result<T>) -> io::Result<T> {
    let mut reg = registry();
    if reg.interrupted {
        return Err(io::Error::new(io::ErrorKind::Interrupted, "interrupted"));
    }
    step(&mut reg.paths)
}

fn remove_path(path: &Path) {
    if path.is_dir() {
        fs::remove_dir_all(path).ok();
    } else {
        fs::remove_file(path).ok();
    }
}

/// Creates the temporary folder `path` (and its parents) and lists it for
/// removal on interrupt. A folder left at `path` by an earlier, killed
/// process of the same id is removed first.
///
/// # Errors
/// The I/O error, or [`io::ErrorKind::Interrupted`] after [`interrupt`].
pub(crate) fn create_temp_dir(path: &Path) -> io::Result<()> {
    guarded(|paths| {
        if path.exists() {
            remove_path(path);
        }
        fs::create_dir_all(path)?;
        paths.push(path.to_path_buf());
        Ok(())
    })
}

/// Writes `bytes` to `path`, a file inside a listed temporary folder,
/// creating the folders in between.
///
/// # Errors
/// The I/O error, or [`io::ErrorKind::Interrupted`] after [`interrupt`].
pub(crate) fn write_temp_file(path: &Path, bytes: &[u8]) -> io::Result<()> {
    guarded(|_| {
        if let Some(dir) = path.parent() {
            fs::create_dir_all(dir)?;
        }
        fs::write(path, bytes)
    })
}

/// Renames the finished temporary path `tmp` to `target` and delists it.
///
/// # Errors
/// The I/O error of the rename (`tmp` stays listed), or
/// [`io::ErrorKind::Interrupted`] after [`interrupt`].
pub(crate) fn commit_temp(tmp: &Path, target: &Path) -> io::Result<()> {
    guarded(|paths| {
        fs::rename(tmp, target)?;
        paths.retain(|p| p != tmp);
        Ok(())
    })
}

/// Removes the temporary path `tmp` (a folder or a file) and delists it.
pub(crate) fn discard_temp(tmp: &Path) {
    let _ = guarded(|paths| {
        remove_path(tmp);
        paths.retain(|p| p != tmp);
        Ok(())
    });
}

/// Proof that the process was interrupted: while it is alive no temporary
/// path can be created, written or renamed. Exit while holding it.
#[derive(Debug)]
pub(crate) struct Interrupted {
    _lock: MutexGuard<'static, Registry>,
}

/// Marks the process as interrupted, removes every listed temporary path,
/// and returns the lock that keeps the others from making new ones. Meant
/// for a signal handler that exits right after.
pub(crate) fn interrupt() -> Interrupted {
    let mut reg = registry();
    reg.interrupted = true;
    let paths = std::mem::take(&mut reg.paths);
    for path in &paths {
        remove_path(path);
    }
    Interrupted { _lock: reg }
}

/// The temporary paths listed now (for tests).
pub fn listed_temporaries() -> Vec<PathBuf> {
    registry().paths.clone()
}

/// A refusal to touch an existing results folder: a usage error.
#[derive(Debug, thiserror::Error)]
#[error("output folder {} already exists and is not empty: choose another --out or pass --force", .0.display())]
pub(crate) struct OutputExists(pub PathBuf);

/// A refusal to resume a results folder that holds another job (a sweep
/// or cross-validation of another config): a usage error.
#[derive(Debug, thiserror::Error)]
#[error("{} holds a different {what}: choose another --out or pass --force to start over", .folder.display())]
pub(crate) struct OtherJob {
    /// The folder.
    pub folder: PathBuf,
    /// What it holds, in words.
    pub what: String,
}

/// A results file that cannot be read back: missing, hand-edited or
/// truncated. Bad input (exit code 2), like a bad trace.
#[derive(Debug, thiserror::Error)]
#[error("{}: {reason}", .path.display())]
pub(crate) struct CorruptResults {
    /// The file.
    pub path: PathBuf,
    /// What is wrong and what to do, e.g. `line 3: ...`.
    pub reason: String,
}

/// A results folder being written.
#[derive(Debug)]
pub struct OutputDir {
    target: PathBuf,
    tmp: PathBuf,
    force: bool,
    committed: bool,
}

impl OutputDir {
    /// Starts writing the folder `target`.
    ///
    /// # Errors
    /// `OutputExists` when `target` holds files and `force` is false;
    /// an I/O error when the temporary folder cannot be made.
    pub fn create(target: &Path, force: bool) -> anyhow::Result<OutputDir> {
        if !force && is_non_empty_dir(target) {
            return Err(OutputExists(target.to_path_buf()).into());
        }
        if target.exists() && !target.is_dir() {
            return Err(OutputExists(target.to_path_buf()).into());
        }
        let name = target
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "out".into());
        let parent = match target.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        if let Some(file) = parent.ancestors().find(|a| a.is_file()) {
            anyhow::bail!(
                "cannot create the output folder {}: {} is a file, not a folder",
                target.display(),
                file.display()
            );
        }
        fs::create_dir_all(&parent).map_err(|e| {
            anyhow::Error::new(e).context(format!(
                "cannot create the output folder {}",
                target.display()
            ))
        })?;
        let tmp = parent.join(format!(".{name}.tmp-{}", std::process::id()));
        create_temp_dir(&tmp).map_err(|e| {
            anyhow::Error::new(e).context(format!(
                "cannot create the output folder {}",
                target.display()
            ))
        })?;
        Ok(OutputDir {
            target: target.to_path_buf(),
            tmp,
            force,
            committed: false,
        })
    }

    /// The final path of the folder.
    pub(crate) fn target(&self) -> &Path {
        &self.target
    }

    /// Writes one file (a relative path inside the folder).
    ///
    /// # Errors
    /// The I/O error, naming the file.
    pub fn write(&self, name: &str, bytes: &[u8]) -> anyhow::Result<()> {
        write_temp_file(&self.tmp.join(name), bytes).map_err(|e| {
            anyhow::Error::new(e).context(format!("writing {}", self.target.join(name).display()))
        })
    }

    /// Opens `name` (a path relative to the folder) for rows written one
    /// by one, so a long run's rows need not be held in memory. It is
    /// complete once [`CsvStream::finish`] returns, and appears in place
    /// only with the rest of the folder at [`OutputDir::commit`].
    ///
    /// # Errors
    /// The I/O error of creating the file, naming its final path.
    pub(crate) fn csv_stream(&self, name: &str) -> anyhow::Result<CsvStream> {
        let shown = self.target.join(name);
        let path = self.tmp.join(name);
        let file = guarded(|_| {
            if let Some(dir) = path.parent() {
                fs::create_dir_all(dir)?;
            }
            fs::File::create(&path)
        })
        .map_err(|e| anyhow::Error::new(e).context(format!("writing {}", shown.display())))?;
        Ok(CsvStream {
            writer: csv::Writer::from_writer(io::BufWriter::with_capacity(1 << 16, file)),
            shown,
        })
    }

    /// Moves the finished folder into place, replacing an existing one
    /// when forced.
    ///
    /// # Errors
    /// The I/O error of the rename.
    pub fn commit(mut self) -> anyhow::Result<PathBuf> {
        let context = || format!("moving results into {}", self.target.display());
        if self.target.exists() {
            if is_non_empty_dir(&self.target) && !self.force {
                return Err(OutputExists(self.target.clone()).into());
            }
            let old = self.tmp.with_extension("old");
            // One locked step, so an interrupt never finds the old folder
            // moved aside and the new one not yet in place.
            guarded(|paths| {
                fs::rename(&self.target, &old)?;
                if let Err(e) = fs::rename(&self.tmp, &self.target) {
                    // Put the old folder back rather than lose both.
                    let _ = fs::rename(&old, &self.target);
                    return Err(e);
                }
                paths.retain(|p| p != &self.tmp);
                paths.push(old.clone());
                Ok(())
            })
            .map_err(|e| anyhow::Error::new(e).context(context()))?;
            discard_temp(&old);
        } else {
            commit_temp(&self.tmp, &self.target)
                .map_err(|e| anyhow::Error::new(e).context(context()))?;
        }
        self.committed = true;
        Ok(self.target.clone())
    }
}

impl Drop for OutputDir {
    fn drop(&mut self) {
        if !self.committed {
            discard_temp(&self.tmp);
        }
    }
}

/// A CSV file of a results folder written row by row (see
/// [`OutputDir::csv_stream`]); the same bytes as [`crate::metrics::to_csv`]
/// of the same rows.
#[derive(Debug)]
pub(crate) struct CsvStream {
    writer: csv::Writer<io::BufWriter<fs::File>>,
    shown: PathBuf,
}

impl CsvStream {
    /// Appends one row (the header first, from the first row's type).
    ///
    /// # Errors
    /// The I/O or serialisation error, naming the file.
    pub(crate) fn push<T: serde::Serialize>(&mut self, row: &T) -> anyhow::Result<()> {
        self.writer
            .serialize(row)
            .map_err(|e| anyhow::Error::new(e).context(format!("writing {}", self.shown.display())))
    }

    /// Flushes the file.
    ///
    /// # Errors
    /// The I/O error, naming the file.
    pub(crate) fn finish(mut self) -> anyhow::Result<()> {
        self.writer
            .flush()
            .map_err(|e| anyhow::Error::new(e).context(format!("writing {}", self.shown.display())))
    }
}

fn is_non_empty_dir(path: &Path) -> bool {
    match fs::read_dir(path) {
        Ok(mut entries) => entries.next().is_some(),
        Err(e) => e.kind() != io::ErrorKind::NotFound && path.exists(),
    }
}

/// Writes one file atomically: a temporary file in the same folder, then a
/// rename.
///
/// # Errors
/// The I/O error, naming the file.
pub(crate) fn write_file_atomic(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    fs::create_dir_all(&dir)
        .map_err(|e| anyhow::Error::new(e).context(format!("creating {}", dir.display())))?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
    // One locked step: an interrupt sees either no temporary file or the
    // finished one in place.
    let result = guarded(|_| {
        let written = fs::write(&tmp, bytes).and_then(|()| fs::rename(&tmp, path));
        if written.is_err() {
            fs::remove_file(&tmp).ok();
        }
        written
    });
    result.map_err(|e| anyhow::Error::new(e).context(format!("writing {}", path.display())))
}

/// Claims `out` for a resumable job whose manifest file `name` holds
/// `text`: a folder holding the same manifest is kept (the job resumes), a
/// new or empty one is created, and one holding another job (`what`, in
/// the message) or anything else is refused without `force` and emptied
/// with it. The manifest is written last.
///
/// The folder stays locked for this process (see [`FolderLock`]) until
/// the returned lock is dropped: a second process on the same folder is
/// refused, naming the first.
///
/// # Errors
/// [`FolderInUse`], [`OutputExists`], [`OtherJob`], or an I/O failure.
pub(crate) fn claim_folder(
    out: &Path,
    name: &str,
    text: &str,
    force: bool,
    what: &str,
) -> anyhow::Result<FolderLock> {
    use anyhow::Context as _;
    let lock = FolderLock::acquire(out)?;
    let path = out.join(name);
    let clear = if path.exists() {
        let existing =
            fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
        if existing != text && !force {
            return Err(OtherJob {
                folder: out.to_path_buf(),
                what: what.to_string(),
            }
            .into());
        }
        existing != text
    } else if is_non_empty_dir(out) {
        if !force {
            return Err(OutputExists(out.to_path_buf()).into());
        }
        true
    } else {
        false
    };
    if clear {
        fs::remove_dir_all(out).with_context(|| format!("removing {}", out.display()))?;
    }
    fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    write_file_atomic(&path, text.as_bytes())?;
    Ok(lock)
}

/// Builds a whole folder under a temporary name beside `out` and renames
/// it into place when `build` succeeds, so a failure leaves nothing
/// behind. An existing non-empty `out` is refused without `force`, and
/// replaced with it.
///
/// # Errors
/// [`OutputExists`], the error of `build`, or an I/O failure.
pub(crate) fn build_folder<T>(
    out: &Path,
    force: bool,
    build: impl FnOnce(&Path) -> anyhow::Result<T>,
) -> anyhow::Result<T> {
    use anyhow::Context as _;
    if is_non_empty_dir(out) && !force {
        return Err(OutputExists(out.to_path_buf()).into());
    }
    let name = out
        .file_name()
        .map_or_else(|| "out".into(), |n| n.to_string_lossy().into_owned());
    let staging = out.with_file_name(format!(".{name}.tmp-{}", std::process::id()));
    fs::remove_dir_all(&staging).ok();
    let built = match build(&staging) {
        Ok(built) => built,
        Err(e) => {
            fs::remove_dir_all(&staging).ok();
            return Err(e);
        }
    };
    if out.exists() {
        fs::remove_dir_all(out).with_context(|| format!("removing {}", out.display()))?;
    }
    fs::rename(&staging, out)
        .with_context(|| format!("moving the results into {}", out.display()))?;
    Ok(built)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_existing_non_empty_folder_is_refused_without_force() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("out");
        fs::create_dir(&target).unwrap();
        fs::write(target.join("keep.txt"), "x").unwrap();
        let err = OutputDir::create(&target, false).unwrap_err();
        assert!(err.to_string().contains("--force"));
        let out = OutputDir::create(&target, true).unwrap();
        out.write("a.csv", b"1").unwrap();
        out.commit().unwrap();
        assert!(!target.join("keep.txt").exists());
        assert_eq!(fs::read(target.join("a.csv")).unwrap(), b"1");
    }

    #[test]
    fn an_uncommitted_folder_leaves_nothing_behind() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("out");
        {
            let out = OutputDir::create(&target, false).unwrap();
            out.write("a.csv", b"1").unwrap();
        }
        assert!(!target.exists());
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 0);
    }
}
