/**
 * Secret-shaped test values for the secret detector's tests, built when the tests run, so no
 * token-shaped literal sits in the repository (and no scanner flags it as a leak).
 */
import { generateKeyPairSync } from 'node:crypto';

export const FAKE = {
  github: `ghp_${'A1b2C3d4'.repeat(4)}E5f6`,
  jwt: `eyJhbGciOiJIUzI1NiJ9.${Buffer.from('{"sub":"1234567890","name":"test"}').toString('base64url')}.${'s1gnature'.repeat(3)}`,
  postgres: 'postgres://app:s3cretPassw0rd@db.internal.test:5432/app',
  privateKey: generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ type: 'pkcs1', format: 'pem' }).toString(),
};
