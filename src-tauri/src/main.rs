//! The OpsDeck desktop app's entry point; everything is in the library crate.

// No console window next to the app on Windows release builds.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

fn main() {
    opsdeck_app_lib::run();
}
