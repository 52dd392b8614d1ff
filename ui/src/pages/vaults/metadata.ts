// The metadata form's fields as the page edits them, and their conversion to
// the operation's input (tags as text, dates as YYYY-MM-DD). The form holds
// every field, so each is sent: an empty one as 0 or '', which removes it.
import type { SecretInfo, SecretMetadata, SecretType } from '../../lib/api';

export interface MetadataFields {
  tags: string;
  note: string;
  rotateEveryDays: string;
  rotateVerify: string;
  expires: string;
}

export const SECRET_TYPES: SecretType[] = [
  'api_key', 'database_password', 'ssh_key', 'tls_certificate', 'encryption_key',
  'oauth_token', 'service_account', 'webhook_secret', 'generic',
];

export function emptyFields(): MetadataFields {
  return { tags: '', note: '', rotateEveryDays: '', rotateVerify: '', expires: '' };
}

export function fieldsOf(secret: SecretInfo): MetadataFields {
  return {
    tags: secret.tags.join(', '),
    note: secret.note,
    rotateEveryDays: secret.rotate_every_days?.toString() ?? '',
    rotateVerify: secret.rotate_verify ?? '',
    expires: secret.expires_at ? new Date(secret.expires_at).toISOString().slice(0, 10) : '',
  };
}

/** Converts the form; throws an Error naming the field that is wrong. */
export function toInput(fields: MetadataFields): SecretMetadata {
  const tags = fields.tags.split(',').map((tag) => tag.trim()).filter((tag) => tag.length > 0);
  let rotateEveryDays = 0;
  if (fields.rotateEveryDays.trim() !== '') {
    rotateEveryDays = Number(fields.rotateEveryDays);
    if (!Number.isInteger(rotateEveryDays) || rotateEveryDays < 1) {
      throw new Error('Rotate every: enter a whole number of days, or leave it empty for no policy.');
    }
  }
  let expiresAt = 0;
  if (fields.expires.trim() !== '') {
    expiresAt = Date.parse(`${fields.expires}T00:00:00Z`);
    if (Number.isNaN(expiresAt)) throw new Error('Expires: enter a date as YYYY-MM-DD.');
  }
  return {
    tags,
    note: fields.note,
    rotate_every_days: rotateEveryDays,
    rotate_verify: fields.rotateVerify.trim() === '' ? '' : fields.rotateVerify,
    expires_at: expiresAt,
  };
}
