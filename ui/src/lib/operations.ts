// Generated from the catalogue of operations by `make bindings`; do not edit.

import { call } from './ipc';
import type { Alert } from './bindings/Alert';
import type { AlertId } from './bindings/AlertId';
import type { ApiToken } from './bindings/ApiToken';
import type { ApprovalEnvsInput } from './bindings/ApprovalEnvsInput';
import type { AuditEntry } from './bindings/AuditEntry';
import type { AuditFilter } from './bindings/AuditFilter';
import type { CertDetail } from './bindings/CertDetail';
import type { CertImportReport } from './bindings/CertImportReport';
import type { CertQuery } from './bindings/CertQuery';
import type { CertRecord } from './bindings/CertRecord';
import type { CertRemoved } from './bindings/CertRemoved';
import type { CertSummary } from './bindings/CertSummary';
import type { CompareInput } from './bindings/CompareInput';
import type { CompareTraces } from './bindings/CompareTraces';
import type { ConfigComparison } from './bindings/ConfigComparison';
import type { ConfigExplained } from './bindings/ConfigExplained';
import type { ConfigLayer } from './bindings/ConfigLayer';
import type { ConfigLink } from './bindings/ConfigLink';
import type { ConfigRollbackInput } from './bindings/ConfigRollbackInput';
import type { ConfigSummary } from './bindings/ConfigSummary';
import type { ConfigValidation } from './bindings/ConfigValidation';
import type { ConfigVersion } from './bindings/ConfigVersion';
import type { ConfigureInput } from './bindings/ConfigureInput';
import type { Dashboard } from './bindings/Dashboard';
import type { DashboardDetail } from './bindings/DashboardDetail';
import type { DashboardJson } from './bindings/DashboardJson';
import type { DashboardName } from './bindings/DashboardName';
import type { DashboardOnly } from './bindings/DashboardOnly';
import type { DashboardSummary } from './bindings/DashboardSummary';
import type { DashboardVersion } from './bindings/DashboardVersion';
import type { DataSource } from './bindings/DataSource';
import type { DeckStatus } from './bindings/DeckStatus';
import type { DeliveriesInput } from './bindings/DeliveriesInput';
import type { Delivery } from './bindings/Delivery';
import type { DemoInput } from './bindings/DemoInput';
import type { DemoReport } from './bindings/DemoReport';
import type { DraftCheck } from './bindings/DraftCheck';
import type { DraftInput } from './bindings/DraftInput';
import type { DueInput } from './bindings/DueInput';
import type { EndpointHealth } from './bindings/EndpointHealth';
import type { FindingsQuery } from './bindings/FindingsQuery';
import type { GroupRules } from './bindings/GroupRules';
import type { HistoryInput } from './bindings/HistoryInput';
import type { HookInput } from './bindings/HookInput';
import type { HookInstalled } from './bindings/HookInstalled';
import type { ImportFile } from './bindings/ImportFile';
import type { ImportPaths } from './bindings/ImportPaths';
import type { ImportReport } from './bindings/ImportReport';
import type { InVault } from './bindings/InVault';
import type { InstantQuery } from './bindings/InstantQuery';
import type { IssueOptions } from './bindings/IssueOptions';
import type { JobInfo } from './bindings/JobInfo';
import type { JobPaused } from './bindings/JobPaused';
import type { JobQueued } from './bindings/JobQueued';
import type { JobRemoved } from './bindings/JobRemoved';
import type { JobRun } from './bindings/JobRun';
import type { JobRunsInput } from './bindings/JobRunsInput';
import type { LabelValuesInput } from './bindings/LabelValuesInput';
import type { LayersInput } from './bindings/LayersInput';
import type { LinkConflict } from './bindings/LinkConflict';
import type { LinkInput } from './bindings/LinkInput';
import type { LinkResolved } from './bindings/LinkResolved';
import type { Linked } from './bindings/Linked';
import type { LogRecord } from './bindings/LogRecord';
import type { LogSearch } from './bindings/LogSearch';
import type { MarkInput } from './bindings/MarkInput';
import type { MemberInfo } from './bindings/MemberInfo';
import type { MemberRemoved } from './bindings/MemberRemoved';
import type { MemberSetInput } from './bindings/MemberSetInput';
import type { MetricsRetention } from './bindings/MetricsRetention';
import type { NamedJob } from './bindings/NamedJob';
import type { NewPassphrase } from './bindings/NewPassphrase';
import type { NewTarget } from './bindings/NewTarget';
import type { NewTargetInput } from './bindings/NewTargetInput';
import type { NoInput } from './bindings/NoInput';
import type { Nothing } from './bindings/Nothing';
import type { OneCert } from './bindings/OneCert';
import type { OneLayer } from './bindings/OneLayer';
import type { OneMember } from './bindings/OneMember';
import type { OneProject } from './bindings/OneProject';
import type { OneRequest } from './bindings/OneRequest';
import type { OneSecret } from './bindings/OneSecret';
import type { OneTarget } from './bindings/OneTarget';
import type { OneTrace } from './bindings/OneTrace';
import type { PauseInput } from './bindings/PauseInput';
import type { ProbeInput } from './bindings/ProbeInput';
import type { ProjectCreated } from './bindings/ProjectCreated';
import type { ProjectEnv } from './bindings/ProjectEnv';
import type { ProjectInfo } from './bindings/ProjectInfo';
import type { ProjectSchema } from './bindings/ProjectSchema';
import type { PromoteInput } from './bindings/PromoteInput';
import type { Promotion } from './bindings/Promotion';
import type { PromotionInput } from './bindings/PromotionInput';
import type { PromotionPreview } from './bindings/PromotionPreview';
import type { PromotionRequest } from './bindings/PromotionRequest';
import type { QueryAnswer } from './bindings/QueryAnswer';
import type { RangeQuery } from './bindings/RangeQuery';
import type { Receivers } from './bindings/Receivers';
import type { RejectInput } from './bindings/RejectInput';
import type { ReloadHook } from './bindings/ReloadHook';
import type { ReloadHookSet } from './bindings/ReloadHookSet';
import type { Removed } from './bindings/Removed';
import type { RenderInput } from './bindings/RenderInput';
import type { RenderedImage } from './bindings/RenderedImage';
import type { ResolveInput } from './bindings/ResolveInput';
import type { RetentionStatus } from './bindings/RetentionStatus';
import type { RevealInput } from './bindings/RevealInput';
import type { Revealed } from './bindings/Revealed';
import type { RevokeInput } from './bindings/RevokeInput';
import type { RollbackInput } from './bindings/RollbackInput';
import type { RotateInput } from './bindings/RotateInput';
import type { RotationReport } from './bindings/RotationReport';
import type { RuleFileInput } from './bindings/RuleFileInput';
import type { RuleImportReport } from './bindings/RuleImportReport';
import type { RuleInput } from './bindings/RuleInput';
import type { RuleName } from './bindings/RuleName';
import type { SaveInput } from './bindings/SaveInput';
import type { ScanInput } from './bindings/ScanInput';
import type { ScanReport } from './bindings/ScanReport';
import type { ScanTarget } from './bindings/ScanTarget';
import type { ScrapeTarget } from './bindings/ScrapeTarget';
import type { SecretEditInput } from './bindings/SecretEditInput';
import type { SecretImportInput } from './bindings/SecretImportInput';
import type { SecretInfo } from './bindings/SecretInfo';
import type { SecretSetInput } from './bindings/SecretSetInput';
import type { SecretStored } from './bindings/SecretStored';
import type { SeriesLatest } from './bindings/SeriesLatest';
import type { SeriesQuery } from './bindings/SeriesQuery';
import type { ServiceEdge } from './bindings/ServiceEdge';
import type { ServiceOperations } from './bindings/ServiceOperations';
import type { SetReloadHookInput } from './bindings/SetReloadHookInput';
import type { SetSchemaInput } from './bindings/SetSchemaInput';
import type { Silence } from './bindings/Silence';
import type { SilenceId } from './bindings/SilenceId';
import type { SilenceInput } from './bindings/SilenceInput';
import type { SlotInfo } from './bindings/SlotInfo';
import type { SlowInput } from './bindings/SlowInput';
import type { SlowTrace } from './bindings/SlowTrace';
import type { SourceName } from './bindings/SourceName';
import type { SpanComparison } from './bindings/SpanComparison';
import type { StoredFinding } from './bindings/StoredFinding';
import type { TargetInfo } from './bindings/TargetInfo';
import type { TargetName } from './bindings/TargetName';
import type { TargetPath } from './bindings/TargetPath';
import type { TargetRun } from './bindings/TargetRun';
import type { TargetSettings } from './bindings/TargetSettings';
import type { TelemetrySummary } from './bindings/TelemetrySummary';
import type { TraceDetail } from './bindings/TraceDetail';
import type { TraceSearch } from './bindings/TraceSearch';
import type { TraceSummary } from './bindings/TraceSummary';
import type { Transition } from './bindings/Transition';
import type { Unlinked } from './bindings/Unlinked';
import type { VaultAccess } from './bindings/VaultAccess';
import type { VaultCreateInput } from './bindings/VaultCreateInput';
import type { VaultInfo } from './bindings/VaultInfo';
import type { VerifyReport } from './bindings/VerifyReport';
import type { VersionInfo } from './bindings/VersionInfo';
import type { WebhookTarget } from './bindings/WebhookTarget';
import type { Window } from './bindings/Window';

/** A typed function for each operation of the catalogue. */
export const operations = {
  /** `vault.list`: The vaults (a token sees those it reaches), with their key slots and how many secrets each holds. */
  vaultList: () => call<Array<VaultInfo>>('vault_list', { input: {} }),
  /** `vault.create`: Makes a vault with its own data key (in the OS keychain unless no_keychain); its maker becomes its admin. Changes stored data (audited). */
  vaultCreate: (input: VaultCreateInput) => call<VaultInfo>('vault_create', { input }),
  /** `vault.access`: The caller's role in a vault, and (for members) its members and key slots. */
  vaultAccess: (input: InVault) => call<VaultAccess>('vault_access', { input }),
  /** `vault.member_set`: Gives a person a role in a vault (viewer, operator or admin); a vault keeps at least one admin. Changes stored data (audited). */
  vaultMemberSet: (input: MemberSetInput) => call<MemberInfo>('vault_member_set', { input }),
  /** `vault.member_remove`: Takes a person out of a vault (not its last admin). Changes stored data (audited). */
  vaultMemberRemove: (input: OneMember) => call<MemberRemoved>('vault_member_remove', { input }),
  /** `vault.change_passphrase`: Changes the passphrase that opens a vault (vault admins only); the old one stops working at once. Changes stored data (audited). */
  vaultChangePassphrase: (input: NewPassphrase) => call<SlotInfo>('vault_change_passphrase', { input }),
  /** `secret.list`: Metadata of every secret in a vault (name, type, version, tags, rotation and expiry); never values. */
  secretList: (input: InVault) => call<Array<SecretInfo>>('secret_list', { input }),
  /** `secret.show`: Metadata of one secret; never its value. */
  secretShow: (input: OneSecret) => call<SecretInfo>('secret_show', { input }),
  /** `secret.versions`: The versions of one secret, newest first: when and by whom each was made. */
  secretVersions: (input: OneSecret) => call<Array<VersionInfo>>('secret_versions', { input }),
  /** `secret.reveal`: Reveals a secret's value (the current version unless one is named); audited before the value is returned. Reveals a secret value (audited). */
  secretReveal: (input: RevealInput) => call<Revealed>('secret_reveal', { input }),
  /** `secret.set`: Stores a new version of a secret (making it if new): a given value or one from the type's generator; the value is never returned. Changes stored data (audited). */
  secretSet: (input: SecretSetInput) => call<SecretStored>('secret_set', { input }),
  /** `secret.edit`: Changes a secret's tags, note, rotation policy, rotation check or expiry without a new version. Changes stored data (audited). */
  secretEdit: (input: SecretEditInput) => call<SecretInfo>('secret_edit', { input }),
  /** `secret.import`: Imports secrets from .env or JSON text, all or nothing: each named secret gets a new version in one transaction. Changes stored data (audited). */
  secretImport: (input: SecretImportInput) => call<ImportReport>('secret_import', { input }),
  /** `secret.rollback`: Makes an older version's value current again, as a new version (history is never rewritten). Changes stored data (audited). */
  secretRollback: (input: RollbackInput) => call<SecretInfo>('secret_rollback', { input }),
  /** `secret.remove`: Deletes a secret with every version (vault admins only; audited). Changes stored data (audited). */
  secretRemove: (input: OneSecret) => call<Removed>('secret_remove', { input }),
  /** `secret.rotate`: Rotates a secret now with its type's generator; with a verification command the new value is kept only if the command accepts it, otherwise the old one stays current. Changes stored data (audited). */
  secretRotate: (input: RotateInput) => call<RotationReport>('secret_rotate', { input }),
  /** `secret.due`: Secrets whose rotation is due or that expire within a number of days, soonest first, across the vaults the caller reaches. */
  secretDue: (input: DueInput) => call<Array<SecretInfo>>('secret_due', { input }),
  /** `audit.log`: Recorded actions, newest first, filtered by actor, action prefix, target, time or paging. */
  auditLog: (input: AuditFilter) => call<Array<AuditEntry>>('audit_log', { input }),
  /** `audit.verify`: Checks that no audit entry was edited, deleted, inserted or reordered; an intact chain records the check. Changes stored data (audited). */
  auditVerify: () => call<VerifyReport>('audit_verify', { input: {} }),
  /** `api.token_list`: The API tokens: names, rights, makers, expiry, last use; never their values. */
  apiTokenList: () => call<Array<ApiToken>>('api_token_list', { input: {} }),
  /** `job.list`: Every scheduled job (built-in checks, rotations, renewals, command jobs) with its schedule and latest run. */
  jobList: () => call<Array<JobInfo>>('job_list', { input: {} }),
  /** `job.runs`: The latest runs of one job, newest first: when, where, outcome and message. */
  jobRuns: (input: JobRunsInput) => call<Array<JobRun>>('job_runs', { input }),
  /** `job.run_now`: Makes a job due now (the app or `opsdeck serve` runs it next); a job acting on a vault needs its operator role. Changes stored data (audited). */
  jobRunNow: (input: NamedJob) => call<JobQueued>('job_run_now', { input }),
  /** `job.set_paused`: Pauses a job (it stays listed and runs no more) or resumes it; a job acting on a vault needs its operator role. Changes stored data (audited). */
  jobSetPaused: (input: PauseInput) => call<JobPaused>('job_set_paused', { input }),
  /** `job.remove`: Deletes a job and its run history (a command job, a rotation or renewal schedule); built-in jobs cannot be removed, only paused. A job acting on a vault needs its operator role. Changes stored data (audited). */
  jobRemove: (input: NamedJob) => call<JobRemoved>('job_remove', { input }),
  /** `status`: Where this deck keeps its data, which store it uses and its version. */
  status: () => call<DeckStatus>('status', { input: {} }),
  /** `notify.targets`: The webhook targets signed events are sent to (names and URLs; never their secrets). */
  notifyTargets: () => call<Array<WebhookTarget>>('notify_targets', { input: {} }),
  /** `notify.deliveries`: The latest webhook deliveries, newest first: event, target, status, attempts and the last error. */
  notifyDeliveries: (input: DeliveriesInput) => call<Array<Delivery>>('notify_deliveries', { input }),
  /** `notify.test`: Sends a signed test event to one webhook target now and returns the delivery: status, attempts, last error. Changes stored data (audited). */
  notifyTest: (input: OneTarget) => call<Delivery>('notify_test', { input }),
  /** `notify.add`: Adds (or replaces) a webhook target and returns its new signing secret, once; events are signed with it and retried until delivered. Reveals a secret value (audited). */
  notifyAdd: (input: NewTargetInput) => call<NewTarget>('notify_add', { input }),
  /** `connection.list`: The outside endpoints this process has called (ACME, webhooks, OpenBao, …): circuit breaker state and recent outcomes. */
  connectionList: () => call<Array<EndpointHealth>>('connection_list', { input: {} }),
  /** `cert.list`: The certificate inventory, soonest expiry first: subjects, names, issuers, days left, chain status, where each lives, renewal; optionally only those expiring within some days, from one source or in one state. */
  certList: (input: CertQuery) => call<Array<CertRecord>>('cert_list', { input }),
  /** `cert.show`: One certificate in detail: its chain, where it lives, how it is renewed and deployed, and its history. */
  certShow: (input: OneCert) => call<CertDetail>('cert_show', { input }),
  /** `cert.summary`: Readiness of the certificates: how many there are, expiring soon, expired, with broken chains or failed renewals. */
  certSummary: () => call<CertSummary>('cert_summary', { input: {} }),
  /** `cert.import`: Adds the certificates found in files and directories on the OpsDeck machine to the inventory (keys and requests beside them are passed over); reports files it could not read. Changes stored data (audited). */
  certImport: (input: ImportPaths) => call<CertImportReport>('cert_import', { input }),
  /** `cert.import_file`: Adds the certificates of one file's contents (PEM or DER, sent with the request) to the inventory. Changes stored data (audited). */
  certImportFile: (input: ImportFile) => call<CertImportReport>('cert_import_file', { input }),
  /** `cert.probe`: Connects to a TLS endpoint, records the chain it serves in the inventory and checks it (trusted, expired, wrong names). Changes stored data (audited). */
  certProbe: (input: ProbeInput) => call<CertRecord>('cert_probe', { input }),
  /** `cert.issue`: Issues a certificate through ACME (HTTP-01 or DNS-01), seals its key in a vault, deploys it and schedules its renewal; takes as long as the CA does. Changes stored data (audited). */
  certIssue: (input: IssueOptions) => call<CertRecord>('cert_issue', { input }),
  /** `cert.renew`: Renews a certificate issued here now (or retries a failed issuance), then deploys it. Changes stored data (audited). */
  certRenew: (input: OneCert) => call<CertRecord>('cert_renew', { input }),
  /** `cert.revoke`: Asks the CA to revoke a certificate issued here and stops renewing it; cannot be undone. Changes stored data (audited). */
  certRevoke: (input: RevokeInput) => call<CertRecord>('cert_revoke', { input }),
  /** `cert.remove`: Forgets a certificate and stops its renewal; its key stays in the vault and nothing is revoked. Changes stored data (audited). */
  certRemove: (input: OneCert) => call<CertRemoved>('cert_remove', { input }),
  /** `cert.configure`: Changes a certificate's deploy hook (files written, command run after each issuance) and/or when it renews; the renewal job moves at once. Changes stored data (audited). */
  certConfigure: (input: ConfigureInput) => call<CertRecord>('cert_configure', { input }),
  /** `config.projects`: Every config project with its environments, whether it has a schema, and which promotions need approval. */
  configProjects: () => call<Array<ProjectInfo>>('config_projects', { input: {} }),
  /** `config.history`: The versions of one environment's layers, newest first: who changed what, why, and how the service was signalled. */
  configHistory: (input: ProjectEnv) => call<Array<ConfigVersion>>('config_history', { input }),
  /** `config.explain`: The effective config of one environment, every key with its value and provenance (which layer set it, and which it overrode); secret references are not resolved. */
  configExplain: (input: ProjectEnv) => call<Array<ConfigExplained>>('config_explain', { input }),
  /** `config.validate`: Checks one environment's effective config against the project's JSON Schema and lists every violation with its key. */
  configValidate: (input: ProjectEnv) => call<ConfigValidation>('config_validate', { input }),
  /** `config.summary`: Readiness of the configs: projects, environments, schema violations, pending promotion requests and link conflicts. */
  configSummary: () => call<ConfigSummary>('config_summary', { input: {} }),
  /** `config.create_project`: Makes a config project (dev, staging and prod environments); its maker becomes its first admin. Changes stored data (audited). */
  configCreateProject: (input: OneProject) => call<ProjectCreated>('config_create_project', { input }),
  /** `config.layers`: The layers of one environment (defaults, committed, local, …) with their text, format and version. */
  configLayers: (input: LayersInput) => call<Array<ConfigLayer>>('config_layers', { input }),
  /** `config.compare`: Compares two versions of an environment: the keys added, removed and changed, and each changed layer's text. */
  configCompare: (input: CompareInput) => call<ConfigComparison>('config_compare', { input }),
  /** `config.rollback`: Makes an older version of an environment current again, as new versions (history is kept), and signals the service. Changes stored data (audited). */
  configRollback: (input: ConfigRollbackInput) => call<Array<ConfigVersion>>('config_rollback', { input }),
  /** `config.preview_promotion`: What promoting one environment's committed layer to another would change, and whether the result meets the schema. */
  configPreviewPromotion: (input: PromotionInput) => call<PromotionPreview>('config_preview_promotion', { input }),
  /** `config.promote`: Promotes one environment's committed layer to another; where the target needs approval this makes a request for another person instead. Changes stored data (audited). */
  configPromote: (input: PromoteInput) => call<Promotion>('config_promote', { input }),
  /** `config.requests`: A project's promotion requests, newest first: pending ones wait for a second person. */
  configRequests: (input: OneProject) => call<Array<PromotionRequest>>('config_requests', { input }),
  /** `config.approve`: Approves a pending promotion request (not one's own) and applies it, if the source has not changed since. Changes stored data (audited). */
  configApprove: (input: OneRequest) => call<ConfigVersion>('config_approve', { input }),
  /** `config.reject`: Turns down a pending promotion request, with a reason. Changes stored data (audited). */
  configReject: (input: RejectInput) => call<PromotionRequest>('config_reject', { input }),
  /** `config.reload_hook`: How an environment's service is signalled after each change: a command on this machine and/or a webhook. */
  configReloadHook: (input: ProjectEnv) => call<ReloadHook>('config_reload_hook', { input }),
  /** `config.set_reload_hook`: Sets how an environment's service is signalled after each change (project admins only; the command is sealed and runs on the machine that set it). Changes stored data (audited). */
  configSetReloadHook: (input: SetReloadHookInput) => call<ReloadHookSet>('config_set_reload_hook', { input }),
  /** `config.set_approval_envs`: Sets which environments a promotion into needs a second person's approval (project admins only). Changes stored data (audited). */
  configSetApprovalEnvs: (input: ApprovalEnvsInput) => call<ApprovalEnvsInput>('config_set_approval_envs', { input }),
  /** `config.schema`: The JSON Schema every environment of a config project is checked against (none when it has none). */
  configSchema: (input: OneProject) => call<ProjectSchema>('config_schema', { input }),
  /** `config.set_schema`: Sets a config project's JSON Schema; refused when the schema is broken or a stored environment would break it (each violation named). Changes stored data (audited). */
  configSetSchema: (input: SetSchemaInput) => call<ProjectSchema>('config_set_schema', { input }),
  /** `config.check_draft`: Checks a layer's unsaved text as a save would (syntax with line numbers, the schema on the merged result, references) without storing anything. */
  configCheckDraft: (input: DraftInput) => call<DraftCheck>('config_check_draft', { input }),
  /** `config.save`: Stores a layer's new text as the next version of its environment (refused, with every problem, when it breaks the syntax, the schema or a reference); runs the reload hook. Changes stored data (audited). */
  configSave: (input: SaveInput) => call<ConfigVersion>('config_save', { input }),
  /** `config.links`: Every config layer linked to a file on the OpsDeck machine, with when it last agreed and any conflict waiting for a choice. */
  configLinks: () => call<Array<ConfigLink>>('config_links', { input: {} }),
  /** `config.link`: Links a layer to a file on the OpsDeck machine: the file's text is stored now (checked like any save), edits to the file are stored, stored changes are written back to it. Changes stored data (audited). */
  configLink: (input: LinkInput) => call<Linked>('config_link', { input }),
  /** `config.unlink`: Stops following a layer's file (the file and the stored versions stay). Changes stored data (audited). */
  configUnlink: (input: OneLayer) => call<Unlinked>('config_unlink', { input }),
  /** `config.link_conflict`: Both texts of a linked layer in conflict (the file's edit and the stored change waiting to be written), and whether the file's text passes the checks. */
  configLinkConflict: (input: OneLayer) => call<LinkConflict>('config_link_conflict', { input }),
  /** `config.resolve_link`: Ends a linked layer's conflict: store the file's text as a new version, or write the stored text over the file (after copying the file aside). Changes stored data (audited). */
  configResolveLink: (input: ResolveInput) => call<LinkResolved>('config_resolve_link', { input }),
  /** `trace.search`: Finds received traces by service, operation, errors, duration, time and a span attribute; newest first. */
  traceSearch: (input: TraceSearch) => call<Array<TraceSummary>>('trace_search', { input }),
  /** `trace.show`: One trace: every span with its attributes and self time, its logs, and the critical path that decided its duration. */
  traceShow: (input: OneTrace) => call<TraceDetail>('trace_show', { input }),
  /** `telemetry.services`: The services that sent spans in a time window, each with its operations. */
  telemetryServices: (input: Window) => call<Array<ServiceOperations>>('telemetry_services', { input }),
  /** `telemetry.service_map`: Which service calls which in a time window, with call counts, errors and latency per edge. */
  telemetryServiceMap: (input: Window) => call<Array<ServiceEdge>>('telemetry_service_map', { input }),
  /** `telemetry.summary`: Readiness of telemetry: where OTLP is received and the last hour's traces and error traces. */
  telemetrySummary: () => call<TelemetrySummary>('telemetry_summary', { input: {} }),
  /** `log.search`: Finds received log records by service, severity, text in the body, trace and time; newest first. */
  logSearch: (input: LogSearch) => call<Array<LogRecord>>('log_search', { input }),
  /** `trace.compare`: Compares two traces span by span (matched by service and operation): which got slower or faster, which appear in only one. */
  traceCompare: (input: CompareTraces) => call<Array<SpanComparison>>('trace_compare', { input }),
  /** `trace.slow`: Traces slower than a percentile (default p95) of their own operation in a time window, slowest first. */
  traceSlow: (input: SlowInput) => call<Array<SlowTrace>>('trace_slow', { input }),
  /** `telemetry.receivers`: Where this process receives OTLP (gRPC and HTTP addresses), for pointing an SDK at it. */
  telemetryReceivers: () => call<Receivers>('telemetry_receivers', { input: {} }),
  /** `telemetry.demo`: Sends traces and logs of a simulated shop (five services, some slow, some failing) to this process's own OTLP/HTTP receiver, for a first look at the trace pages. Changes stored data (audited). */
  telemetryDemo: (input: DemoInput) => call<DemoReport>('telemetry_demo', { input }),
  /** `metric.series`: Series matching a PromQL selector (OTLP metrics are stored under the names Prometheus' OTLP receiver gives them), each with its labels and latest value. */
  metricSeries: (input: SeriesQuery) => call<Array<SeriesLatest>>('metric_series', { input }),
  /** `metric.query`: Evaluates a PromQL expression at one instant (now unless given), with Prometheus' semantics: 5-minute lookback, staleness, rate extrapolation, vector matching. */
  metricQuery: (input: InstantQuery) => call<QueryAnswer>('metric_query', { input }),
  /** `metric.query_range`: Evaluates a PromQL expression at every step of a time range (the last hour unless given): what a chart draws. */
  metricQueryRange: (input: RangeQuery) => call<QueryAnswer>('metric_query_range', { input }),
  /** `metric.target_list`: Prometheus scrape targets: where, how often, and how their last scrape went (up or down, why). */
  metricTargetList: (input: NoInput) => call<Array<TargetInfo>>('metric_target_list', { input }),
  /** `metric.target_set`: Adds or changes a Prometheus scrape target (text format or OpenMetrics): scraped on a fixed grid every interval, with up, scrape_duration_seconds and scrape_samples_scraped, and staleness markers for series that go away. Changes stored data (audited). */
  metricTargetSet: (input: ScrapeTarget) => call<TargetInfo>('metric_target_set', { input }),
  /** `metric.target_remove`: Stops scraping a target (its series stay until retention drops them). Changes stored data (audited). */
  metricTargetRemove: (input: TargetName) => call<null>('metric_target_remove', { input }),
  /** `metric.retention`: How long the series store keeps samples (full resolution, then one per five minutes), its size limit, and how much it holds. */
  metricRetention: (input: NoInput) => call<RetentionStatus>('metric_retention', { input }),
  /** `metric.retention_set`: Sets how many days samples stay at full resolution, how many days they are kept at all, and the most bytes kept; applied at once, then every 10 minutes. Changes stored data (audited). */
  metricRetentionSet: (input: MetricsRetention) => call<RetentionStatus>('metric_retention_set', { input }),
  /** `metric.label_values`: The values a label takes (metric names with `__name__`), optionally in series matching a selector: dashboard variables and query completion. */
  metricLabelValues: (input: LabelValuesInput) => call<Array<string>>('metric_label_values', { input }),
  /** `dashboard.list`: Dashboards: the generated ones (RED per traced service, OpsDeck itself) and the saved ones. */
  dashboardList: () => call<Array<DashboardSummary>>('dashboard_list', { input: {} }),
  /** `dashboard.get`: One dashboard (its latest version or the one asked for): panels, variables, layout — the JSON to export. */
  dashboardGet: (input: DashboardName) => call<DashboardDetail>('dashboard_get', { input }),
  /** `dashboard.save`: Saves a dashboard as its next version (each panel's query is checked first; every version is kept). Changes stored data (audited). */
  dashboardSave: (input: Dashboard) => call<DashboardVersion>('dashboard_save', { input }),
  /** `dashboard.import`: Imports a dashboard from its exported JSON, saved as the next version of its name. Changes stored data (audited). */
  dashboardImport: (input: DashboardJson) => call<DashboardVersion>('dashboard_import', { input }),
  /** `dashboard.history`: A dashboard's saved versions, newest first (open one with dashboard.get and a version; save it to roll back). */
  dashboardHistory: (input: DashboardOnly) => call<Array<DashboardVersion>>('dashboard_history', { input }),
  /** `dashboard.remove`: Removes a saved dashboard with all its versions. Changes stored data (audited). */
  dashboardRemove: (input: DashboardOnly) => call<null>('dashboard_remove', { input }),
  /** `metric.render`: Draws a dashboard (its grid of panels) or one PromQL query as a PNG or SVG image, base64, for reports and chat: the same picture from the CLI and the app. */
  metricRender: (input: RenderInput) => call<RenderedImage>('metric_render', { input }),
  /** `metric.source_list`: Remote Prometheus servers that panels and queries can read from (`source`). */
  metricSourceList: () => call<Array<DataSource>>('metric_source_list', { input: {} }),
  /** `metric.source_set`: Adds or changes a remote Prometheus (its query API's URL, a bearer token as a vault reference) that panels and queries can read from instead of this deck's store. Changes stored data (audited). */
  metricSourceSet: (input: DataSource) => call<DataSource>('metric_source_set', { input }),
  /** `metric.source_remove`: Removes a remote Prometheus data source. Changes stored data (audited). */
  metricSourceRemove: (input: SourceName) => call<null>('metric_source_remove', { input }),
  /** `alert.list`: Alerts: firing first, then pending, then recently resolved, by severity; each with its labels, value, filled-in annotations, and what holds its notifications back (a silence, a firing P1). */
  alertList: () => call<Array<Alert>>('alert_list', { input: {} }),
  /** `alert.history`: Alert state changes (pending, firing, resolved), newest first. */
  alertHistory: (input: HistoryInput) => call<Array<Transition>>('alert_history', { input }),
  /** `alert.acknowledge`: Acknowledges a firing alert: someone is on it, so it is not notified again while it keeps firing. Changes stored data (audited). */
  alertAcknowledge: (input: AlertId) => call<Alert>('alert_acknowledge', { input }),
  /** `alert.rule_list`: Alerting rule groups with their rules, each with its health (ok, or why its last evaluation failed). */
  alertRuleList: () => call<Array<GroupRules>>('alert_rule_list', { input: {} }),
  /** `alert.rule_set`: Adds or changes an alerting rule: a PromQL expression, a `for` duration, a severity P1–P4, labels and templated annotations. Its group is evaluated every interval by the app and `opsdeck serve`; alerts go pending → firing → resolved and are announced through the notification webhooks. Changes stored data (audited). */
  alertRuleSet: (input: RuleInput) => call<GroupRules>('alert_rule_set', { input }),
  /** `alert.rules_import`: Imports a Prometheus rule file: each group replaces the group of its name; `severity` labels become P1–P4 (critical → P1, warning → P3); recording rules are listed as not imported. A file with any error imports nothing. Changes stored data (audited). */
  alertRulesImport: (input: RuleFileInput) => call<RuleImportReport>('alert_rules_import', { input }),
  /** `alert.rule_remove`: Removes an alerting rule and its alerts (its group too, when it was the last). Changes stored data (audited). */
  alertRuleRemove: (input: RuleName) => call<null>('alert_rule_remove', { input }),
  /** `alert.silence_list`: Silences, newest first, with who made them, why and when they end. */
  alertSilenceList: () => call<Array<Silence>>('alert_silence_list', { input: {} }),
  /** `alert.silence`: Silences alerts matching a label selector for a while, with a reason: they still show, but are not notified until it ends. Changes stored data (audited). */
  alertSilence: (input: SilenceInput) => call<Silence>('alert_silence', { input }),
  /** `alert.silence_expire`: Ends a silence now: what it held back is notified at the next evaluation. Changes stored data (audited). */
  alertSilenceExpire: (input: SilenceId) => call<Silence>('alert_silence_expire', { input }),
  /** `scan.run`: Scans files and folders of this machine, or a git repository's history, for hardcoded secrets (provider tokens, private keys, passwords in URLs and assignments) and reports each with its place and the secret redacted. */
  scanRun: (input: ScanInput) => call<ScanReport>('scan_run', { input }),
  /** `scan.baseline_update`: Scans files and folders and writes every finding into the baseline file named, so later scans with that baseline report only new ones. Changes stored data (audited). */
  scanBaselineUpdate: (input: ScanInput) => call<ScanReport>('scan_baseline_update', { input }),
  /** `scan.install_hook`: Writes a git repository's pre-commit hook that scans what is staged and stops a commit that adds a secret. Changes stored data (audited). */
  scanInstallHook: (input: HookInput) => call<HookInstalled>('scan_install_hook', { input }),
  /** `scan.targets`: The folders and repositories remembered for scanning, with their schedule, last scan and open findings. */
  scanTargets: () => call<Array<ScanTarget>>('scan_targets', { input: {} }),
  /** `scan.target_save`: Remembers a folder or repository to scan (files or history, vault values, allowed paths), optionally every few hours. Changes stored data (audited). */
  scanTargetSave: (input: TargetSettings) => call<ScanTarget>('scan_target_save', { input }),
  /** `scan.target_remove`: Forgets a scan target, its findings and its schedule. Changes stored data (audited). */
  scanTargetRemove: (input: TargetPath) => call<null>('scan_target_remove', { input }),
  /** `scan.target_run`: Scans a remembered target now and records its findings: new ones, fixed ones (no longer seen), and announces new ones to the webhook targets. Changes stored data (audited). */
  scanTargetRun: (input: TargetPath) => call<TargetRun>('scan_target_run', { input }),
  /** `scan.findings`: Findings of the remembered targets' scans with their state (new, confirmed, false positive, fixed), secrets redacted. */
  scanFindings: (input: FindingsQuery) => call<Array<StoredFinding>>('scan_findings', { input }),
  /** `scan.finding_mark`: Sets a finding's state: confirmed, false positive (not reported as new again), fixed, or new. Changes stored data (audited). */
  scanFindingMark: (input: MarkInput) => call<StoredFinding>('scan_finding_mark', { input }),
};

/** Input fields (dotted paths) holding a command this machine runs or a file it writes, by command. */
export const machineInputs: Record<string, readonly string[]> = {
  secret_set: ['metadata.rotate_verify'],
  secret_edit: ['metadata.rotate_verify'],
  secret_rotate: ['verify'],
  cert_issue: ['webroot', 'dns_hook', 'deploy.cert_path', 'deploy.chain_path', 'deploy.fullchain_path', 'deploy.key_path', 'deploy.command'],
  cert_configure: ['deploy.cert_path', 'deploy.chain_path', 'deploy.fullchain_path', 'deploy.key_path', 'deploy.command'],
  config_set_reload_hook: ['hook.command'],
  config_link: ['path'],
  scan_run: ['paths', 'rule_files', 'baseline'],
  scan_baseline_update: ['paths', 'rule_files', 'baseline'],
  scan_install_hook: ['repository'],
  scan_target_save: ['path'],
};
