//! The notification-area icon on Windows: the icon and menu of `icon_menu`, and a Win32
//! message loop on the thread that created them. Other threads post `WM_APP` to that thread
//! when they have sent an [`Event`].

use std::sync::mpsc;

use windows_sys::Win32::System::Threading::GetCurrentThreadId;
use windows_sys::Win32::UI::WindowsAndMessaging::{
    DispatchMessageW, GetMessageW, PeekMessageW, PostQuitMessage, PostThreadMessageW, TranslateMessage, MSG,
    PM_NOREMOVE, WM_APP, WM_USER,
};

use super::icon_menu::Tray;
use super::{Controller, Event, Flow};

pub struct Front {
    thread: u32,
}

impl Front {
    pub fn new() -> Front {
        // SAFETY: plain Win32 calls on this thread; the PeekMessage creates its message queue
        // now, so that a `PostThreadMessageW` from another thread before the loop starts lands.
        unsafe {
            let mut msg: MSG = std::mem::zeroed();
            PeekMessageW(&mut msg, std::ptr::null_mut(), WM_USER, WM_USER, PM_NOREMOVE);
            Front {
                thread: GetCurrentThreadId(),
            }
        }
    }

    pub fn waker(&self) -> impl Fn() + Clone + Send + Sync + 'static {
        let thread = self.thread;
        // SAFETY: posting a message with no pointers in it to a thread id.
        move || unsafe {
            PostThreadMessageW(thread, WM_APP, 0, 0);
        }
    }

    pub fn run(self, controller: &Controller, events: mpsc::Receiver<Event>) -> Result<(), String> {
        // The right button opens the menu, a left double-click the dashboard.
        let mut tray = Tray::new(controller, false)?;
        // SAFETY: the standard message loop; `msg` is written by GetMessageW before use.
        let mut msg: MSG = unsafe { std::mem::zeroed() };
        loop {
            // Hand-offs, state changes and menu clicks queued before this message.
            if tray.pump(controller, &events) == Flow::Quit {
                // SAFETY: ends the loop below with WM_QUIT.
                unsafe { PostQuitMessage(0) };
            }
            // SAFETY: see above.
            let got = unsafe { GetMessageW(&mut msg, std::ptr::null_mut(), 0, 0) };
            if got == 0 || got == -1 {
                break;
            }
            // SAFETY: `msg` was filled by GetMessageW.
            unsafe {
                TranslateMessage(&msg);
                DispatchMessageW(&msg);
            }
        }
        // Removes the icon from the notification area now rather than at the next mouse-over.
        drop(tray);
        Ok(())
    }
}
