//! The standard plugin pack, built from plugins/ by build.rs and embedded in
//! the binary so that `planexec` works with no --plugins flag at all.

/// One embedded plugin.
pub struct StdPlugin {
    pub dir: &'static str,
    pub manifest: &'static str,
    /// The component, deflated (raw DEFLATE, inflated only to compile it).
    pub deflated: &'static [u8],
    pub sha256: &'static str,
    /// The component precompiled by build.rs for the engine [`PRECOMPILED_FOR`] names
    /// (deflated); None in a cross build or with PLANEXEC_PRECOMPILE=0.
    pub precompiled: Option<&'static [u8]>,
}

include!(concat!(env!("OUT_DIR"), "/std_pack.rs"));

#[cfg(test)]
mod tests {
    use super::STD_PACK;
    use sha2::{Digest, Sha256};

    #[test]
    fn each_embedded_component_inflates_to_the_bytes_its_digest_names() {
        assert!(STD_PACK.len() > 10);
        for p in STD_PACK {
            let component = crate::plugins::ComponentBytes::Embedded {
                deflated: p.deflated,
                precompiled: p.precompiled,
            };
            let bytes = component.bytes().unwrap();
            assert_eq!(hex::encode(Sha256::digest(&bytes)), p.sha256, "{}", p.dir);
            assert!(
                p.deflated.len() * 2 < bytes.len(),
                "{} is stored deflated",
                p.dir
            );
        }
    }
}
