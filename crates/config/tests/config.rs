//! Reading tricky config files and merging layers, through the public API.

use opsdeck_config::env::{default_prefix, env_layer};
use opsdeck_config::{effective, parse, ConfigError, Format, Layer, Node, Value};

fn yaml(text: &str) -> Node {
    parse(text, Format::Yaml, "test.yaml").unwrap()
}

fn error(text: &str, format: Format) -> (Option<usize>, String) {
    match parse(text, format, "bad") {
        Err(ConfigError::Syntax { line, message, .. }) => (line, message),
        other => panic!("expected a syntax error, got {other:?}"),
    }
}

#[test]
fn yaml_anchors_and_merge_keys_expand_with_written_keys_winning() {
    let root = yaml("base: &base\n  timeout: 5\n  retries: 3\nprod:\n  <<: *base\n  retries: 5\n");
    assert_eq!(root.at("prod.timeout").unwrap().value, Value::Int(5));
    assert_eq!(root.at("prod.retries").unwrap().value, Value::Int(5));
    // Several merged maps: the earlier one wins.
    let root = yaml("a: &a {x: 1}\nb: &b {x: 2, y: 2}\nc:\n  <<: [*a, *b]\n");
    assert_eq!(root.at("c.x").unwrap().value, Value::Int(1));
    assert_eq!(root.at("c.y").unwrap().value, Value::Int(2));
}

#[test]
fn duplicate_keys_are_errors_with_their_lines() {
    let (line, message) = error("db:\n  host: a\n  host: b\n", Format::Yaml);
    assert_eq!(line, Some(3));
    assert!(message.contains("\"host\" appears twice") && message.contains("line 2"), "{message}");
    let (line, message) = error("{\n  \"port\": 1,\n  \"port\": 2\n}\n", Format::Json);
    assert_eq!(line, Some(3));
    assert!(message.contains("appears twice"), "{message}");
    let (line, message) = error("a = 1\nb = 2\na = 3\n", Format::Toml);
    assert_eq!(line, Some(3), "{message}");
}

#[test]
fn scalars_are_typed_by_yaml_core_rules_and_quotes_keep_strings() {
    let root = yaml("a: 10\nb: 1.5\nc: true\nd: ~\ne: '10'\nf: 0x1f\ng: yes\nh: 1e3\ni: !!str 7\n");
    assert_eq!(root.get("a").unwrap().value, Value::Int(10));
    assert_eq!(root.get("b").unwrap().value, Value::Float(1.5));
    assert_eq!(root.get("c").unwrap().value, Value::Bool(true));
    assert_eq!(root.get("d").unwrap().value, Value::Null);
    assert_eq!(root.get("e").unwrap().value, Value::String("10".into()));
    assert_eq!(root.get("f").unwrap().value, Value::Int(31));
    // YAML 1.2: `yes` is a string, not a boolean.
    assert_eq!(root.get("g").unwrap().value, Value::String("yes".into()));
    assert_eq!(root.get("h").unwrap().value, Value::Float(1000.0));
    assert_eq!(root.get("i").unwrap().value, Value::String("7".into()));
}

#[test]
fn deep_nesting_unicode_keys_and_lines_are_kept() {
    let mut text = String::new();
    for depth in 0..300 {
        text.push_str(&format!("{}k{depth}:\n", "  ".repeat(depth)));
    }
    text.push_str(&format!("{}leaf: 1\n", "  ".repeat(300)));
    let root = yaml(&text);
    let path: Vec<String> = (0..300).map(|depth| format!("k{depth}")).chain(["leaf".to_owned()]).collect();
    let leaf = root.at(&path.join(".")).unwrap();
    assert_eq!(leaf.value, Value::Int(1));
    assert_eq!(leaf.line, Some(301));

    let root = yaml("größe: 1\n名前: café\n");
    assert_eq!(root.get("größe").unwrap().value, Value::Int(1));
    assert_eq!(root.get("名前").unwrap().value, Value::String("café".into()));
}

#[test]
fn a_huge_file_is_read_whole() {
    let text: String = (0..50_000).map(|index| format!("key{index}: value {index}\n")).collect();
    let root = yaml(&text);
    assert_eq!(root.leaves().len(), 50_000);
    assert_eq!(root.get("key49999").unwrap().line, Some(50_000));
}

#[test]
fn toml_dates_tables_and_arrays_of_tables() {
    let root = parse(
        "title = \"shop\"\nreleased = 1979-05-27T07:32:00Z\nday = 2026-11-23\n\n[db]\nhost = \"db.internal\"\n\n[[upstream]]\nname = \"a\"\n[[upstream]]\nname = \"b\"\n",
        Format::Toml,
        "shop.toml",
    )
    .unwrap();
    assert_eq!(root.get("released").unwrap().value, Value::String("1979-05-27T07:32:00Z".into()));
    assert_eq!(root.get("day").unwrap().value, Value::String("2026-11-23".into()));
    assert_eq!(root.at("db.host").unwrap().line, Some(6));
    match &root.get("upstream").unwrap().value {
        Value::List(items) => assert_eq!(items.len(), 2),
        other => panic!("{other:?}"),
    }
}

#[test]
fn broken_files_say_where() {
    let (line, _) = error("a: 1\nb: [1, 2\nc: 3\n", Format::Yaml);
    assert!(line.is_some());
    let (line, message) = error("{\"a\": 1,}\n", Format::Json);
    assert_eq!(line, Some(1));
    assert!(message.contains("not valid JSON"), "{message}");
    let (_, message) = error("- a\n- b\n", Format::Yaml);
    assert!(message.contains("top level must be a map"), "{message}");
    let (_, message) = error("a: 1\n---\nb: 2\n", Format::Yaml);
    assert!(message.contains("2 YAML documents"), "{message}");
    let (_, message) = error("x: *nowhere\n", Format::Yaml);
    assert!(!message.is_empty());
    assert!(Format::from_path("app.ini").is_err());
    assert_eq!(Format::from_path("app.YML").unwrap(), Format::Yaml);
    assert_eq!(
        parse("", Format::Yaml, "empty.yaml").unwrap(),
        Node { value: Value::Map(vec![]), line: None }
    );
}

#[test]
fn environment_variables_nest_on_double_underscores() {
    assert_eq!(default_prefix("shop-api"), "SHOP_API");
    let (root, used) = env_layer(
        "SHOP",
        [
            ("SHOP_DB__POOL__SIZE".to_owned(), "20".to_owned()),
            ("SHOP_LOG_LEVEL".to_owned(), "debug".to_owned()),
            ("SHOPPING_LIST".to_owned(), "no".to_owned()),
            ("SHOP_BAD____KEY".to_owned(), "skipped".to_owned()),
        ],
    );
    assert_eq!(root.at("db.pool.size").unwrap().value, Value::String("20".into()));
    assert_eq!(root.at("log_level").unwrap().value, Value::String("debug".into()));
    assert_eq!(used, ["SHOP_DB__POOL__SIZE", "SHOP_LOG_LEVEL"]);
}

#[test]
fn the_effective_config_names_the_layer_of_every_value_and_what_it_overrode() {
    let defaults = Layer {
        name: "defaults".into(),
        source: "defaults.yaml".into(),
        root: yaml("db:\n  pool:\n    size: 5\n  host: localhost\nlog: info\n"),
    };
    let committed = Layer {
        name: "committed".into(),
        source: "shop.toml".into(),
        root: parse("[db.pool]\nsize = 10\n", Format::Toml, "shop.toml").unwrap(),
    };
    let (env_root, _) = env_layer("SHOP", [("SHOP_DB__POOL__SIZE".to_owned(), "20".to_owned())]);
    let env = Layer { name: "env".into(), source: "SHOP_* variables".into(), root: env_root };
    let merged = effective(&[defaults, committed, env]);
    assert_eq!(merged.root.at("db.pool.size").unwrap().value, Value::String("20".into()));
    assert_eq!(merged.root.at("db.host").unwrap().value, Value::String("localhost".into()));
    let size = &merged.provenance["db.pool.size"];
    assert_eq!(size.layer, "env");
    assert_eq!(
        size.overridden,
        vec![("defaults".to_owned(), serde_json::json!(5)), ("committed".to_owned(), serde_json::json!(10))]
    );
    let host = &merged.provenance["db.host"];
    assert_eq!(
        (host.layer.as_str(), host.source.as_str(), host.line),
        ("defaults", "defaults.yaml", Some(4))
    );
    assert!(merged.provenance["log"].overridden.is_empty());
}

const SCHEMA: &str = r#"{
  "type": "object",
  "required": ["db"],
  "properties": {
    "db": {
      "type": "object",
      "required": ["host"],
      "properties": {
        "host": {"type": "string"},
        "pool": {"type": "object", "properties": {"size": {"type": "integer", "minimum": 1}}},
        "replicas": {"type": "array", "items": {"type": "string"}}
      }
    },
    "debug": {"type": "boolean"},
    "ratio": {"type": "number"}
  }
}"#;

#[test]
fn a_broken_schema_is_refused_with_why() {
    let error = opsdeck_config::Schema::parse(r#"{"type": "nonsense"}"#).err().unwrap();
    assert_eq!(error.code(), "config_schema_invalid");
    assert!(opsdeck_config::Schema::parse("{not json").err().unwrap().to_string().contains("not JSON"));
}

#[test]
fn valid_yaml_that_breaks_the_schema_names_the_key_layer_and_line() {
    let schema = opsdeck_config::Schema::parse(SCHEMA).unwrap();
    let committed = Layer {
        name: "committed".into(),
        source: "shop.yaml".into(),
        root: yaml("db:\n  host: db.internal\n  pool:\n    size: 0\ndebug: maybe\n"),
    };
    let violations = schema.check(&effective(&[committed]));
    let size = violations.iter().find(|violation| violation.path == "db.pool.size").expect("size");
    assert_eq!(size.line, Some(4));
    assert_eq!(size.source.as_deref(), Some("committed (shop.yaml)"));
    assert!(size.message.contains("minimum"), "{}", size.message);
    let debug = violations.iter().find(|violation| violation.path == "debug").expect("debug");
    assert_eq!(debug.line, Some(5));

    // A missing required key points at the map that lacks it.
    let missing = Layer {
        name: "committed".into(),
        source: "shop.yaml".into(),
        root: yaml("db:\n  pool:\n    size: 3\n"),
    };
    let violations = schema.check(&effective(&[missing]));
    assert_eq!(violations.len(), 1, "{violations:?}");
    assert_eq!(violations[0].path, "db");
    assert!(violations[0].message.contains("host"), "{}", violations[0].message);
}

#[test]
fn environment_strings_take_the_schemas_types() {
    let schema = opsdeck_config::Schema::parse(SCHEMA).unwrap();
    let variables = [
        ("SHOP_DB__POOL__SIZE".to_owned(), " 20 ".to_owned()),
        ("SHOP_DEBUG".to_owned(), "yes".to_owned()),
        ("SHOP_RATIO".to_owned(), "0.5".to_owned()),
        ("SHOP_DB__REPLICAS".to_owned(), r#"["a", "b"]"#.to_owned()),
        ("SHOP_DB__HOST".to_owned(), "10.0.0.1".to_owned()),
    ];
    let (mut root, _) = env_layer("SHOP", variables.clone());
    let variable_of = |path: &str| format!("SHOP_{}", path.to_ascii_uppercase().replace('.', "__"));
    schema.coerce_env(&mut root, &variable_of).unwrap();
    assert_eq!(root.at("db.pool.size").unwrap().value, Value::Int(20));
    assert_eq!(root.at("debug").unwrap().value, Value::Bool(true));
    assert_eq!(root.at("ratio").unwrap().value, Value::Float(0.5));
    assert_eq!(root.at("db.host").unwrap().value, Value::String("10.0.0.1".into()));
    assert!(matches!(root.at("db.replicas").unwrap().value, Value::List(ref items) if items.len() == 2));
    let merged = effective(&[Layer { name: "env".into(), source: "SHOP_*".into(), root }]);
    assert!(schema.check(&merged).is_empty(), "{:?}", schema.check(&merged));

    let (mut root, _) = env_layer("SHOP", [("SHOP_DB__POOL__SIZE".to_owned(), "lots".to_owned())]);
    let error = schema.coerce_env(&mut root, &variable_of).unwrap_err();
    assert_eq!(error.code(), "config_env_type");
    let message = error.to_string();
    assert!(message.contains("SHOP_DB__POOL__SIZE") && message.contains("an integer"), "{message}");
}

/// A config store on a fresh SQLite file.
async fn configs(dir: &std::path::Path) -> opsdeck_config::Configs {
    let store = opsdeck_core::Store::open(opsdeck_core::store::StoreLocation::Sqlite(dir.join("store.db")))
        .await
        .unwrap();
    store.apply_migrations(opsdeck_config::migrator(store.kind())).await.unwrap();
    opsdeck_config::Configs::new(store)
}

#[tokio::test]
async fn a_draft_is_checked_as_a_save_would_and_nothing_is_stored() {
    let dir = tempfile::tempdir().unwrap();
    let configs = configs(dir.path()).await;
    let schema = r#"{"type": "object", "required": ["db"], "properties": {
        "db": {"type": "object", "required": ["host"], "properties": {
            "host": {"type": "string"}, "pool": {"type": "integer", "minimum": 1}}}}}"#;
    configs.set_schema("shop", schema).await.unwrap();
    configs
        .save("shop", "dev", "local", Format::Yaml, "db:\n  host: local-db\n", "local.yaml", "me", "")
        .await
        .unwrap();

    // A syntax error: where, and no schema check on top.
    let check =
        configs.check_draft("shop", "dev", "committed", Format::Yaml, "db:\n  pool: [1\n").await.unwrap();
    assert!(!check.ok);
    let syntax = check.syntax.expect("a syntax problem");
    assert!(syntax.line.is_some(), "{syntax:?}");
    assert!(check.violations.is_empty());

    // A schema violation in the draft names its layer and line.
    let check = configs
        .check_draft("shop", "dev", "committed", Format::Yaml, "# pool\ndb:\n  pool: 0\n")
        .await
        .unwrap();
    assert!(!check.ok && check.syntax.is_none());
    assert_eq!(check.violations.len(), 1, "{:?}", check.violations);
    let violation = &check.violations[0];
    assert_eq!(
        (violation.path.as_str(), violation.layer.as_deref(), violation.line),
        ("db.pool", Some("committed"), Some(3))
    );

    // The other layers count: without the local host the draft would break `required`.
    let check =
        configs.check_draft("shop", "dev", "committed", Format::Toml, "[db]\npool = 4\n").await.unwrap();
    assert!(check.ok, "{check:?}");
    let check = configs.check_draft("shop", "dev", "local", Format::Toml, "[db]\npool = 4\n").await.unwrap();
    assert!(!check.ok);
    assert!(check.violations[0].message.contains("\"host\" is a required property"), "{check:?}");

    // Drafts never become versions.
    let history = configs.history("shop", "dev").await.unwrap();
    assert_eq!(history.len(), 1);
    assert_eq!(history[0].layer, "local");
}

/// Found by the `config_text` fuzz target: this text made the TOML parser
/// panic ("all items have spans") instead of answering with an error.
#[test]
fn text_that_once_crashed_the_toml_reader_is_an_error_with_a_line() {
    let text = "{.\x00ost = \x22x\x22 # h\x0awhen =  = \x22x\x22 # h\x0awhen = 4048- h\x0awhen. = 2.\x05.............Ee3.........0\x00\x00-tr\x00";
    for format in [Format::Toml, Format::Yaml, Format::Json] {
        let _ = parse(text, format, "fuzz");
    }
    assert!(parse(text, Format::Toml, "fuzz").is_err());
}
