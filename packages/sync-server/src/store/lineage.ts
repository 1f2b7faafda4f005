import { randomBytes } from 'node:crypto';

/** A new database's lineage id: 128 random bits in base64url (22 characters). */
export function newLineage(): string {
  return randomBytes(16).toString('base64url');
}
