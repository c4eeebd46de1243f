/**
 * Certificates for the local certificate authority and the server's leaf certificate, built with
 * node-forge (no hand-written ASN.1). Keys come from Node's native generator (RSA 2048: every
 * client, Java's keytool included, accepts it); forge only assembles and signs the certificates.
 * No I/O: src/tls/local-ca.ts keeps them on disk.
 * @module
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto'
import { isIP } from 'node:net'
import forge from 'node-forge'

/** A certificate and its private key, both PEM. */
export interface CertificatePair {
  certPem: string
  keyPem: string
}

/** The names every leaf certificate covers: the hosts Zendesk connectors build, and loopback. */
export const ZENDESK_CERT_NAMES = [
  '*.zendesk.com',
  'www.zopim.com',
  'rtm.zopim.com',
  'localhost',
  '127.0.0.1',
  '::1',
] as const

export interface CertificateOptions {
  /** Start of validity (injected clock). */
  now: Date
  /** Serial number bytes (injected randomness); 16 random bytes by default. */
  serial?: () => Buffer
}

const DAY_MS = 86_400_000
const CA_DAYS = 3650
// Apple's and browsers' ceiling for a leaf certificate is 398 days.
const LEAF_DAYS = 397

function newKeyPair(): {
  privateKey: forge.pki.rsa.PrivateKey
  publicKey: forge.pki.rsa.PublicKey
} {
  const { privateKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  })
  const key = forge.pki.privateKeyFromPem(privateKey)
  return { privateKey: key, publicKey: forge.pki.setRsaPublicKey(key.n, key.e) }
}

function serialHex(options: CertificateOptions): string {
  const bytes = (options.serial ?? (() => randomBytes(16)))()
  // A positive INTEGER: clear the top bit so no DER sign byte is needed.
  const copy = Buffer.from(bytes)
  copy[0] = (copy[0] ?? 0) & 0x7f
  return copy.toString('hex')
}

function validity(cert: forge.pki.Certificate, now: Date, days: number): void {
  // Back-dated an hour so a client whose clock runs a little behind still accepts it.
  cert.validity.notBefore = new Date(now.getTime() - 3_600_000)
  cert.validity.notAfter = new Date(now.getTime() + days * DAY_MS)
}

/** Creates a new certificate authority (self-signed, may sign leaf certificates only). */
export function createCertificateAuthority(options: CertificateOptions): CertificatePair {
  const keys = newKeyPair()
  const cert = forge.pki.createCertificate()
  cert.publicKey = keys.publicKey
  cert.serialNumber = serialHex(options)
  validity(cert, options.now, CA_DAYS)
  const subject = [
    { name: 'commonName', value: 'chat-export local CA' },
    { name: 'organizationName', value: 'chat-export' },
  ]
  cert.setSubject(subject)
  cert.setIssuer(subject)
  cert.setExtensions([
    { name: 'basicConstraints', cA: true, pathLenConstraint: 0, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ])
  cert.sign(keys.privateKey, forge.md.sha256.create())
  return {
    certPem: forge.pki.certificateToPem(cert),
    keyPem: forge.pki.privateKeyToPem(keys.privateKey),
  }
}

/** Creates a server certificate for `names` (DNS names and IP addresses), signed by `ca`. */
export function createLeafCertificate(
  ca: CertificatePair,
  names: readonly string[],
  options: CertificateOptions,
): CertificatePair {
  const caCert = forge.pki.certificateFromPem(ca.certPem)
  const caKey = forge.pki.privateKeyFromPem(ca.keyPem)
  const keys = newKeyPair()
  const cert = forge.pki.createCertificate()
  cert.publicKey = keys.publicKey
  cert.serialNumber = serialHex(options)
  validity(cert, options.now, LEAF_DAYS)
  cert.setSubject([{ name: 'commonName', value: names[0] ?? 'localhost' }])
  cert.setIssuer(caCert.subject.attributes)
  const unique = [...new Set(names.map((n) => n.replace(/^\[|\]$/g, '').toLowerCase()))]
  cert.setExtensions([
    { name: 'basicConstraints', cA: false, critical: true },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', serverAuth: true },
    {
      name: 'subjectAltName',
      // type 2 = dNSName, 7 = iPAddress (forge encodes the address from `ip`).
      altNames: unique.map((n) => (isIP(n) ? { type: 7, ip: n } : { type: 2, value: n })),
    },
    { name: 'subjectKeyIdentifier' },
    {
      name: 'authorityKeyIdentifier',
      keyIdentifier: caCert.generateSubjectKeyIdentifier().getBytes(),
    },
  ])
  cert.sign(caKey, forge.md.sha256.create())
  return {
    certPem: forge.pki.certificateToPem(cert),
    keyPem: forge.pki.privateKeyToPem(keys.privateKey),
  }
}
