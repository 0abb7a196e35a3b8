/**
 * The security floor (docs/hazards.md, WEAKENS_SECURITY): setting changes that make an instance
 * easier to get into or to abuse — enabling sign-up or magic links, lowering the minimum password
 * length or dropping a password rule, no longer requiring email confirmation, turning rate
 * limiting or captcha off, lengthening sessions. Each is a hazard of its own, so a stale CI file
 * that pushes old auth settings over production (what hit Supabase users) is refused unless the
 * user names WEAKENS_SECURITY. Tightening a setting is never a hazard.
 *
 * One rule per setting, by where it is declared: `settings.auth` keys (PUT /admin/auth/settings),
 * `settings.app` section.key paths and `settings.system` keys (app.auth.*, app.security.*), which
 * are the ones the auth runtime reads (shared/fluxbase-api real-server-behaviour F8).
 */
import type { AttributeChange, Hazard } from '../model/plan.js';
import { hazard } from './common.js';

/** When a change of one setting weakens security, and what it then does. */
interface FloorRule {
  weakens(before: unknown, after: unknown): boolean;
  /** What the weakening does, e.g. "enables sign-up: anyone can create an account". */
  consequence: string;
}

const turnsOn = (consequence: string): FloorRule => ({ weakens: (b, a) => a === true && b !== true, consequence });
const turnsOff = (consequence: string): FloorRule => ({ weakens: (b, a) => a === false && b !== false, consequence });
const lowers = (consequence: string): FloorRule => ({ weakens: (b, a) => typeof a === 'number' && typeof b === 'number' && a < b, consequence });
const raises = (consequence: string): FloorRule => ({ weakens: (b, a) => typeof a === 'number' && typeof b === 'number' && a > b, consequence });

const SIGNUP = turnsOn('enables sign-up: anyone can create an account');
const MAGIC_LINK = turnsOn('enables magic-link sign-in: a mailbox alone signs a user in');
const PASSWORD_LENGTH = lowers('lowers the minimum password length: weaker passwords are accepted');
const EMAIL_VERIFICATION = turnsOff('stops requiring email confirmation: accounts with unverified addresses can sign in');
const RATE_LIMIT = turnsOff('turns the global rate limit off: password guessing and floods are no longer slowed down');

/** settings.auth keys. */
export const AUTH_SETTINGS_FLOOR: Readonly<Record<string, FloorRule>> = {
  enable_signup: SIGNUP,
  enable_magic_link: MAGIC_LINK,
  password_min_length: PASSWORD_LENGTH,
  require_email_verification: EMAIL_VERIFICATION,
  password_require_uppercase: turnsOff('stops requiring an upper-case letter in passwords'),
  password_require_lowercase: turnsOff('stops requiring a lower-case letter in passwords'),
  password_require_number: turnsOff('stops requiring a digit in passwords'),
  password_require_special: turnsOff('stops requiring a special character in passwords'),
  session_timeout_minutes: raises('lengthens sessions: a stolen session stays valid longer'),
  max_sessions_per_user: raises('allows more concurrent sessions per user'),
  disable_dashboard_password_login: turnsOff('allows password sign-in to the dashboard again'),
  disable_app_password_login: turnsOff('allows password sign-in to the app again'),
};

/** settings.app `section.key` paths. */
export const APP_SETTINGS_FLOOR: Readonly<Record<string, FloorRule>> = {
  'authentication.enable_signup': SIGNUP,
  'authentication.enable_magic_link': MAGIC_LINK,
  'authentication.password_min_length': PASSWORD_LENGTH,
  'authentication.require_email_verification': EMAIL_VERIFICATION,
  'security.enable_global_rate_limit': RATE_LIMIT,
};

/** settings.system keys. */
export const SYSTEM_SETTINGS_FLOOR: Readonly<Record<string, FloorRule>> = {
  'app.auth.signup_enabled': SIGNUP,
  'app.auth.magic_link_enabled': MAGIC_LINK,
  'app.auth.password_min_length': PASSWORD_LENGTH,
  'app.auth.require_email_verification': EMAIL_VERIFICATION,
  'app.security.enable_global_rate_limit': RATE_LIMIT,
  'app.security.captcha.enabled': turnsOff('turns captcha off: sign-up and sign-in forms accept bots'),
  'app.security.captcha.score_threshold': lowers('lowers the captcha score threshold: more bot-like requests pass'),
};

/**
 * WEAKENS_SECURITY hazards for setting changes: `key` selects the rule, `label` names the
 * setting as declared (`settings.auth.password_min_length`); callers give the server's default
 * as `before`/`after` where a setting's absence means it.
 */
export function floorHazards(
  rules: Readonly<Record<string, FloorRule>>,
  changes: readonly { key: string; label: string; before: unknown; after: unknown }[],
): Hazard[] {
  const out: Hazard[] = [];
  for (const c of changes) {
    const rule = rules[c.key];
    if (rule?.weakens(c.before, c.after)) {
      out.push(hazard('WEAKENS_SECURITY', `${c.label} ${JSON.stringify(c.before ?? null)} -> ${JSON.stringify(c.after ?? null)} ${rule.consequence}.`));
    }
  }
  return out;
}

/** The changed settings of a settings resource, keyed by dotted attribute path. */
export function settingChanges(attributes: readonly AttributeChange[], prefix: string): { key: string; label: string; before: unknown; after: unknown }[] {
  return attributes.filter((a) => !a.sensitive).map((a) => ({ key: a.path.join('.'), label: `${prefix}.${a.path.join('.')}`, before: a.before, after: a.after }));
}
