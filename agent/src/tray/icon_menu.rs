//! The icon and menu of the tray fronts that have one (Windows, macOS): tray-icon built from
//! the toolkit-free [`View`], and one pass over everything the front reacts to. The fronts
//! keep only their event loops.

use std::sync::mpsc;

use tray_icon::menu::{CheckMenuItem, Menu, MenuEvent, MenuItem, PredefinedMenuItem};
use tray_icon::{Icon, MouseButton, TrayIcon, TrayIconBuilder, TrayIconEvent};

use super::model::{self, Action, Entry, View};
use super::{Controller, Event, Flow};

/// The icon with its menu, and the view they show. Dropping it removes the icon.
pub struct Tray {
    icon: Option<TrayIcon>,
    view: View,
}

impl Tray {
    /// Creates the icon on the front's thread. `menu_on_left_click`: macOS opens the menu on
    /// any click; on Windows a left double-click opens the dashboard instead.
    pub fn new(controller: &Controller, menu_on_left_click: bool) -> Result<Tray, String> {
        let view = controller.view();
        // Without a notification area (none yet at an early autostart, none under a bare
        // wine) the agent still runs and answers later launches; the icon is just missing.
        let icon = TrayIconBuilder::new()
            .with_id("botmox-agent")
            // Where the user ⌘-dragged it in the macOS menu bar, kept across launches.
            .with_autosave_name("botmox-agent")
            .with_icon(icon(&view)?)
            .with_tooltip(view.tooltip())
            .with_menu(Box::new(menu(&view)))
            .with_menu_on_left_click(menu_on_left_click)
            .build()
            .inspect_err(|e| tracing::warn!("cannot create the tray icon ({e}); running without it"))
            .ok();
        Ok(Tray { icon, view })
    }

    /// Handles the hand-offs, state changes, menu clicks and icon clicks queued so far and
    /// redraws the icon and menu if what they show changed.
    pub fn pump(&mut self, controller: &Controller, events: &mpsc::Receiver<Event>) -> Flow {
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
            if now != self.view {
                self.view = now;
                if let Some(icon) = &self.icon {
                    update(icon, &self.view);
                }
            }
        }
        if quit {
            Flow::Quit
        } else {
            Flow::Continue
        }
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
