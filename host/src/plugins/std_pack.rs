//! The standard plugin pack, built from plugins/ by build.rs and embedded in
//! the binary so that `planexec` works with no --plugins flag at all.

/// One embedded plugin.
pub struct StdPlugin {
    pub dir: &'static str,
    pub manifest: &'static str,
    pub component: &'static [u8],
    pub sha256: &'static str,
}

include!(concat!(env!("OUT_DIR"), "/std_pack.rs"));
