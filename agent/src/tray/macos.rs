//! The menu-bar icon on macOS: the icon and menu of `icon_menu`, and an AppKit event loop on
//! the main thread, where tray-icon's status item lives. The agent is an accessory app: no
//! Dock icon and no menu bar of its own. Other threads wake the loop by posting an
//! application-defined event when they have sent an [`Event`].

use std::sync::mpsc;

use objc2::rc::{autoreleasepool, Retained};
use objc2::{msg_send, ClassType, MainThreadMarker};
use objc2_app_kit::{
    NSApplication, NSApplicationActivationPolicy, NSEvent, NSEventMask, NSEventModifierFlags, NSEventType,
};
use objc2_foundation::{NSDate, NSDefaultRunLoopMode, NSPoint};

use super::icon_menu::Tray;
use super::{Controller, Event, Flow};

/// `data1` of the wake-up event, to tell it from other application-defined events.
const WAKE: isize = 0x426f_744d; // "BotM"

pub struct Front {
    /// `None` off the main thread, where AppKit cannot run.
    app: Option<Retained<NSApplication>>,
}

impl Front {
    pub fn new() -> Front {
        let app = MainThreadMarker::new().map(|mtm| {
            let app = NSApplication::sharedApplication(mtm);
            app.setActivationPolicy(NSApplicationActivationPolicy::Accessory);
            app
        });
        Front { app }
    }

    pub fn waker(&self) -> impl Fn() + Clone + Send + Sync + 'static {
        let running = self.app.is_some();
        move || {
            if running {
                post_wake();
            }
        }
    }

    pub fn run(self, controller: &Controller, events: mpsc::Receiver<Event>) -> Result<(), String> {
        let app = self
            .app
            .ok_or("the tray has to run on the process's main thread on macOS")?;
        // What `[NSApp run]` does before its loop: the status item wants a launched app.
        app.finishLaunching();
        // Any click opens the menu, as menu-bar extras do.
        let mut tray = Tray::new(controller, true)?;
        while tray.pump(controller, &events) == Flow::Continue {
            autoreleasepool(|_| {
                // SAFETY: an immutable AppKit constant.
                let mode = unsafe { NSDefaultRunLoopMode };
                let next = app.nextEventMatchingMask_untilDate_inMode_dequeue(
                    NSEventMask::Any,
                    Some(&NSDate::distantFuture()),
                    mode,
                    true,
                );
                // A click on the icon opens its menu inside `sendEvent`, which returns once the
                // menu closes; the clicked item is then in the menu channel for `pump`.
                if let Some(event) = next.filter(|e| !is_wake(e)) {
                    app.sendEvent(&event);
                }
            });
        }
        // Takes the icon out of the menu bar.
        drop(tray);
        Ok(())
    }
}

/// Puts a wake-up event at the end of the main thread's event queue; callable from any thread
/// (GLFW's `glfwPostEmptyEvent` wakes its `nextEventMatchingMask` loop the same way).
fn post_wake() {
    autoreleasepool(|_| {
        let Some(event) =
            NSEvent::otherEventWithType_location_modifierFlags_timestamp_windowNumber_context_subtype_data1_data2(
                NSEventType::ApplicationDefined,
                NSPoint::ZERO,
                NSEventModifierFlags::empty(),
                0.0,
                0,
                None,
                0,
                WAKE,
                0,
            )
        else {
            return;
        };
        // SAFETY: `Front::new` created the shared application on the main thread (this runs
        // only when it did), so this only fetches it; `postEvent:atStart:` is documented as
        // callable from secondary threads, which is all that is done with it here.
        let app: Retained<NSApplication> = unsafe { msg_send![NSApplication::class(), sharedApplication] };
        app.postEvent_atStart(&event, false);
    });
}

fn is_wake(event: &NSEvent) -> bool {
    event.r#type() == NSEventType::ApplicationDefined && event.data1() == WAKE
}
