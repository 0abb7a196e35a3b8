/**
 * Secrets in construct props. A write-only prop (webhook `secret`, OAuth `client_secret`,
 * custom-setting `secret`, the app email passwords and API keys) takes a {@link Secret}, never a
 * string: the synthesised document holds the reference `${env:NAME}`, which the ordinary config
 * loader substitutes when `fluxbase plan` / `apply` reads the file. The plaintext is never
 * written, logged or kept by the constructs; synth only checks that NAME is set.
 */

const SECRET = Symbol.for('fluxbase-iac.constructs.Secret');
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** A write-only value that comes from the environment. Create it with {@link Secret.fromEnv}. */
export class Secret {
  /**
   * The secret held by environment variable `name`. Nothing is read here: `app.synth()` reports
   * `config.env-unset` (with the construct path) when the variable is unset or empty, and
   * `config.schema` when `name` is not a valid variable name.
   */
  static fromEnv(name: string): Secret {
    return new Secret(name);
  }

  /** True for a Secret from any copy of this library (checked by symbol, not instanceof). */
  static isSecret(x: unknown): x is Secret {
    return typeof x === 'object' && x !== null && (x as Record<symbol, unknown>)[SECRET] === true;
  }

  /** Name of the environment variable. */
  readonly envName: string;

  private constructor(envName: string) {
    this.envName = envName;
  }

  /** True when {@link envName} is a name the config loader's `${env:NAME}` accepts. */
  get validName(): boolean {
    return ENV_NAME.test(this.envName);
  }

  /** The reference written into the synthesised document: `${env:NAME}`. */
  get reference(): string {
    return `\${env:${this.envName}}`;
  }

  /** `Secret.fromEnv("NAME")`: never the value. */
  toString(): string {
    return `Secret.fromEnv(${JSON.stringify(this.envName)})`;
  }

  /** Serialises as the reference, so even a stray JSON.stringify cannot leak a value. */
  toJSON(): string {
    return this.reference;
  }
}
Object.defineProperty(Secret.prototype, SECRET, { value: true, enumerable: false, writable: false });

/** `a.b.c` → `a`. */
type Head<P extends string> = P extends `${infer H}.${string}` ? H : P;
/** The rest of the paths in `P` that start with `K.`. */
type Rest<P extends string, K extends string> = P extends `${K}.${infer R}` ? R : never;

/**
 * `T` with the props at the dotted paths `P` replaced by {@link Secret} (optionality kept).
 * Used to derive construct props from the generated config types, e.g.
 * `WithSecrets<Webhook, 'secret'>` or `WithSecrets<AppSettings, 'email.smtp.password'>`.
 */
export type WithSecrets<T, P extends string> = [P] extends [never]
  ? T
  : T extends readonly unknown[]
    ? T
    : T extends object
      ? {
          [K in keyof T]: K extends P
            ? Secret | Extract<T[K], undefined>
            : K extends Head<P>
              ? WithSecrets<T[K], Rest<P, K & string>>
              : T[K];
        }
      : T;
