/**
 * The local certificate authority on disk, created once and kept: `ca.pem` (the certificate users
 * trust) and `ca-key.pem` (readable by its owner only) in the TLS folder. The leaf certificate the
 * server presents is made fresh at every start from it, so changing `--tls-name` needs no cleanup.
 * @module
 */
import { chmodSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { TlsConfig } from '../config/tls-config.js'
import {
  createCertificateAuthority,
  createLeafCertificate,
  ZENDESK_CERT_NAMES,
  type CertificatePair,
} from './certificates.js'

/** Where the CA's files live in a TLS folder. */
export function caPaths(dir: string): { cert: string; key: string } {
  return { cert: join(dir, 'ca.pem'), key: join(dir, 'ca-key.pem') }
}

function exists(path: string): boolean {
  try {
    statSync(path)
    return true
  } catch {
    return false
  }
}

/** Writes through a temporary file and a rename, so a crash never leaves half a PEM behind. */
function writeAtomically(path: string, text: string, mode: number): void {
  const tmp = `${path}.${process.pid}.tmp`
  writeFileSync(tmp, text, { mode })
  chmodSync(tmp, mode)
  renameSync(tmp, path)
}

/**
 * Loads the CA in `dir`, creating it (and the folder) on first use. Returns its pair and whether
 * it was created now.
 */
export function ensureLocalCa(dir: string, now: Date): { ca: CertificatePair; created: boolean } {
  const paths = caPaths(dir)
  if (exists(paths.cert) && exists(paths.key)) {
    return {
      ca: { certPem: readFileSync(paths.cert, 'utf8'), keyPem: readFileSync(paths.key, 'utf8') },
      created: false,
    }
  }
  mkdirSync(dir, { recursive: true, mode: 0o700 })
  const ca = createCertificateAuthority({ now })
  // Key first: a ca.pem without its key would be reused by nobody, but the reverse must not happen.
  writeAtomically(paths.key, ca.keyPem, 0o600)
  writeAtomically(paths.cert, ca.certPem, 0o644)
  return { ca, created: true }
}

/** What the HTTPS listener and the CONNECT proxy present. */
export interface ServerTlsMaterial {
  certPem: string
  keyPem: string
  /** The CA certificate to trust; undefined with a certificate brought by --tls-cert. */
  caPath?: string | undefined
}

/**
 * The certificate and key the server presents: the ones given by --tls-cert/--tls-key, or a leaf
 * for the Zendesk host names, loopback and --tls-name, signed by the local CA.
 */
export function serverTlsMaterial(config: TlsConfig, now: Date): ServerTlsMaterial {
  if (config.certFile !== undefined && config.keyFile !== undefined) {
    return {
      certPem: readFileSync(config.certFile, 'utf8'),
      keyPem: readFileSync(config.keyFile, 'utf8'),
    }
  }
  const { ca } = ensureLocalCa(config.dir, now)
  const leaf = createLeafCertificate(ca, [...ZENDESK_CERT_NAMES, ...config.names], { now })
  // The chain: clients that trust the CA verify the leaf through it.
  return {
    certPem: leaf.certPem + ca.certPem,
    keyPem: leaf.keyPem,
    caPath: caPaths(config.dir).cert,
  }
}
