//! Finds plugins: the embedded standard pack first, then each --plugins folder
//! (a folder of plugin folders, or one plugin folder); later ones override.

use super::std_pack::STD_PACK;
use super::{Kind, Manifest, PluginError};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

/// Where a plugin came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// Embedded in the binary.
    Standard,
    /// A plugin folder on disk.
    Dir(PathBuf),
}

/// A discovered plugin: its manifest and (lazily) its verified component bytes.
#[derive(Debug, Clone)]
pub struct Plugin {
    pub manifest: Manifest,
    pub source: Source,
    /// The manifest's path (for messages); `<builtin>/NAME/plugin.toml` for the standard pack.
    pub manifest_path: PathBuf,
    /// A plugin folder that replaces the standard plugin of the same name.
    pub overrides_standard: bool,
    /// The pack it came from (pinned in planexec.lock), if any.
    pub pack: Option<String>,
    component: Component,
}

#[derive(Debug, Clone)]
enum Component {
    Embedded {
        deflated: &'static [u8],
        sha256: &'static str,
        precompiled: Option<&'static [u8]>,
    },
    File {
        path: PathBuf,
        /// The plugin folder; the component must be a regular file inside it.
        root: PathBuf,
        loaded: Arc<OnceLock<Result<(Arc<Vec<u8>>, String), String>>>,
        /// The sha256 planexec.lock pins, checked on the bytes actually loaded.
        locked: Option<String>,
    },
}

impl Plugin {
    pub fn name(&self) -> &str {
        &self.manifest.name
    }

    pub fn kind(&self) -> Kind {
        self.manifest.kind
    }

    pub fn is_standard(&self) -> bool {
        self.source == Source::Standard
    }

    /// The component bytes and their sha256, checked against the manifest's
    /// `sha256` when it has one.
    pub fn component(&self) -> Result<(ComponentBytes, String), PluginError> {
        match &self.component {
            Component::Embedded {
                deflated,
                sha256,
                precompiled,
            } => Ok((
                ComponentBytes::Embedded {
                    deflated,
                    precompiled: *precompiled,
                },
                sha256.to_string(),
            )),
            Component::File {
                path,
                root,
                loaded,
                locked,
            } => {
                let r = loaded.get_or_init(|| {
                    let bytes = crate::input::read_bytes(path, root, crate::input::MAX_COMPONENT)
                        .map_err(|e| e.to_string())?;
                    let digest = hex::encode(Sha256::digest(&bytes));
                    Ok((Arc::new(bytes), digest))
                });
                let (bytes, digest) = r.clone().map_err(|message| PluginError::Manifest {
                    path: self.manifest_path.clone(),
                    message,
                })?;
                if let (Some(expected), Some(pack)) = (locked, &self.pack) {
                    if expected != &digest {
                        return Err(PluginError::LockMismatch {
                            pack: pack.clone(),
                            plugin: self.manifest.name.clone(),
                            what: format!("its component {}", path.display()),
                            expected: expected.clone(),
                            actual: digest,
                        });
                    }
                }
                if let Some(expected) = &self.manifest.sha256 {
                    if expected != &digest {
                        return Err(PluginError::DigestMismatch {
                            path: self.manifest_path.clone(),
                            component: path.clone(),
                            expected: expected.clone(),
                            actual: digest,
                        });
                    }
                }
                Ok((ComponentBytes::Shared(bytes), digest))
            }
        }
    }
}

/// What planexec.lock pins for one pack plugin.
struct Pin {
    pack: String,
    plugin: String,
    manifest: String,
    component: String,
}

/// Component bytes: embedded (deflated; inflated only when they are compiled, since a
/// cached compilation needs just the digest) or read from disk.
pub enum ComponentBytes {
    /// A standard plugin: the wasm and, when build.rs made one, its precompiled artifact
    /// (both deflated, both built from this tree into the binary).
    Embedded {
        deflated: &'static [u8],
        precompiled: Option<&'static [u8]>,
    },
    /// A plugin folder's component, read from disk: only ever compiled, never deserialized.
    Shared(Arc<Vec<u8>>),
}

impl ComponentBytes {
    /// The component itself.
    pub fn bytes(&self) -> std::io::Result<std::borrow::Cow<'_, [u8]>> {
        match self {
            ComponentBytes::Embedded { deflated, .. } => Ok(inflate(deflated)?.into()),
            ComponentBytes::Shared(b) => Ok(b.as_slice().into()),
        }
    }
}

/// Inflates raw DEFLATE bytes.
pub(crate) fn inflate(z: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut out = Vec::with_capacity(z.len() * 3);
    std::io::Read::read_to_end(&mut flate2::read::DeflateDecoder::new(z), &mut out)?;
    Ok(out)
}

/// All plugins available to this invocation, by name.
#[derive(Debug, Clone, Default)]
pub struct Registry {
    plugins: BTreeMap<String, Plugin>,
}

impl Registry {
    /// The standard pack plus each folder in `dirs` (in order; later wins).
    pub fn discover(dirs: &[PathBuf]) -> Result<Registry, PluginError> {
        let mut reg = Registry::default();
        for p in STD_PACK {
            let manifest_path = PathBuf::from(format!("<builtin>/{}/plugin.toml", p.dir));
            let manifest = Manifest::parse(p.manifest, &manifest_path)?;
            reg.plugins.insert(
                manifest.name.clone(),
                Plugin {
                    manifest,
                    source: Source::Standard,
                    manifest_path,
                    overrides_standard: false,
                    pack: None,
                    component: Component::Embedded {
                        deflated: p.deflated,
                        sha256: p.sha256,
                        precompiled: p.precompiled,
                    },
                },
            );
        }
        for dir in dirs {
            reg.add_dir(dir)?;
        }
        Ok(reg)
    }

    /// Adds a folder: either one plugin folder (has plugin.toml) or a folder of them.
    pub fn add_dir(&mut self, dir: &Path) -> Result<(), PluginError> {
        if !dir.is_dir() {
            return Err(PluginError::NotADirectory(dir.to_path_buf()));
        }
        if dir.join("plugin.toml").is_file() {
            return self.add_plugin_dir(dir, &mut BTreeMap::new(), None);
        }
        let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
            .map_err(|source| PluginError::Io {
                path: dir.to_path_buf(),
                source,
            })?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.join("plugin.toml").is_file())
            .collect();
        entries.sort();
        let mut seen = BTreeMap::new();
        for p in entries {
            self.add_plugin_dir(&p, &mut seen, None)?;
        }
        Ok(())
    }

    /// Adds the plugins a pack's lock entry pins, each checked against its
    /// manifest and component digests as it is read.
    pub fn add_pack(&mut self, pack: &crate::packs::Ready) -> Result<(), PluginError> {
        let mut seen = BTreeMap::new();
        for p in &pack.plugins {
            let pin = Pin {
                pack: pack.name.clone(),
                plugin: p.name.clone(),
                manifest: p.manifest.clone(),
                component: p.component.clone(),
            };
            self.add_plugin_dir(&pack.dir.join(&p.path), &mut seen, Some(pin))?;
        }
        Ok(())
    }

    fn add_plugin_dir(
        &mut self,
        dir: &Path,
        seen: &mut BTreeMap<String, PathBuf>,
        pin: Option<Pin>,
    ) -> Result<(), PluginError> {
        let manifest_path = dir.join("plugin.toml");
        let text =
            crate::input::read_text(&manifest_path, dir, crate::input::MAX_TOML).map_err(|e| {
                PluginError::Manifest {
                    path: manifest_path.clone(),
                    message: e.to_string(),
                }
            })?;
        if let Some(pin) = &pin {
            let actual = hex::encode(Sha256::digest(text.as_bytes()));
            if actual != pin.manifest {
                return Err(PluginError::LockMismatch {
                    pack: pin.pack.clone(),
                    plugin: pin.plugin.clone(),
                    what: format!("its manifest {}", manifest_path.display()),
                    expected: pin.manifest.clone(),
                    actual,
                });
            }
        }
        let manifest = Manifest::parse(&text, &manifest_path)?;
        let component = dir.join(&manifest.component);
        if !component.is_file() {
            return Err(PluginError::MissingComponent {
                path: manifest_path,
                component,
            });
        }
        if let Some(other) = seen.get(&manifest.name) {
            return Err(PluginError::Duplicate {
                path: manifest_path,
                name: manifest.name,
                other: other.display().to_string(),
            });
        }
        seen.insert(manifest.name.clone(), manifest_path.clone());
        let overrides_standard = self
            .plugins
            .get(&manifest.name)
            .is_some_and(|old| old.is_standard() || old.overrides_standard);
        self.plugins.insert(
            manifest.name.clone(),
            Plugin {
                manifest,
                source: Source::Dir(dir.to_path_buf()),
                manifest_path,
                overrides_standard,
                pack: pin.as_ref().map(|p| p.pack.clone()),
                component: Component::File {
                    path: component,
                    root: dir.to_path_buf(),
                    loaded: Default::default(),
                    locked: pin.map(|p| p.component),
                },
            },
        );
        Ok(())
    }

    pub fn get(&self, name: &str) -> Result<&Plugin, PluginError> {
        self.plugins.get(name).ok_or_else(|| PluginError::Unknown {
            name: name.to_string(),
            known: self.plugins.keys().cloned().collect::<Vec<_>>().join(", "),
        })
    }

    /// A plugin that must be of `kind`.
    pub fn get_kind(&self, name: &str, kind: Kind) -> Result<&Plugin, PluginError> {
        let p = self.get(name)?;
        if p.kind() != kind {
            return Err(PluginError::WrongKind {
                name: name.into(),
                actual: p.kind(),
                expected: kind,
            });
        }
        Ok(p)
    }

    pub fn iter(&self) -> impl Iterator<Item = &Plugin> {
        self.plugins.values()
    }
}
