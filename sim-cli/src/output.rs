//! What `ksim` writes, and the two rules it keeps while writing:
//!
//! 1. No output of a command is one of its inputs, and no two outputs of a
//!    command are the same file ([`check`]). Inputs are every file the
//!    process has read (the bounded reader records them, see
//!    [`crate::input`]): scenario, plan, manifests, pod traces, results,
//!    shards. Files are compared by identity (device and inode) when they
//!    exist, and by canonical path (symlinks resolved) otherwise.
//! 2. The outputs of one command are committed together or not at all
//!    ([`commit`]): each is written in full to a temporary file beside it
//!    and synced, and only when all are written are they renamed into
//!    place. On failure the temporary files are removed and the existing
//!    files are left untouched.

use std::io::Write;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// How one file is known: its identity when it exists, else its canonical
/// path (the canonical parent directory and the name).
#[derive(Debug, PartialEq)]
struct Identity {
    inode: Option<(u64, u64)>,
    path: Option<PathBuf>,
}

fn identity(path: &Path) -> Identity {
    let inode = std::fs::metadata(path).ok().map(|m| (m.dev(), m.ino()));
    let path = path.canonicalize().ok().or_else(|| {
        let parent = path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        Some(parent.canonicalize().ok()?.join(path.file_name()?))
    });
    Identity { inode, path }
}

impl Identity {
    fn same(&self, other: &Identity) -> bool {
        match (self.inode, other.inode) {
            (Some(a), Some(b)) => a == b,
            _ => self.path.is_some() && self.path == other.path,
        }
    }
}

/// Why the outputs `(flag, path)` cannot be written: one is an input this
/// process read, or two are the same file. The message is whole.
pub fn check(outputs: &[(&str, &Path)]) -> Result<(), String> {
    let inputs = crate::input::read_so_far();
    let ids: Vec<Identity> = outputs.iter().map(|(_, p)| identity(p)).collect();
    for (i, (flag, path)) in outputs.iter().enumerate() {
        // A device such as /dev/null is written to, never replaced: it may
        // be named twice, and it is no input (those are regular files).
        if std::fs::metadata(path).is_ok_and(|m| !m.is_file() && !m.is_dir()) {
            continue;
        }
        if let Some(input) = inputs.iter().find(|p| identity(p).same(&ids[i])) {
            return Err(format!(
                "error: {flag} {}: is an input of this command ({}); writing it would overwrite the input\n  hint: write the output to another file\n",
                path.display(),
                input.display()
            ));
        }
        if let Some(j) = (0..i).find(|&j| ids[j].same(&ids[i])) {
            let (other, other_path) = outputs[j];
            return Err(format!(
                "error: {flag} {} and {other} {} are the same file; one output would be lost\n  hint: give each output its own file\n",
                path.display(),
                other_path.display()
            ));
        }
    }
    Ok(())
}

/// One output being committed: where it goes and the temporary file that
/// holds it until then (`None`: not a regular file, written directly).
struct Staged {
    path: PathBuf,
    tmp: Option<PathBuf>,
}

/// Write every `(path, bytes)` or none: see the module's doc. A symlink is
/// followed (the link stays, its target is replaced); something that is not
/// a regular file (`/dev/null`, a pipe) is written directly, last. On
/// failure, the path that failed and why.
pub fn commit(files: &[(&Path, &[u8])]) -> Result<(), (PathBuf, std::io::Error)> {
    let mut staged: Vec<Staged> = Vec::new();
    let result = stage_all(files, &mut staged).and_then(|()| {
        for (s, (_, bytes)) in staged.iter_mut().zip(files) {
            match s.tmp.take() {
                Some(tmp) => {
                    std::fs::rename(&tmp, &s.path).map_err(|e| {
                        s.tmp = Some(tmp);
                        (s.path.clone(), e)
                    })?;
                }
                None => write_direct(&s.path, bytes).map_err(|e| (s.path.clone(), e))?,
            }
        }
        Ok(())
    });
    for s in &staged {
        if let Some(tmp) = &s.tmp {
            let _ = std::fs::remove_file(tmp);
        }
    }
    result
}

/// Write each regular output to its temporary file, synced.
fn stage_all(
    files: &[(&Path, &[u8])],
    staged: &mut Vec<Staged>,
) -> Result<(), (PathBuf, std::io::Error)> {
    for (path, bytes) in files {
        let fail = |e| (path.to_path_buf(), e);
        let path = match std::fs::metadata(path) {
            Ok(meta) if !meta.is_file() => {
                staged.push(Staged {
                    path: path.to_path_buf(),
                    tmp: None,
                });
                continue;
            }
            Ok(_) => path.canonicalize().map_err(fail)?,
            Err(_) => path.to_path_buf(),
        };
        let dir = path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        let name = path
            .file_name()
            .ok_or_else(|| fail(std::io::Error::other("not a file name")))?;
        let tmp = dir.join(format!(
            ".{}.tmp-{}",
            name.to_string_lossy(),
            std::process::id()
        ));
        // Recorded before it is created, so a failed write is cleaned up.
        staged.push(Staged {
            path: path.clone(),
            tmp: Some(tmp.clone()),
        });
        let written = std::fs::File::create(&tmp).and_then(|mut f| {
            f.write_all(bytes)?;
            f.sync_all()
        });
        if let Err(e) = written {
            return Err((path, e));
        }
    }
    Ok(())
}

fn write_direct(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut f = std::fs::OpenOptions::new().write(true).open(path)?;
    f.write_all(bytes).and_then(|_| f.flush())
}
