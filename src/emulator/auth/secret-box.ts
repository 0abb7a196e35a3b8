/**
 * Encryption at rest for write-only secrets (secret settings, OAuth client secrets), standing in
 * for the server's `internal/crypto` AES-256-GCM with `FLUXBASE_ENCRYPTION_KEY`.
 *
 * The key is derived from the emulator's JWT secret with HKDF-SHA256; a sealed value is
 * `base64(nonce(12) ‖ ciphertext ‖ tag(16))`. No API returns plaintext; `open` exists for tests
 * and debugging.
 */
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';

export class SecretBox {
  private readonly key: Buffer;

  constructor(secret: string) {
    this.key = Buffer.from(hkdfSync('sha256', secret, 'fluxbase-emulator', 'secret-settings', 32));
  }

  /** Encrypts `plaintext` (fresh nonce each time). */
  seal(plaintext: string): string {
    const nonce = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, nonce);
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return Buffer.concat([nonce, body, cipher.getAuthTag()]).toString('base64');
  }

  /** Decrypts a value sealed with the same secret; throws when it was not. */
  open(sealed: string): string {
    const raw = Buffer.from(sealed, 'base64');
    const decipher = createDecipheriv('aes-256-gcm', this.key, raw.subarray(0, 12));
    decipher.setAuthTag(raw.subarray(raw.length - 16));
    return Buffer.concat([decipher.update(raw.subarray(12, raw.length - 16)), decipher.final()]).toString('utf8');
  }
}
