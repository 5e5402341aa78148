//! The one way `ksim` reads a file it is given: a scenario, a manifest, a pod
//! trace, a sweep plan, a results or shard file. Bounded: only regular files
//! (a directory, FIFO, socket or device is refused before it is opened, so
//! `/dev/zero` or a pipe nobody writes to never stalls or floods memory), and
//! at most a limit of bytes (reading stops one byte past it).
//!
//! Every file read is recorded: those are the command's inputs, which no
//! output may overwrite (see `crate::output`).
//!
//! The limits are `sim_core::scenario::limits::MAX_INPUT_BYTES` (text
//! inputs) and `MAX_RESULTS_BYTES` (sweep results and shards).

use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use sim_core::scenario::limits;

/// What is read, which sets the size limit.
#[derive(Clone, Copy)]
pub enum Kind {
    /// A scenario, manifest, pod trace or sweep plan.
    Text,
    /// A sweep results or shard file.
    Results,
}

impl Kind {
    /// Most bytes a file of this kind may have.
    pub fn limit(self) -> u64 {
        match self {
            Kind::Text => limits::MAX_INPUT_BYTES,
            Kind::Results => limits::MAX_RESULTS_BYTES,
        }
    }

    fn noun(self) -> &'static str {
        match self {
            Kind::Text => "a scenario, manifest, trace or plan",
            Kind::Results => "a sweep results or shard file",
        }
    }
}

/// Why a file could not be read (the path is added by the caller).
#[derive(Debug)]
pub enum ReadError {
    /// Opening or reading failed.
    Io(std::io::Error),
    /// Not a regular file: what it is instead.
    NotAFile(&'static str),
    /// More than `limit` bytes.
    TooLarge { limit: u64 },
    /// Not UTF-8: the bytes read and where the first bad one is.
    NotUtf8(Vec<u8>, std::str::Utf8Error),
}

/// `n` bytes for people: `16 MiB`, `300 KiB`, `12 bytes`.
pub fn bytes(n: u64) -> String {
    const MIB: u64 = 1024 * 1024;
    match n {
        n if n >= MIB && n % MIB == 0 => format!("{} MiB", n / MIB),
        n if n >= 1024 && n % 1024 == 0 => format!("{} KiB", n / 1024),
        n => format!("{n} bytes"),
    }
}

impl ReadError {
    /// The message after `<path>: `.
    pub fn describe(&self, kind: Kind) -> String {
        match self {
            ReadError::Io(e) => e.to_string(),
            ReadError::NotAFile(what) => {
                format!("is {what}, not a regular file; ksim reads its inputs from regular files")
            }
            ReadError::TooLarge { limit } => format!(
                "larger than {}, the most ksim reads as {}",
                bytes(*limit),
                kind.noun()
            ),
            ReadError::NotUtf8(_, e) => {
                format!("not UTF-8 text (byte {} is not)", e.valid_up_to())
            }
        }
    }
}

/// What `meta` describes when it is not a regular file.
fn not_regular(meta: &std::fs::Metadata) -> Option<&'static str> {
    use std::os::unix::fs::FileTypeExt;
    let t = meta.file_type();
    if t.is_file() {
        None
    } else if t.is_dir() {
        Some("a directory")
    } else if t.is_fifo() {
        Some("a named pipe (FIFO)")
    } else if t.is_char_device() {
        Some("a character device")
    } else if t.is_block_device() {
        Some("a block device")
    } else if t.is_socket() {
        Some("a socket")
    } else {
        Some("not a regular file")
    }
}

/// Every file read so far by this process, as named when it was read.
static READ: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

/// The files this process has read (its inputs), each once.
pub fn read_so_far() -> Vec<PathBuf> {
    READ.lock().map(|r| r.clone()).unwrap_or_default()
}

fn record(path: &Path) {
    if let Ok(mut read) = READ.lock()
        && !read.iter().any(|p| p == path)
    {
        read.push(path.to_path_buf());
    }
}

/// The bytes of the regular file `path` (symlinks followed), at most
/// `kind.limit()` of them.
pub fn read_bytes(path: &Path, kind: Kind) -> Result<Vec<u8>, ReadError> {
    // The type is checked before opening: opening a FIFO for reading
    // blocks until someone writes to it.
    let meta = std::fs::metadata(path).map_err(ReadError::Io)?;
    if let Some(what) = not_regular(&meta) {
        return Err(ReadError::NotAFile(what));
    }
    let limit = kind.limit();
    if meta.len() > limit {
        return Err(ReadError::TooLarge { limit });
    }
    let file = std::fs::File::open(path).map_err(ReadError::Io)?;
    record(path);
    // Replaced between the check and the open: check what was opened.
    let opened = file.metadata().map_err(ReadError::Io)?;
    if let Some(what) = not_regular(&opened) {
        return Err(ReadError::NotAFile(what));
    }
    let mut buf = Vec::with_capacity(opened.len().min(limit) as usize);
    file.take(limit + 1)
        .read_to_end(&mut buf)
        .map_err(ReadError::Io)?;
    if buf.len() as u64 > limit {
        return Err(ReadError::TooLarge { limit });
    }
    Ok(buf)
}

/// The text of the regular file `path`, at most `kind.limit()` bytes of
/// UTF-8.
pub fn read_text(path: &Path, kind: Kind) -> Result<String, ReadError> {
    let bytes = read_bytes(path, kind)?;
    String::from_utf8(bytes).map_err(|e| {
        let u = e.utf8_error();
        ReadError::NotUtf8(e.into_bytes(), u)
    })
}

/// [`read_text`] with the whole message on failure.
pub fn read_text_or_message(path: &Path, kind: Kind) -> Result<String, String> {
    read_text(path, kind).map_err(|e| message(path, &e, kind))
}

/// The whole message for `e`: `error: cannot read PATH: why`, or
/// `error: PATH: why` for a file too large.
pub fn message(path: &Path, e: &ReadError, kind: Kind) -> String {
    let shown = path.display();
    match e {
        ReadError::Io(_) | ReadError::NotAFile(_) => {
            format!("error: cannot read {shown}: {}\n", e.describe(kind))
        }
        ReadError::TooLarge { .. } => format!(
            "error: {shown}: {}\n  hint: is it the right file? ksim's inputs are text files of at most a few MB\n",
            e.describe(kind)
        ),
        _ => format!("error: {shown}: {}\n", e.describe(kind)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_as_people_write_them() {
        assert_eq!(bytes(16 * 1024 * 1024), "16 MiB");
        assert_eq!(bytes(2048), "2 KiB");
        assert_eq!(bytes(1000), "1000 bytes");
    }

    #[test]
    fn a_directory_is_refused_before_it_is_opened() {
        let e = read_bytes(Path::new("/"), Kind::Text).unwrap_err();
        assert!(matches!(e, ReadError::NotAFile("a directory")), "{e:?}");
    }

    #[test]
    fn a_character_device_is_refused() {
        let e = read_bytes(Path::new("/dev/null"), Kind::Text).unwrap_err();
        assert!(
            matches!(e, ReadError::NotAFile("a character device")),
            "{e:?}"
        );
        assert!(e.describe(Kind::Text).contains("not a regular file"));
    }
}
