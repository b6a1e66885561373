//! Where a pack comes from: a local folder, a git URL at a rev
//! (`git+URL#REV`), or a `.tar.gz` archive URL.

use std::path::{Path, PathBuf};

/// A parsed `source = "..."` of a `[packs.NAME]` table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PackSource {
    /// A folder on disk (absolute once resolved against the config's folder).
    Path(PathBuf),
    /// A git repository and the rev (tag, branch or commit) to take.
    Git { url: String, rev: String },
    /// A gzip-compressed tar archive over HTTP(S).
    Archive { url: String },
}

impl PackSource {
    /// Parses `text`; relative paths are taken against `base`.
    pub fn parse(text: &str, base: &Path) -> Result<PackSource, String> {
        let t = text.trim();
        if let Some(rest) = t.strip_prefix("git+") {
            let (url, rev) = rest.rsplit_once('#').ok_or_else(|| {
                format!("`{t}`: a git source needs a rev: `git+URL#v1.2` or `git+URL#<commit>`")
            })?;
            if url.is_empty() || rev.is_empty() {
                return Err(format!(
                    "`{t}`: both the URL and the rev after `#` must be given"
                ));
            }
            return Ok(PackSource::Git {
                url: url.into(),
                rev: rev.into(),
            });
        }
        if t.starts_with("https://") || t.starts_with("http://") {
            if !(t.ends_with(".tar.gz") || t.ends_with(".tgz")) {
                return Err(format!(
                    "`{t}`: an archive source must be a .tar.gz or .tgz URL (for git use `git+URL#REV`)"
                ));
            }
            return Ok(PackSource::Archive { url: t.into() });
        }
        if t.contains("://") {
            return Err(format!(
                "`{t}`: unknown source; use a folder, `git+URL#REV` or an http(s) .tar.gz URL"
            ));
        }
        if t.is_empty() {
            return Err("the source is empty".into());
        }
        Ok(PackSource::Path(base.join(t)))
    }
}

impl PackSource {
    /// A name for the pack before its pack.toml is read: the last part of the
    /// path or URL without `.git`, `.tar.gz` or `.tgz` (`.../acme.git` is `acme`).
    pub fn short_name(&self) -> String {
        let text = match self {
            PackSource::Path(p) => p.display().to_string(),
            PackSource::Git { url, .. } => url.clone(),
            PackSource::Archive { url } => url.clone(),
        };
        let last = text.trim_end_matches('/').rsplit('/').next().unwrap_or("");
        let name = [".git", ".tar.gz", ".tgz"]
            .iter()
            .find_map(|ext| last.strip_suffix(ext))
            .unwrap_or(last);
        if name.is_empty() {
            "pack".into()
        } else {
            name.into()
        }
    }
}

impl std::fmt::Display for PackSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PackSource::Path(p) => write!(f, "{}", p.display()),
            PackSource::Git { url, rev } => write!(f, "git+{url}#{rev}"),
            PackSource::Archive { url } => f.write_str(url),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_each_kind() {
        let base = Path::new("/repo");
        assert_eq!(
            PackSource::parse("git+file:///srv/g#v1.2", base).unwrap(),
            PackSource::Git {
                url: "file:///srv/g".into(),
                rev: "v1.2".into()
            }
        );
        assert_eq!(
            PackSource::parse("https://h/p.tar.gz", base).unwrap(),
            PackSource::Archive {
                url: "https://h/p.tar.gz".into()
            }
        );
        assert_eq!(
            PackSource::parse("gates", base).unwrap(),
            PackSource::Path("/repo/gates".into())
        );
        assert!(PackSource::parse("git+file:///srv/g", base)
            .unwrap_err()
            .contains("needs a rev"));
        assert!(PackSource::parse("ftp://h/p", base).is_err());
        assert!(PackSource::parse("https://h/p.zip", base).is_err());
    }

    #[test]
    fn short_names_drop_the_folder_and_the_extension() {
        let base = Path::new("/repo");
        for (text, want) in [
            ("git+https://h:8443/org/acme.git#v1", "acme"),
            ("git+file:///srv/gates/#v1", "gates"),
            ("https://h/acme-1.2.tar.gz", "acme-1.2"),
            ("https://h/acme.tgz", "acme"),
            ("../shared-gates", "shared-gates"),
        ] {
            assert_eq!(
                PackSource::parse(text, base).unwrap().short_name(),
                want,
                "{text}"
            );
        }
    }
}
