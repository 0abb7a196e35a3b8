/**
 * Environment overrides of settings (`internal/auth/settings_cache.go`; keys doc §12.4).
 *
 * A setting key maps to the variable `FLUXBASE_` + the key without its `app.` prefix, ASCII
 * letters upper-cased, digits kept, anything else (`.`, `_`, `-`…) as `_`:
 * `app.auth.signup_enabled` → `FLUXBASE_AUTH_SIGNUP_ENABLED`. A variable with a non-empty value
 * locks the setting and takes precedence over the database when the runtime reads it.
 */

/** `GetEnvVarName`. */
export function envVarName(key: string): string {
  const rest = key.length > 4 && key.startsWith('app.') ? key.slice(4) : key;
  let out = 'FLUXBASE_';
  for (const ch of rest) {
    if (ch >= 'a' && ch <= 'z') out += ch.toUpperCase();
    else if ((ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9')) out += ch;
    else out += '_';
  }
  return out;
}

/** The emulated server environment (the `envOverrides` option). */
export class EnvOverrides {
  constructor(private readonly vars: Readonly<Record<string, string>>) {}

  /** A variable's value, undefined when unset or empty (`os.Getenv(...) != ""`). */
  get(name: string): string | undefined {
    const v = this.vars[name];
    return v === undefined || v === '' ? undefined : v;
  }

  /** `IsOverriddenByEnv(key)`. */
  isOverridden(key: string): boolean {
    return this.get(envVarName(key)) !== undefined;
  }

  /** The overriding value of a setting key, if any. */
  valueOf(key: string): string | undefined {
    return this.get(envVarName(key));
  }
}

/** `GetBool`'s reading of an environment value: `true`, `1`, `yes` (any case) are true. */
export function envBool(value: string): boolean {
  const v = value.toLowerCase();
  return v === 'true' || v === '1' || v === 'yes';
}

/** `strconv.Atoi`: a decimal integer with an optional sign, else undefined. */
export function envInt(value: string): number | undefined {
  return /^[+-]?\d+$/.test(value) ? Number(value) : undefined;
}
