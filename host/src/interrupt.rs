//! Ctrl-C and SIGTERM during a run: the first one is recorded, not fatal; the
//! running command's process group is killed and the engine stops at its next step.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};

struct Flags {
    raised: Arc<AtomicBool>,
    signal: Arc<AtomicUsize>,
}

static FLAGS: OnceLock<Flags> = OnceLock::new();

/// Installs the handlers (once). A second SIGINT or SIGTERM ends the process
/// (sandbox::scratch's signal thread cleans up and dies of it).
pub fn install() -> std::io::Result<()> {
    if FLAGS.get().is_some() {
        return Ok(());
    }
    let flags = Flags {
        raised: Arc::new(AtomicBool::new(false)),
        signal: Arc::new(AtomicUsize::new(0)),
    };
    for sig in [libc::SIGINT, libc::SIGTERM] {
        signal_hook::flag::register_usize(sig, flags.signal.clone(), sig as usize)?;
        signal_hook::flag::register(sig, flags.raised.clone())?;
    }
    let _ = FLAGS.set(flags);
    Ok(())
}

/// Whether a run handles the signals (the first one does not end the process).
pub fn installed() -> bool {
    FLAGS.get().is_some()
}

/// The signal received, if any (only once [`install`] ran).
pub fn pending() -> Option<i32> {
    let f = FLAGS.get()?;
    if !f.raised.load(Ordering::SeqCst) {
        return None;
    }
    match f.signal.load(Ordering::SeqCst) {
        0 => None,
        s => Some(s as i32),
    }
}

/// The signal's name, for messages.
pub fn name(sig: i32) -> &'static str {
    match sig {
        libc::SIGINT => "SIGINT (Ctrl-C)",
        libc::SIGTERM => "SIGTERM",
        _ => "a signal",
    }
}
