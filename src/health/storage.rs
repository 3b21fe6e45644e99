//! Readiness's `storage` check: whether the file system holding the data directory has room.

use std::path::Path;

/// Below this the disk counts as full: a group commit, a checkpoint or an upload may not fit.
const FULL_BELOW_BYTES: u64 = 1 << 20;

/// `Err` with an actionable reason when the file system holding `dir` is (nearly) full.
pub fn check(dir: &Path) -> Result<(), String> {
    let free = free_bytes(dir).map_err(|e| format!("cannot read the free space of {}: {e}", dir.display()))?;
    if free < FULL_BELOW_BYTES {
        return Err(format!(
            "storage full: {free} bytes free on the file system holding {}; writes answer 507 STORAGE_FULL until space is freed or the volume is grown",
            dir.display()
        ));
    }
    Ok(())
}

/// Bytes this process can still write there (root may also use the blocks reserved for it).
fn free_bytes(dir: &Path) -> std::io::Result<u64> {
    use std::os::unix::ffi::OsStrExt;
    let path = std::ffi::CString::new(dir.as_os_str().as_bytes())?;
    // SAFETY: an all-zero statvfs is a valid value of this plain C struct.
    let mut stat: libc::statvfs = unsafe { std::mem::zeroed() };
    // SAFETY: `path` is NUL-terminated and `stat` is a valid place for the answer.
    if unsafe { libc::statvfs(path.as_ptr(), &mut stat) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: geteuid cannot fail and has no preconditions.
    let blocks = if unsafe { libc::geteuid() } == 0 {
        stat.f_bfree
    } else {
        stat.f_bavail
    };
    Ok(blocks as u64 * stat.f_frsize as u64)
}
