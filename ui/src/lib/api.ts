// The only module that talks to the Rust side. Every command the UI uses has
// one typed function here; the argument and result types are generated from
// Rust (src/lib/bindings, see src-tauri/src/bindings.rs).

import { ApiError, call } from './ipc';
import { operations } from './operations';
import { listen, type UnlistenFn } from '@tauri-apps/api/event';
import type { ApiToken } from './bindings/ApiToken';
import type { RenderInput } from './bindings/RenderInput';
import type { AuditEntry } from './bindings/AuditEntry';
import type { AuditOutcome } from './bindings/AuditOutcome';
import type { CertState } from './bindings/CertState';
import type { ChainStatus } from './bindings/ChainStatus';
import type { DeliveryStatus } from './bindings/DeliveryStatus';
import type { PromotionStatus } from './bindings/PromotionStatus';
import type { RunOutcome } from './bindings/RunOutcome';
import type { SpanStatus } from './bindings/SpanStatus';
import type { AuditFilter } from './bindings/AuditFilter';
import type { CommandError } from './bindings/CommandError';
import type { DeckEvent } from './bindings/DeckEvent';
import type { DeckStatus } from './bindings/DeckStatus';
import type { Delivery } from './bindings/Delivery';
import type { EndpointHealth } from './bindings/EndpointHealth';
import type { NewTarget } from './bindings/NewTarget';
import type { Revealed } from './bindings/Revealed';
import type { SecretInfo } from './bindings/SecretInfo';
import type { VaultInfo } from './bindings/VaultInfo';
import type { VersionInfo } from './bindings/VersionInfo';
import type { WebhookTarget } from './bindings/WebhookTarget';
import type { VaultAccess } from './bindings/VaultAccess';
import type { MemberInfo } from './bindings/MemberInfo';
import type { SlotInfo } from './bindings/SlotInfo';
import type { RotationReport } from './bindings/RotationReport';
import type { ImportReport } from './bindings/ImportReport';
import type { Alphabet } from './bindings/Alphabet';
import type { ImportFormat } from './bindings/ImportFormat';
import type { SecretMetadata } from './bindings/SecretMetadata';
import type { SecretStored } from './bindings/SecretStored';
import type { SecretType } from './bindings/SecretType';
import type { Role } from './bindings/Role';
import type { JobInfo } from './bindings/JobInfo';
import type { JobRun } from './bindings/JobRun';
import type { VerifyReport } from './bindings/VerifyReport';
import type { CertRecord } from './bindings/CertRecord';
import type { CertDetail } from './bindings/CertDetail';
import type { CertDetails } from './bindings/CertDetails';
import type { CertEvent } from './bindings/CertEvent';
import type { CertImportReport } from './bindings/CertImportReport';
import type { CertSummary } from './bindings/CertSummary';
import type { IssueOptions } from './bindings/IssueOptions';
import type { DeployHook } from './bindings/DeployHook';
import type { Managed } from './bindings/Managed';
import type { Location } from './bindings/Location';
import type { ProjectInfo } from './bindings/ProjectInfo';
import type { ConfigLayer } from './bindings/ConfigLayer';
import type { ConfigVersion } from './bindings/ConfigVersion';
import type { ConfigExplained } from './bindings/ConfigExplained';
import type { ConfigValidation } from './bindings/ConfigValidation';
import type { Violation } from './bindings/Violation';
import type { DraftCheck } from './bindings/DraftCheck';
import type { Change } from './bindings/Change';
import type { LayerChange } from './bindings/LayerChange';
import type { PromotionPreview } from './bindings/PromotionPreview';
import type { Promotion } from './bindings/Promotion';
import type { ConfigComparison } from './bindings/ConfigComparison';
import type { ReloadHook } from './bindings/ReloadHook';
import type { ConfigLink } from './bindings/ConfigLink';
import type { LinkConflict } from './bindings/LinkConflict';
import type { LinkResolution } from './bindings/LinkResolution';
import type { LinkResolved } from './bindings/LinkResolved';
import type { ConfigSummary } from './bindings/ConfigSummary';
import type { PromotionRequest } from './bindings/PromotionRequest';
import type { ReloadOutcome } from './bindings/ReloadOutcome';
import type { TraceSummary } from './bindings/TraceSummary';
import type { TraceDetail } from './bindings/TraceDetail';
import type { Span } from './bindings/Span';
import type { LogRecord } from './bindings/LogRecord';
import type { PathSegment } from './bindings/PathSegment';
import type { ServiceEdge } from './bindings/ServiceEdge';
import type { ServiceOperations } from './bindings/ServiceOperations';
import type { SpanComparison } from './bindings/SpanComparison';
import type { SlowTrace } from './bindings/SlowTrace';
import type { DemoReport } from './bindings/DemoReport';
import type { TraceSearch } from './bindings/TraceSearch';
import type { LogSearch } from './bindings/LogSearch';
import type { Receivers } from './bindings/Receivers';
import type { TelemetrySummary } from './bindings/TelemetrySummary';

export type {
  ApiToken,
  AuditOutcome, CertState, ChainStatus, DeliveryStatus, PromotionStatus, RunOutcome, SpanStatus,
  TraceSummary, TraceDetail, Span, LogRecord, PathSegment, ServiceEdge, ServiceOperations, SpanComparison, SlowTrace, DemoReport, TraceSearch, LogSearch, Receivers, TelemetrySummary,
  AuditEntry,
  ProjectInfo,
  ConfigLayer,
  ConfigVersion,
  ConfigExplained,
  ConfigValidation,
  Violation,
  DraftCheck,
  Change,
  LayerChange,
  PromotionPreview,
  Promotion,
  ConfigComparison,
  ReloadHook,
  ReloadOutcome,
  ConfigLink,
  LinkConflict,
  LinkResolution,
  LinkResolved,
  ConfigSummary,
  PromotionRequest,
  CertRecord,
  CertDetail,
  CertDetails,
  CertEvent,
  CertImportReport,
  CertSummary,
  IssueOptions,
  DeployHook,
  Managed,
  Location,
  AuditFilter,
  CommandError,
  DeckEvent,
  DeckStatus,
  Delivery,
  EndpointHealth,
  JobInfo,
  JobRun,
  NewTarget,
  Revealed,
  SecretInfo,
  VaultInfo,
  VaultAccess,
  MemberInfo,
  SlotInfo,
  RotationReport,
  ImportReport,
  Alphabet,
  ImportFormat,
  SecretMetadata,
  SecretStored,
  SecretType,
  Role,
  VerifyReport,
  VersionInfo,
  WebhookTarget,
};

export { ApiError };

export const api = {
  ...operations,
  // The app's own commands: they only mean something in this desktop session.
  /** Uses a passphrase for the deck's keys and vaults for this session. */
  unlock: (passphrase: string) => call<null>('unlock', { passphrase }),
  /** Copies a value to the clipboard from Rust (audited); resolves to the seconds until it is cleared. */
  secretCopy: (reference: string, version: number | null = null) =>
    call<number>('secret_copy', { reference, version }),
  /** Draws a dashboard or query and saves it as a new image file in the downloads folder; resolves to its path. */
  exportImage: (input: RenderInput) => call<string>('export_image', { input }),
  /** Opens a stored scan finding's file at its line in the person's editor; returns what it ran. */
  openFinding: (target: string, fingerprint: string) => call<string>('open_finding', { target, fingerprint }),
};

/** Error codes that mean "a passphrase would help". */
export const LOCKED_CODES = ['vault_locked', 'passphrase_needed', 'no_key_source', 'wrong_passphrase'];

/** Calls `handler` for every event of the deck until the returned function is called. */
export function onDeckEvent(handler: (event: DeckEvent) => void): Promise<UnlistenFn> {
  return listen<DeckEvent>('deck-event', (event) => handler(event.payload));
}

/** A headline for an error, chosen by its code (the message says the details). */
export function errorTitle(error: unknown): string {
  const code = error instanceof ApiError ? error.code : 'unknown';
  switch (code) {
    case 'data_dir_not_a_directory':
    case 'data_dir_not_writable':
    case 'no_default_data_dir':
    case 'data_dir_on_network_filesystem':
      return 'The data directory cannot be used';
    case 'invalid_database_url':
      return 'The database URL is not valid';
    case 'store_unreachable':
      return 'The PostgreSQL store cannot be reached';
    case 'store_tls_refused':
      return 'The PostgreSQL server did not prove who it is';
    case 'store_unavailable':
    case 'store_corrupt':
      return 'The store cannot be opened';
    case 'store_from_newer_version':
      return 'This store needs a newer OpsDeck';
    case 'store_busy':
      return 'The store is busy with another process';
    case 'no_key_source':
    case 'passphrase_needed':
    case 'wrong_passphrase':
    case 'keychain_unavailable':
    case 'key_not_in_keychain':
    case 'key_mismatch':
      return "OpsDeck's keys are locked";
    case 'key_part_missing':
      return "Part of OpsDeck's key is missing on this machine";
    case 'key_record_missing':
      return "The store's record of a key was deleted";
    case 'invalid_target':
      return 'That webhook target cannot be used';
    case 'unknown_target':
      return 'That webhook target no longer exists';
    case 'vault_locked':
      return 'This vault is locked';
    case 'vault_exists':
      return 'That vault already exists';
    case 'forbidden':
      return 'Your role does not allow this';
    case 'clipboard':
      return 'The clipboard is not available';
    case 'unknown_vault':
    case 'unknown_secret':
      return 'Not found';
    case 'integrity':
      return 'A stored value failed its integrity check';
    case 'invalid_input':
      return 'That input cannot be used';
    case 'unknown_job':
      return 'That job no longer exists';
    case 'audit_chain_broken':
      return 'The audit trail has been tampered with';
    case 'config_syntax':
      return 'The config does not parse';
    case 'config_format':
      return 'That config format is not supported';
    case 'config_schema_invalid':
      return 'The schema is not a valid JSON Schema';
    case 'config_env_type':
      return 'An environment variable has the wrong type';
    case 'config_invalid':
      return 'The config breaks its schema; nothing was stored';
    case 'config_approval':
      return 'This promotion needs another person';
    case 'unknown_config_request':
      return 'Not found';
    case 'unknown_config_project':
    case 'unknown_config_version':
      return 'Not found';
    case 'query_failed':
      return 'The query cannot be answered on this data';
    case 'ipc':
      return 'The app could not reach its backend';
    default:
      return 'Something went wrong';
  }
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
