//! The Win32 calls tray-icon does not cover: HKCU registry values and the console.

use std::io;
use std::ptr::null;

use windows_sys::Win32::Foundation::{ERROR_FILE_NOT_FOUND, ERROR_SUCCESS};
use windows_sys::Win32::System::Registry::{
    RegCloseKey, RegCreateKeyExW, RegDeleteKeyValueW, RegGetValueW, RegSetValueExW, HKEY, HKEY_CURRENT_USER,
    KEY_SET_VALUE, REG_OPTION_NON_VOLATILE, REG_SZ, RRF_RT_REG_SZ,
};

fn wide(s: &str) -> Vec<u16> {
    s.encode_utf16().chain(std::iter::once(0)).collect()
}

fn check(status: u32) -> io::Result<()> {
    if status == ERROR_SUCCESS {
        Ok(())
    } else {
        Err(io::Error::from_raw_os_error(status as i32))
    }
}

/// Writes the string `value` (`None`: the key's default value) under `HKCU\key`, creating it.
pub fn set_string(key: &str, name: Option<&str>, data: &str) -> io::Result<()> {
    let mut hkey: HKEY = std::ptr::null_mut();
    let key_w = wide(key);
    // SAFETY: valid NUL-terminated strings and out-pointer; the key is closed below.
    check(unsafe {
        RegCreateKeyExW(
            HKEY_CURRENT_USER,
            key_w.as_ptr(),
            0,
            null(),
            REG_OPTION_NON_VOLATILE,
            KEY_SET_VALUE,
            null(),
            &mut hkey,
            std::ptr::null_mut(),
        )
    })?;
    let name_w = name.map(wide);
    let data_w = wide(data);
    // SAFETY: `data_w` is a NUL-terminated UTF-16 buffer of the byte length given.
    let status = unsafe {
        RegSetValueExW(
            hkey,
            name_w.as_ref().map_or(null(), |n| n.as_ptr()),
            0,
            REG_SZ,
            data_w.as_ptr().cast(),
            (data_w.len() * 2) as u32,
        )
    };
    // SAFETY: `hkey` was opened above.
    unsafe { RegCloseKey(hkey) };
    check(status)
}

/// The string value `name` (`None`: the default value) under `HKCU\key`; `None` when absent.
pub fn get_string(key: &str, name: Option<&str>) -> io::Result<Option<String>> {
    let key_w = wide(key);
    let name_w = name.map(wide);
    let name_ptr = name_w.as_ref().map_or(null(), |n| n.as_ptr());
    let mut buf = vec![0u16; 1024];
    let mut len = (buf.len() * 2) as u32;
    // SAFETY: the buffer and its byte length match; strings are NUL-terminated.
    let status = unsafe {
        RegGetValueW(
            HKEY_CURRENT_USER,
            key_w.as_ptr(),
            name_ptr,
            RRF_RT_REG_SZ,
            std::ptr::null_mut(),
            buf.as_mut_ptr().cast(),
            &mut len,
        )
    };
    if status == ERROR_FILE_NOT_FOUND {
        return Ok(None);
    }
    check(status)?;
    buf.truncate((len as usize / 2).saturating_sub(1));
    Ok(Some(String::from_utf16_lossy(&buf)))
}

/// Removes the value `name` under `HKCU\key`; absent is fine.
pub fn delete_value(key: &str, name: &str) -> io::Result<()> {
    let (key_w, name_w) = (wide(key), wide(name));
    // SAFETY: NUL-terminated strings.
    match unsafe { RegDeleteKeyValueW(HKEY_CURRENT_USER, key_w.as_ptr(), name_w.as_ptr()) } {
        ERROR_FILE_NOT_FOUND => Ok(()),
        status => check(status),
    }
}

/// Leaves the console when this process is its only user: started from the Start menu or the
/// Run key, Windows gave the (console-subsystem) exe a console window of its own, which the
/// tray does not want. Started from a terminal, the console is shared and kept for the logs.
pub fn detach_own_console() {
    use windows_sys::Win32::System::Console::{FreeConsole, GetConsoleProcessList};
    let mut pids = [0u32; 2];
    // SAFETY: the buffer and its length match.
    let attached = unsafe { GetConsoleProcessList(pids.as_mut_ptr(), pids.len() as u32) };
    if attached == 1 {
        // SAFETY: no arguments; failure only means there was no console.
        unsafe { FreeConsole() };
    }
}
