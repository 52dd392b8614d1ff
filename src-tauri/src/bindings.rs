//! TypeScript types for the UI, generated from the Rust types the commands
//! take and return (ts-rs), kept in `ui/src/lib/bindings/`.
//!
//! A test fails when the committed files differ from what the Rust types
//! generate; run `make bindings` (or `UPDATE_BINDINGS=1 cargo test -p opsdeck-app`)
//! to rewrite them.

use std::path::{Path, PathBuf};

use ts_rs::{Config, TS};

/// Every type that crosses IPC, as (file name, generated TypeScript).
pub fn generate() -> Vec<(String, String)> {
    let config = Config::new();
    let mut files = Vec::new();
    let mut add = |name: &str, text: Result<String, ts_rs::ExportError>| {
        let text = text.unwrap_or_else(|error| panic!("ts-rs could not generate {name}: {error}"));
        files.push((format!("{name}.ts"), text));
    };
    add("DeckStatus", opsdeck::DeckStatus::export_to_string(&config));
    add("CommandError", crate::CommandError::export_to_string(&config));
    add("AuditEntry", opsdeck::AuditEntry::export_to_string(&config));
    add("AuditFilter", opsdeck::AuditFilter::export_to_string(&config));
    add("VerifyReport", opsdeck::VerifyReport::export_to_string(&config));
    // Events: core's own and each area's; `DeckEvent` is their union.
    add("CoreEvent", opsdeck::CoreEvent::export_to_string(&config));
    add("TelemetryEvent", opsdeck::telemetry::TelemetryEvent::export_to_string(&config));
    add("CertsEvent", opsdeck::certs::CertsEvent::export_to_string(&config));
    add("ScanEvent", opsdeck::scan::ScanEvent::export_to_string(&config));
    add("DeckEvent", Ok(deck_event_union(&["CoreEvent", "TelemetryEvent", "CertsEvent", "ScanEvent"])));
    add("JobInfo", opsdeck::JobInfo::export_to_string(&config));
    add("JobRun", opsdeck::JobRun::export_to_string(&config));
    add("EndpointHealth", opsdeck::EndpointHealth::export_to_string(&config));
    add("BreakerState", opsdeck_core::http::BreakerState::export_to_string(&config));
    add("CallOutcome", opsdeck_core::http::CallOutcome::export_to_string(&config));
    add("WebhookTarget", opsdeck::WebhookTarget::export_to_string(&config));
    add("Delivery", opsdeck::Delivery::export_to_string(&config));
    add("VaultInfo", opsdeck::VaultInfo::export_to_string(&config));
    add("SecretInfo", opsdeck::SecretInfo::export_to_string(&config));
    add("VersionInfo", opsdeck::VersionInfo::export_to_string(&config));
    add("Role", opsdeck::Role::export_to_string(&config));
    add("MemberInfo", opsdeck::MemberInfo::export_to_string(&config));
    add("SlotInfo", opsdeck::SlotInfo::export_to_string(&config));
    add("RotationReport", opsdeck::RotationReport::export_to_string(&config));
    add("ImportReport", opsdeck::ImportReport::export_to_string(&config));
    add("CertRecord", opsdeck::CertRecord::export_to_string(&config));
    add("CertEvent", opsdeck::CertEvent::export_to_string(&config));
    add("Location", opsdeck::CertLocation::export_to_string(&config));
    add("Managed", opsdeck::ManagedCert::export_to_string(&config));
    add("DeployHook", opsdeck::DeployHook::export_to_string(&config));
    add("CertDetail", opsdeck::CertDetail::export_to_string(&config));
    add("CertDetails", opsdeck::CertDetails::export_to_string(&config));
    add("CertImportReport", opsdeck::CertImportReport::export_to_string(&config));
    add("CertImportProblem", opsdeck::CertImportProblem::export_to_string(&config));
    add("CertSummary", opsdeck::CertSummary::export_to_string(&config));
    add("IssueOptions", opsdeck::IssueOptions::export_to_string(&config));
    add("DnsUpdate", opsdeck::DnsUpdate::export_to_string(&config));
    add("ExternalAccount", opsdeck::ExternalAccount::export_to_string(&config));
    add("ProjectInfo", opsdeck::ConfigProject::export_to_string(&config));
    add("TraceSummary", opsdeck::TraceSummary::export_to_string(&config));
    add("TraceDetail", opsdeck::TraceDetail::export_to_string(&config));
    add("Span", opsdeck::Span::export_to_string(&config));
    add("LogRecord", opsdeck::LogRecord::export_to_string(&config));
    add("PathSegment", opsdeck::PathSegment::export_to_string(&config));
    add("ServiceEdge", opsdeck::ServiceEdge::export_to_string(&config));
    add("ServiceOperations", opsdeck::ServiceOperations::export_to_string(&config));
    add("SpanComparison", opsdeck::SpanComparison::export_to_string(&config));
    add("SlowTrace", opsdeck::SlowTrace::export_to_string(&config));
    add("DemoReport", opsdeck::DemoReport::export_to_string(&config));
    add("TelemetrySummary", opsdeck::TelemetrySummary::export_to_string(&config));
    add("ConfigLayer", opsdeck::ConfigLayer::export_to_string(&config));
    add("ConfigVersion", opsdeck::ConfigVersion::export_to_string(&config));
    add("ConfigExplained", opsdeck::ConfigExplained::export_to_string(&config));
    add("ConfigValidation", opsdeck::ConfigValidation::export_to_string(&config));
    add("Violation", opsdeck::ConfigViolation::export_to_string(&config));
    add("DraftCheck", opsdeck::DraftCheck::export_to_string(&config));
    add("SyntaxProblem", opsdeck::SyntaxProblem::export_to_string(&config));
    add("Change", opsdeck::ConfigChange::export_to_string(&config));
    add("LayerChange", opsdeck::LayerChange::export_to_string(&config));
    add("PromotionPreview", opsdeck::PromotionPreview::export_to_string(&config));
    add("Promotion", opsdeck::ConfigPromotion::export_to_string(&config));
    add("PromotionRequest", opsdeck::PromotionRequest::export_to_string(&config));
    add("ConfigSummary", opsdeck::ConfigSummary::export_to_string(&config));
    add("ConfigLink", opsdeck::ConfigLink::export_to_string(&config));
    add("LinkConflict", opsdeck::LinkConflict::export_to_string(&config));
    add("LinkResolution", opsdeck::LinkResolution::export_to_string(&config));
    add("LinkResolved", opsdeck::LinkResolved::export_to_string(&config));
    add("ReloadHook", opsdeck::ReloadHook::export_to_string(&config));
    add("ReloadOutcome", opsdeck::ReloadOutcome::export_to_string(&config));
    // The catalogue's input and output types, with every type they use.
    for (file, text) in opsdeck::app_code::typescript_types() {
        match files.iter().find(|(known, _)| *known == file) {
            Some((_, known)) => {
                assert_eq!(known, &text, "two different Rust types are both {file}: rename one")
            }
            None => files.push((file, text)),
        }
    }
    files
}

/// `DeckEvent`: every event the app forwards to the UI, the union of core's
/// events and each area's (one `kind` each).
fn deck_event_union(types: &[&str]) -> String {
    let imports: String =
        types.iter().map(|name| format!("import type {{ {name} }} from \"./{name}\";\n")).collect();
    format!(
        "// Generated by src-tauri/src/bindings.rs from the event types of core and each area.\n{imports}\n\
         /**\n * Something that happened in the deck (`kind` says what).\n */\nexport type DeckEvent = {};\n",
        types.join(" | ")
    )
}

/// Where the generated files live in the repository.
pub fn bindings_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../ui/src/lib/bindings")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typescript_bindings_match_the_rust_types() {
        let dir = bindings_dir();
        let update = std::env::var_os("UPDATE_BINDINGS").is_some();
        let mut stale = Vec::new();
        for (file, text) in generate() {
            let path = dir.join(&file);
            if update {
                std::fs::create_dir_all(&dir).unwrap();
                std::fs::write(&path, &text).unwrap();
            } else if std::fs::read_to_string(&path).ok().as_deref() != Some(text.as_str()) {
                stale.push(file);
            }
        }
        assert!(
            stale.is_empty(),
            "stale TypeScript bindings {stale:?}: run `make bindings` and commit the result"
        );
    }

    #[test]
    fn no_binding_is_left_over_from_a_type_that_is_gone() {
        let generated: Vec<String> = generate().into_iter().map(|(file, _)| file).collect();
        let left_over: Vec<String> = std::fs::read_dir(bindings_dir())
            .unwrap()
            .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|file| !generated.contains(file))
            .collect();
        assert!(left_over.is_empty(), "bindings of types that are gone {left_over:?}: delete them");
    }

    #[test]
    fn every_type_a_binding_imports_is_generated_too() {
        let files = generate();
        let names: Vec<&str> = files.iter().map(|(file, _)| file.trim_end_matches(".ts")).collect();
        for (file, text) in &files {
            for line in text.lines().filter(|line| line.starts_with("import type")) {
                let imported = line.split('"').nth(1).unwrap_or_default().trim_start_matches("./");
                assert!(names.contains(&imported), "{file} imports {imported}, which is not generated");
            }
        }
    }
}
