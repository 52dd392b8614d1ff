//! Config files from anywhere: imports, the editor's drafts and `config set`
//! hand whatever text they get to the YAML, TOML and JSON readers, then merge,
//! diff, render and edit the result. None of it may panic or hang; every
//! input is either a tree or a syntax error with a line.
#![no_main]

use libfuzzer_sys::fuzz_target;
use opsdeck_config::{diff, effective, parse, render, Format, Layer, RenderFormat};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    for format in [Format::Yaml, Format::Toml, Format::Json] {
        let Ok(root) = parse(text, format, "fuzz") else {
            continue;
        };
        let layer = Layer { name: "committed".to_owned(), source: "fuzz".to_owned(), root: root.clone() };
        let merged = effective(&[layer.clone(), layer]);
        let _ = diff(&root, &merged.root);
        let json = merged.root.to_json();
        for output in [RenderFormat::Yaml, RenderFormat::Toml, RenderFormat::Json, RenderFormat::Env] {
            let _ = render(&json, output, "FUZZ");
        }
        if let Some((key, _)) = root.leaves().first() {
            let _ = opsdeck_config::edit::set_value(text, format, "fuzz", key, &serde_json::json!(1));
        }
    }
});
