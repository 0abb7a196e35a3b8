/**
 * Names of the environment variables an exported configuration uses for write-only values:
 * readable, stable (derived from the resource address and attribute only) and unique.
 * `webhook.default.profile-signups` + `secret` → `WEBHOOK_DEFAULT_PROFILE_SIGNUPS_SECRET`,
 * `oauth_provider.github` + `client_secret` → `OAUTH_GITHUB_CLIENT_SECRET`,
 * `custom_setting.default["smtp.password"]` + `secret` → `CUSTOM_SETTING_DEFAULT_SMTP_PASSWORD`,
 * `system_setting["app.email.smtp_password"]` + `value` → `SYSTEM_SETTING_APP_EMAIL_SMTP_PASSWORD`.
 */
import { parseAddress } from '../model/address.js';

/** Kind prefixes shortened in variable names. */
const PREFIX: Record<string, string> = { oauth_provider: 'OAUTH' };

/** Attributes left out of the name because the key already says what the value is. */
const IMPLIED: Record<string, string> = { custom_setting: 'secret', system_setting: 'value' };

function upper(s: string): string {
  return s.replace(/[^A-Za-z0-9]+/g, '_').replace(/^_+|_+$/g, '').toUpperCase();
}

/** The variable name for one write-only attribute of one resource (before de-duplication). */
export function envVarName(address: string, attribute: string): string {
  const parsed = parseAddress(address);
  const kind = parsed?.kind ?? address;
  const parts = [PREFIX[kind] ?? upper(kind), ...(parsed?.segments ?? []).map(upper)];
  if (IMPLIED[kind] !== attribute) parts.push(upper(attribute));
  return parts.filter(Boolean).join('_');
}

/** One variable an exported configuration references. */
export interface ExportVariable {
  name: string;
  address: string;
  attribute: string;
}

/**
 * Names for every `[address, attribute]`, unique: a clash (two addresses that differ only in
 * punctuation) gets `_2`, `_3`… in address order, so the result depends on the input set only.
 */
export function allocateEnvNames(wanted: readonly { address: string; attribute: string }[]): ExportVariable[] {
  const sorted = [...wanted].sort((a, b) => (a.address === b.address ? (a.attribute < b.attribute ? -1 : 1) : a.address < b.address ? -1 : 1));
  const used = new Set<string>();
  return sorted.map(({ address, attribute }) => {
    const base = envVarName(address, attribute);
    let name = base;
    for (let n = 2; used.has(name); n++) name = `${base}_${n}`;
    used.add(name);
    return { name, address, attribute };
  });
}
