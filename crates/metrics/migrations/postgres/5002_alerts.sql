-- Alerting: groups of rules (each evaluated on its own interval), the
-- alerts their expressions return (pending, firing, recently resolved),
-- every state change, and silences. Definitions and alerts are kept as
-- JSON documents; the columns beside them are what is looked up.
CREATE TABLE alert_groups (
    name TEXT PRIMARY KEY,
    definition TEXT NOT NULL,
    updated_at_unix_ms BIGINT NOT NULL
);
CREATE TABLE alert_rules (
    group_name TEXT NOT NULL REFERENCES alert_groups (name) ON DELETE CASCADE,
    name TEXT NOT NULL,
    position BIGINT NOT NULL,
    definition TEXT NOT NULL,
    updated_at_unix_ms BIGINT NOT NULL,
    updated_by TEXT NOT NULL,
    health TEXT NOT NULL,
    last_error TEXT NOT NULL,
    evaluated_at_unix_ms BIGINT,
    PRIMARY KEY (group_name, name)
);
CREATE TABLE alert_instances (
    fingerprint TEXT PRIMARY KEY,
    group_name TEXT NOT NULL,
    rule_name TEXT NOT NULL,
    state TEXT NOT NULL,
    alert TEXT NOT NULL
);
CREATE INDEX alert_instances_by_rule ON alert_instances (group_name, rule_name);
CREATE TABLE alert_transitions (
    id BIGSERIAL PRIMARY KEY,
    fingerprint TEXT NOT NULL,
    group_name TEXT NOT NULL,
    rule_name TEXT NOT NULL,
    transition TEXT NOT NULL,
    at_unix_ms BIGINT NOT NULL
);
CREATE INDEX alert_transitions_by_time ON alert_transitions (at_unix_ms);
CREATE INDEX alert_transitions_by_alert ON alert_transitions (fingerprint, at_unix_ms);
CREATE TABLE alert_silences (
    id TEXT PRIMARY KEY,
    silence TEXT NOT NULL,
    ends_at_unix_ms BIGINT NOT NULL
);
