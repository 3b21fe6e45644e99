//! The notification-area icon on Windows: tray-icon for the icon and its menu, and a Win32
//! message loop on the thread that created them. Other threads post `WM_APP` to that thread
//! when they have sent an [`Event`].

use std::sync::mpsc;

use tray_icon::menu::{CheckMenuItem, Menu, MenuEvent, MenuItem, PredefinedMenuItem};
use tray_icon::{Icon, MouseButton, TrayIcon, TrayIconBuilder, TrayIconEvent};
use windows_sys::Win32::System::Threading::GetCurrentThreadId;
use windows_sys::Win32::UI::WindowsAndMessaging::{
    DispatchMessageW, GetMessageW, PeekMessageW, PostQuitMessage, PostThreadMessageW, TranslateMessage, MSG,
    PM_NOREMOVE, WM_APP, WM_USER,
};

use super::model::{self, Action, Entry, View};
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
        let mut view = controller.view();
        // Without a notification area (none yet at an early autostart, none under a bare
        // wine) the agent still runs and answers later launches; the icon is just missing.
        let tray = TrayIconBuilder::new()
            .with_id("botmox-agent")
            .with_icon(icon(&view)?)
            .with_tooltip(view.tooltip())
            .with_menu(Box::new(menu(&view)))
            .with_menu_on_left_click(false)
            .build()
            .inspect_err(|e| tracing::warn!("cannot create the tray icon ({e}); running without it"))
            .ok();
        // SAFETY: the standard message loop; `msg` is written by GetMessageW before use.
        let mut msg: MSG = unsafe { std::mem::zeroed() };
        loop {
            // Hand-offs, state changes and menu clicks queued before this message.
            let (mut quit, mut changed) = (false, false);
            for event in events.try_iter() {
                changed = true;
                match event {
                    Event::Status => {}
                    Event::Handoff(args) => controller.handoff(&args),
                    Event::Quit => quit = true,
                }
            }
            for event in MenuEvent::receiver().try_iter() {
                changed = true;
                if let Some(action) = Action::from_id(event.id().as_ref()) {
                    quit |= controller.act(action) == Flow::Quit;
                }
            }
            for event in TrayIconEvent::receiver().try_iter() {
                if let TrayIconEvent::DoubleClick {
                    button: MouseButton::Left,
                    ..
                } = event
                {
                    controller.act(Action::OpenDashboard);
                }
            }
            if changed {
                let now = controller.view();
                if now != view {
                    view = now;
                    if let Some(tray) = &tray {
                        update(tray, &view);
                    }
                }
            }
            if quit {
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

fn update(tray: &TrayIcon, view: &View) {
    match icon(view) {
        Ok(icon) => {
            if let Err(e) = tray.set_icon(Some(icon)) {
                tracing::warn!("cannot change the tray icon: {e}");
            }
        }
        Err(e) => tracing::warn!("{e}"),
    }
    if let Err(e) = tray.set_tooltip(Some(view.tooltip())) {
        tracing::warn!("cannot change the tray tooltip: {e}");
    }
    tray.set_menu(Some(Box::new(menu(view))));
}

fn icon(view: &View) -> Result<Icon, String> {
    let rgba = model::icon(view.status).to_vec();
    Icon::from_rgba(rgba, model::ICON_SIZE, model::ICON_SIZE).map_err(|e| format!("bad tray icon: {e}"))
}

fn menu(view: &View) -> Menu {
    let menu = Menu::new();
    for entry in view.menu() {
        let added = match entry {
            Entry::Info(text) => menu.append(&MenuItem::new(text, false, None)),
            Entry::Item { action, label, enabled } => {
                menu.append(&MenuItem::with_id(action.id(), label, enabled, None))
            }
            Entry::Check { action, label, checked } => {
                menu.append(&CheckMenuItem::with_id(action.id(), label, true, checked, None))
            }
            Entry::Separator => menu.append(&PredefinedMenuItem::separator()),
        };
        if let Err(e) = added {
            tracing::warn!("cannot build the tray menu: {e}");
        }
    }
    menu
}
