//! Results folders written atomically.
//!
//! Files are written into a hidden temporary folder next to the target
//! (`.NAME.tmp-PID`) and the folder is renamed into place only when every
//! file is complete, so an interrupted command never leaves a half-written
//! results folder. An existing non-empty folder is replaced only when the
//! caller allows it (`--force`).

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

/// A refusal to touch an existing results folder: a usage error.
#[derive(Debug, thiserror::Error)]
#[error("output folder {} already exists and is not empty: choose another --out or pass --force", .0.display())]
pub struct OutputExists(pub PathBuf);

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
    /// [`OutputExists`] when `target` holds files and `force` is false;
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
        fs::create_dir_all(&parent)
            .map_err(|e| anyhow::Error::new(e).context(format!("creating {}", parent.display())))?;
        let tmp = parent.join(format!(".{name}.tmp-{}", std::process::id()));
        if tmp.exists() {
            fs::remove_dir_all(&tmp).ok();
        }
        fs::create_dir(&tmp)
            .map_err(|e| anyhow::Error::new(e).context(format!("creating {}", tmp.display())))?;
        Ok(OutputDir {
            target: target.to_path_buf(),
            tmp,
            force,
            committed: false,
        })
    }

    /// The final path of the folder.
    pub fn target(&self) -> &Path {
        &self.target
    }

    /// Writes one file (a relative path inside the folder).
    ///
    /// # Errors
    /// The I/O error, naming the file.
    pub fn write(&self, name: &str, bytes: &[u8]) -> anyhow::Result<()> {
        let path = self.tmp.join(name);
        if let Some(dir) = path.parent() {
            fs::create_dir_all(dir)?;
        }
        fs::write(&path, bytes).map_err(|e| {
            anyhow::Error::new(e).context(format!("writing {}", self.target.join(name).display()))
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
            fs::rename(&self.target, &old).map_err(|e| anyhow::Error::new(e).context(context()))?;
            fs::rename(&self.tmp, &self.target)
                .map_err(|e| anyhow::Error::new(e).context(context()))?;
            fs::remove_dir_all(&old).ok();
        } else {
            fs::rename(&self.tmp, &self.target)
                .map_err(|e| anyhow::Error::new(e).context(context()))?;
        }
        self.committed = true;
        Ok(self.target.clone())
    }
}

impl Drop for OutputDir {
    fn drop(&mut self) {
        if !self.committed {
            fs::remove_dir_all(&self.tmp).ok();
        }
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
pub fn write_file_atomic(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
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
    let result = fs::write(&tmp, bytes).and_then(|()| fs::rename(&tmp, path));
    if result.is_err() {
        fs::remove_file(&tmp).ok();
    }
    result.map_err(|e| anyhow::Error::new(e).context(format!("writing {}", path.display())))
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
