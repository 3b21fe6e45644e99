//! What the process holds once start-up is done.

use std::path::Path;

/// Hands the heap pages malloc holds free back to the OS. glibc returns only the top of its
/// heaps by itself and keeps holes below live blocks: startup (migrations, the router) leaves
/// about 9 MB of them, writing the OpenAPI document (`http::docs`) as much again, a burst of
/// 10,000 agent connections about 8. Called once the router is built, once the document is
/// written, and then once a minute.
pub fn release_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only returns free pages of malloc's own heaps to the OS.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// Drops this process's mapping of the binary's code pages, once, when the server is built.
///
/// Start-up runs code that serving never runs again (migrations, the router and its OpenAPI
/// document, the vault, the configuration), spread over the whole text, and the kernel maps
/// the 64 KB around each page it faults in: by the first request nearly all of the binary's
/// ~19 MB of code is mapped and counted in the process's RSS, and the kernel keeps mapped code
/// of a live process in memory ahead of other cache. `MADV_DONTNEED` on the code mapping
/// removes only the page-table entries: the pages stay in the page cache (nothing is read from
/// disk again), what serving runs is mapped back by minor faults on first use, and the
/// start-up-only code becomes ordinary cache the kernel may reclaim.
pub fn release_startup_code() {
    #[cfg(target_os = "linux")]
    {
        let (Ok(exe), Ok(maps)) = (
            std::fs::read_link("/proc/self/exe"),
            std::fs::read_to_string("/proc/self/maps"),
        ) else {
            return;
        };
        for (start, end) in code_ranges(&maps, &exe) {
            // SAFETY: the range is a private, read-only, executable mapping of our own binary.
            // Its pages are never written (a Rust binary has no text relocations), so
            // dropping them loses nothing: each is read back from the file on its next use.
            unsafe {
                libc::madvise(start as *mut libc::c_void, end - start, libc::MADV_DONTNEED);
            }
        }
    }
}

/// The address ranges `maps` (the text of `/proc/self/maps`) lists as private executable
/// mappings of `exe`. Never a writable mapping: those hold the process's own changes
/// (relocated data, the heap), which `MADV_DONTNEED` would throw away.
fn code_ranges(maps: &str, exe: &Path) -> Vec<(usize, usize)> {
    maps.lines()
        .filter_map(|line| {
            // address perms offset dev inode path (the path may hold spaces)
            let mut fields = line.splitn(6, ' ');
            let (range, perms) = (fields.next()?, fields.next()?);
            let path = fields.nth(3)?.trim_start();
            if perms != "r-xp" || Path::new(path) != exe {
                return None;
            }
            let (start, end) = range.split_once('-')?;
            Some((
                usize::from_str_radix(start, 16).ok()?,
                usize::from_str_radix(end, 16).ok()?,
            ))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_binarys_read_only_code_is_chosen() {
        let maps = "\
55d0a0000000-55d0a0800000 r--p 00000000 fe:00 42 /opt/bot mox/botmox
55d0a0800000-55d0a1f00000 r-xp 00800000 fe:00 42 /opt/bot mox/botmox
55d0a1f00000-55d0a2000000 r--p 01f00000 fe:00 42 /opt/bot mox/botmox
55d0a2000000-55d0a2010000 rw-p 02000000 fe:00 42 /opt/bot mox/botmox
55d0a3000000-55d0a3100000 rw-p 00000000 00:00 0                          [heap]
7f0000000000-7f0000100000 r-xp 00026000 fe:00 7                          /usr/lib/x86_64-linux-gnu/libc.so.6
7fff00000000-7fff00001000 r-xp 00000000 00:00 0                          [vdso]
";
        assert_eq!(
            code_ranges(maps, Path::new("/opt/bot mox/botmox")),
            [(0x55d0a0800000, 0x55d0a1f00000)]
        );
        assert!(code_ranges(maps, Path::new("/opt/other")).is_empty());
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn the_code_pages_are_given_back_and_the_code_still_runs() {
        let resident = || {
            std::fs::read_to_string("/proc/self/status")
                .unwrap()
                .lines()
                .find_map(|l| l.strip_prefix("RssFile:"))
                .and_then(|v| v.trim().trim_end_matches(" kB").parse::<u64>().ok())
                .unwrap()
        };
        let before = resident();
        release_startup_code();
        let after = resident();
        // Other tests running meanwhile map some back, far from all.
        assert!(after < before, "file-backed RSS {before} kB before, {after} kB after");
    }
}
