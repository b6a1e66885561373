//! The wasmtime engine configuration, one function shared by the host and by build.rs
//! (which precompiles the standard plugins with it), so the two cannot drift.

use sha2::{Digest, Sha256};
use std::hash::{Hash, Hasher};

/// The configuration every planexec engine is made from: the component model, and
/// epoch interruption for the CPU deadline.
pub fn engine_config() -> wasmtime::Config {
    let mut config = wasmtime::Config::new();
    config.wasm_component_model(true).epoch_interruption(true);
    config
}

/// The engine's compatibility hash as hex (sha256 over what wasmtime hashes): the same
/// string for two engines whose precompiled artifacts load in each other.
pub fn compatibility_digest(engine: &wasmtime::Engine) -> String {
    let mut h = ShaHasher(Sha256::new());
    engine.precompile_compatibility_hash().hash(&mut h);
    hex::encode(h.0.finalize())
}

/// A `Hasher` feeding sha256, so the digest does not depend on std's hasher keys.
struct ShaHasher(Sha256);

impl Hasher for ShaHasher {
    fn write(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }

    fn finish(&self) -> u64 {
        let d = self.0.clone().finalize();
        u64::from_le_bytes(d[..8].try_into().expect("sha256 has 8 bytes"))
    }
}
