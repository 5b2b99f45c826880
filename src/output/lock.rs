//! One process at a time per resumable results folder.
//!
//! A sweep or cross-validation folder is claimed by a lock file beside it,
//! `.NAME.lock`, created exclusively (`O_EXCL`) and holding the owner's
//! process id and host name. A second process on the same folder is
//! refused at once (exit code 2), naming the owner. A lock left by a
//! process that died on this host (killed with `kill -9`, say) is noticed
//! through `/proc` and taken over; one from another host on a shared file
//! system is not judged: the message says to delete it. The lock is removed
//! when the job ends, and on Ctrl-C with the other temporary paths.

use std::fs;
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};

use super::{discard_temp, guarded};

/// A refusal to work in a folder another process is working in: a usage
/// error (exit code 2).
#[derive(Debug, thiserror::Error)]
#[error(
    "{} is in use by qscale process {owner}: wait for it to finish, or choose another --out \
     (if that process no longer exists, delete {})",
    .folder.display(),
    .lock.display()
)]
pub(crate) struct FolderInUse {
    /// The folder.
    pub folder: PathBuf,
    /// The lock file.
    pub lock: PathBuf,
    /// Who holds it, e.g. `4242 on node-7`.
    pub owner: String,
}

/// The lock on a results folder, held while the job runs.
#[derive(Debug)]
#[must_use = "the folder is unlocked when the lock is dropped"]
pub(crate) struct FolderLock {
    path: PathBuf,
}

impl FolderLock {
    /// Locks `folder` (which need not exist yet) for this process.
    ///
    /// # Errors
    /// [`FolderInUse`] if another live process holds it, or an I/O error.
    pub(crate) fn acquire(folder: &Path) -> anyhow::Result<FolderLock> {
        let name = folder
            .file_name()
            .map_or_else(|| "out".into(), |n| n.to_string_lossy().into_owned());
        let path = folder.with_file_name(format!(".{name}.lock"));
        let me = Owner::this_process();
        // Twice at most: once more after removing a dead owner's lock.
        for _ in 0..2 {
            match create_exclusive(&path, &me.to_text()) {
                Ok(()) => return Ok(FolderLock { path }),
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
                Err(e) => {
                    return Err(anyhow::Error::new(e)
                        .context(format!("creating the lock file {}", path.display())))
                }
            }
            let holder = fs::read_to_string(&path)
                .ok()
                .and_then(|t| Owner::parse(&t));
            match holder {
                Some(owner) if owner.is_dead_here(&me) => {
                    fs::remove_file(&path).ok();
                }
                holder => {
                    return Err(FolderInUse {
                        folder: folder.to_path_buf(),
                        lock: path,
                        owner: holder.map_or_else(
                            || "(unreadable lock file)".into(),
                            |o| format!("{} on {}", o.pid, o.host),
                        ),
                    }
                    .into())
                }
            }
        }
        Err(anyhow::anyhow!(
            "could not take the lock file {}: it keeps reappearing",
            path.display()
        ))
    }
}

impl Drop for FolderLock {
    fn drop(&mut self) {
        discard_temp(&self.path);
    }
}

/// Creates `path` only if it does not exist, writes `text`, and lists it
/// for removal on interrupt.
fn create_exclusive(path: &Path, text: &str) -> io::Result<()> {
    guarded(|paths| {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            fs::create_dir_all(dir)?;
        }
        let mut file = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(path)?;
        paths.push(path.to_path_buf());
        file.write_all(text.as_bytes())
    })
}

/// The process that holds a lock.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Owner {
    pid: u32,
    host: String,
}

impl Owner {
    fn this_process() -> Owner {
        let host = fs::read_to_string("/proc/sys/kernel/hostname")
            .ok()
            .or_else(|| std::env::var("HOSTNAME").ok())
            .map(|h| h.trim().to_string())
            .filter(|h| !h.is_empty())
            .unwrap_or_else(|| "an unknown host".into());
        Owner {
            pid: std::process::id(),
            host,
        }
    }

    fn to_text(&self) -> String {
        format!("pid={}\nhost={}\n", self.pid, self.host)
    }

    fn parse(text: &str) -> Option<Owner> {
        let mut pid = None;
        let mut host = None;
        for line in text.lines() {
            match line.split_once('=') {
                Some(("pid", v)) => pid = v.trim().parse().ok(),
                Some(("host", v)) => host = Some(v.trim().to_string()),
                _ => {}
            }
        }
        Some(Owner {
            pid: pid?,
            host: host?,
        })
    }

    /// Whether this owner is a process of this host that no longer runs
    /// (only decidable where `/proc` lists processes).
    fn is_dead_here(&self, me: &Owner) -> bool {
        self.host == me.host
            && Path::new("/proc/self").exists()
            && !Path::new("/proc").join(self.pid.to_string()).exists()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_lock_on_the_same_folder_is_refused_naming_the_owner() {
        let dir = tempfile::tempdir().unwrap();
        let folder = dir.path().join("sweep");
        let held = FolderLock::acquire(&folder).unwrap();
        let err = FolderLock::acquire(&folder).unwrap_err();
        let text = err.to_string();
        assert!(err.is::<FolderInUse>(), "{text}");
        assert!(
            text.contains(&format!("process {} on", std::process::id())),
            "{text}"
        );
        drop(held);
        assert!(!dir.path().join(".sweep.lock").exists());
        drop(FolderLock::acquire(&folder).unwrap());
    }

    #[test]
    fn a_lock_left_by_a_dead_process_of_this_host_is_taken_over() {
        let dir = tempfile::tempdir().unwrap();
        let folder = dir.path().join("sweep");
        let me = Owner::this_process();
        // Process ids wrap far below u32::MAX on Linux: this one never runs.
        let dead = Owner {
            pid: u32::MAX - 1,
            host: me.host.clone(),
        };
        fs::write(dir.path().join(".sweep.lock"), dead.to_text()).unwrap();
        if Path::new("/proc/self").exists() {
            drop(FolderLock::acquire(&folder).unwrap());
        }
        let elsewhere = Owner {
            pid: u32::MAX - 1,
            host: format!("{}-other", me.host),
        };
        fs::write(dir.path().join(".sweep.lock"), elsewhere.to_text()).unwrap();
        assert!(FolderLock::acquire(&folder).is_err());
    }
}
