//! A pack's .tar.gz unpacked into memory, bounded before anything is allocated: long
//! names, pax headers, entries and unpacked bytes are capped; only files and folders.

use super::tree::{Tree, MAX_PACK_BYTES, MAX_PACK_FILES};
use std::cell::Cell;
use std::io::Read;

/// The longest name a GNU long-name entry may give (Linux's PATH_MAX).
pub const MAX_LONG_NAME: u64 = 4096;
/// The most a pax extended header may hold.
pub const MAX_PAX_HEADER: u64 = 64 << 10;
/// The most entries (files, folders and their headers) an archive may have.
pub const MAX_ENTRIES: usize = 4 * MAX_PACK_FILES;
/// The most bytes an archive may unpack to: the pack's limit plus room for its headers.
pub const MAX_UNPACKED: u64 = MAX_PACK_BYTES + (64 << 20);

/// Unpacks a .tar.gz: regular files and folders only; a symlink, hard link, device,
/// absolute path or `..` is refused, never written; an oversized header is refused
/// before its bytes are read.
pub fn untar(gz: &[u8]) -> Result<Tree, String> {
    let over = Cell::new(false);
    let reader = Bounded {
        inner: flate2::read::GzDecoder::new(gz),
        left: MAX_UNPACKED,
        over: &over,
    };
    let mut ar = tar::Archive::new(reader);
    let bad = |e: std::io::Error| {
        match over.get() {
        true => format!(
            "the archive unpacks to more than {MAX_UNPACKED} bytes; a pack is at most {MAX_PACK_BYTES} bytes of files\n  nothing was written"
        ),
        false => format!("not a .tar.gz: {e}"),
    }
    };
    let mut tree = Tree::default();
    let mut next = NextName::default();
    // Raw entries: planexec reads long names and pax headers itself, after checking their size.
    for (n, entry) in ar.entries().map_err(bad)?.raw(true).enumerate() {
        if n >= MAX_ENTRIES {
            return Err(format!(
                "the archive has more than {MAX_ENTRIES} entries; a pack holds at most {MAX_PACK_FILES} files\n  nothing was written"
            ));
        }
        let mut entry = entry.map_err(bad)?;
        if next
            .read_header(&mut entry)
            .map_err(|e| e.or_else_io(&bad))?
        {
            continue;
        }
        let path = next.take().unwrap_or_else(|| lossy(&entry.path_bytes()));
        add(&mut tree, &mut entry, &path).map_err(|e| e.or_else_io(&bad))?;
    }
    if next.path.is_some() {
        return Err(
            "the archive ends with a long name or pax header that names no entry; it is damaged"
                .into(),
        );
    }
    if !tree.files.contains_key("pack.toml") {
        if let Some(top) = tree.single_top() {
            return Ok(tree.strip_prefix(&top));
        }
    }
    Ok(tree)
}

/// An error while unpacking: a message, or a read error the caller explains.
enum Failure {
    Message(String),
    Io(std::io::Error),
}

impl Failure {
    fn or_else_io(self, explain: &impl Fn(std::io::Error) -> String) -> String {
        match self {
            Failure::Message(m) => m,
            Failure::Io(e) => explain(e),
        }
    }
}

impl From<String> for Failure {
    fn from(m: String) -> Self {
        Failure::Message(m)
    }
}

/// The name the next entry gets from a GNU long-name entry or a pax header before it.
#[derive(Default)]
struct NextName {
    path: Option<String>,
}

impl NextName {
    /// Reads `entry` if it is a header for the next entry (true), checking its size first.
    fn read_header<R: Read>(&mut self, entry: &mut tar::Entry<R>) -> Result<bool, Failure> {
        match entry.header().entry_type() {
            tar::EntryType::GNULongName => {
                let name = bounded(entry, MAX_LONG_NAME, "a GNU long name")?;
                let name = name.split(|b| *b == 0).next().unwrap_or_default();
                self.path = Some(lossy(name));
            }
            tar::EntryType::XHeader => {
                let pax = bounded(entry, MAX_PAX_HEADER, "a pax header")?;
                self.pax(&pax)?;
            }
            // A link's long target (links are refused anyway) and global pax comments
            // (`git archive` writes its commit there) are skipped unread.
            tar::EntryType::GNULongLink | tar::EntryType::XGlobalHeader => {}
            _ => return Ok(false),
        }
        Ok(true)
    }

    /// A pax header's `path`; keys that would change how the next entry is read are refused.
    fn pax(&mut self, bytes: &[u8]) -> Result<(), String> {
        for ext in tar::PaxExtensions::new(bytes) {
            let ext = ext.map_err(|e| format!("a pax header is damaged: {e}"))?;
            let key = ext.key().unwrap_or("");
            if key == "path" {
                self.path = Some(lossy(ext.value_bytes()));
            } else if key == "size" || key.starts_with("GNU.sparse") {
                return Err(format!(
                    "a pax header sets `{key}`; planexec reads pack archives whose files are plain and sized in their own headers\n  nothing was written; rebuild the archive (e.g. `tar -czf`)"
                ));
            }
        }
        Ok(())
    }

    fn take(&mut self) -> Option<String> {
        self.path.take()
    }
}

/// A folder is checked, a regular file read (its size checked first); anything else refused.
fn add<R: Read>(tree: &mut Tree, entry: &mut tar::Entry<R>, path: &str) -> Result<(), Failure> {
    match entry.header().entry_type() {
        tar::EntryType::Directory => {
            super::tree::check_relative(path)?;
        }
        tar::EntryType::Regular | tar::EntryType::Continuous => {
            let bytes = bounded(entry, MAX_PACK_BYTES, &format!("`{path}`"))?;
            tree.add(path, bytes)?;
        }
        other => {
            return Err(Failure::Message(format!(
            "`{path}` is a {other:?} entry; a pack archive may hold only regular files and folders"
        )))
        }
    }
    Ok(())
}

/// The entry's bytes, refused before reading when its header says more than `max`.
fn bounded<R: Read>(entry: &mut tar::Entry<R>, max: u64, what: &str) -> Result<Vec<u8>, Failure> {
    let size = entry.size();
    if size > max {
        return Err(Failure::Message(format!(
            "the archive has {what} of {size} bytes, over the {max} bytes planexec reads\n  nothing was written; this is not a pack archive planexec accepts: ask its publisher to rebuild it"
        )));
    }
    let mut bytes = Vec::with_capacity(size as usize);
    entry
        .by_ref()
        .take(max)
        .read_to_end(&mut bytes)
        .map_err(Failure::Io)?;
    Ok(bytes)
}

fn lossy(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// A reader that fails once more than `left` bytes came through (a gzip bomb).
struct Bounded<'a, R> {
    inner: R,
    left: u64,
    over: &'a Cell<bool>,
}

impl<R: Read> Read for Bounded<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.left == 0 {
            let mut probe = [0u8; 1];
            if self.inner.read(&mut probe)? == 0 {
                return Ok(0);
            }
            self.over.set(true);
            return Err(std::io::Error::other(
                "the archive unpacks to too many bytes",
            ));
        }
        let cap = buf.len().min(self.left.min(usize::MAX as u64) as usize);
        let n = self.inner.read(&mut buf[..cap])?;
        self.left -= n as u64;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tar_gz(build: impl FnOnce(&mut tar::Builder<Vec<u8>>)) -> Vec<u8> {
        let mut b = tar::Builder::new(Vec::new());
        build(&mut b);
        let raw = b.into_inner().unwrap();
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        std::io::Write::write_all(&mut gz, &raw).unwrap();
        gz.finish().unwrap()
    }

    fn header(path: &str, kind: tar::EntryType, size: u64) -> tar::Header {
        let mut h = tar::Header::new_gnu();
        // set_path refuses `..`; write the raw name the way a hostile archiver would.
        let name = &mut h.as_old_mut().name;
        name[..path.len()].copy_from_slice(path.as_bytes());
        h.set_entry_type(kind);
        h.set_size(size);
        h.set_mode(0o644);
        h.set_cksum();
        h
    }

    #[test]
    fn strips_a_single_top_folder() {
        let gz = tar_gz(|b| {
            b.append(
                &header("acme-1.0/pack.toml", tar::EntryType::Regular, 2),
                &b"x\n"[..],
            )
            .unwrap();
        });
        let t = untar(&gz).unwrap();
        assert!(t.files.contains_key("pack.toml"), "{:?}", t.files.keys());
    }

    #[test]
    fn reads_long_names_gnu_and_pax() {
        let long = format!("acme/{}/plugin.toml", "d".repeat(150));
        let gz = tar_gz(|b| {
            let mut h = tar::Header::new_gnu();
            h.set_size(2);
            h.set_mode(0o644);
            b.append_data(&mut h, &long, &b"x\n"[..]).unwrap();
        });
        let t = untar(&gz).unwrap();
        assert!(
            t.files.keys().any(|k| k.len() > 150),
            "{:?}",
            t.files.keys()
        );
        let gz = tar_gz(|b| {
            let mut pax = format!(" path={long}\n");
            let len = pax.len() + 3;
            pax = format!("{len}{pax}");
            b.append(
                &header("pax", tar::EntryType::XHeader, pax.len() as u64),
                pax.as_bytes(),
            )
            .unwrap();
            b.append(&header("short", tar::EntryType::Regular, 1), &b"y"[..])
                .unwrap();
        });
        let t = untar(&gz).unwrap();
        let long_names = t
            .files
            .keys()
            .filter(|k| k.len() > 150 && k.ends_with("/plugin.toml"));
        assert_eq!(long_names.count(), 1, "{:?}", t.files.keys());
    }

    #[test]
    fn refuses_an_oversized_long_name_before_reading_it() {
        let gz = tar_gz(|b| {
            let size = 8 << 20;
            b.append(
                &header("././@LongLink", tar::EntryType::GNULongName, size),
                std::io::repeat(b'a').take(size),
            )
            .unwrap();
            b.append(&header("x", tar::EntryType::Regular, 1), &b"y"[..])
                .unwrap();
        });
        let err = untar(&gz).unwrap_err();
        assert!(err.contains("a GNU long name of 8388608 bytes"), "{err}");
    }

    #[test]
    fn refuses_dotdot_absolute_and_links() {
        for (path, kind) in [
            ("../escape", tar::EntryType::Regular),
            ("/tmp/abs", tar::EntryType::Regular),
            ("a/../../escape", tar::EntryType::Regular),
            ("link", tar::EntryType::Symlink),
            ("hard", tar::EntryType::Link),
            ("dev", tar::EntryType::Char),
        ] {
            let size = if kind == tar::EntryType::Regular {
                1
            } else {
                0
            };
            let gz = tar_gz(|b| {
                let mut h = header(path, kind, size);
                if kind.is_symlink() || kind.is_hard_link() {
                    h.set_link_name("/etc/passwd").unwrap();
                    h.set_cksum();
                }
                b.append(&h, &b"x"[..size as usize]).unwrap();
            });
            let err = untar(&gz).unwrap_err();
            assert!(
                err.contains("refused") || err.contains("may hold only"),
                "{path}: {err}"
            );
        }
    }
}
