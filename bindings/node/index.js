'use strict';
// Pave policy runtime for Node.js enforcement points. See README.md.
const fs = require('node:fs');
const path = require('node:path');
const native = require('./build/Release/pave_native.node');

/** A bundle that does not load (bad signature, wrong key, corrupt bytes): the runtime's message. */
class BundleError extends Error {
  constructor(message) {
    super(message);
    this.name = 'BundleError';
    this.code = 'ERR_PAVE_BUNDLE';
  }
}

const PREFIX = '{"decision":"';

/** One decision (SPEC §7.4): `decision` at once, the rest parsed from `raw` on first use. */
class Decision {
  constructor(raw) {
    this.raw = raw;
    this.decision = raw.startsWith(PREFIX) ? raw.slice(PREFIX.length, raw.indexOf('"', PREFIX.length)) : 'deny';
    this._parsed = undefined;
  }
  toJSON() {
    if (this._parsed === undefined) this._parsed = JSON.parse(this.raw);
    return this._parsed;
  }
  get allowed() { return this.decision === 'allow'; }
  get requestType() { return this.toJSON().request_type ?? null; }
  get rules() { return this.toJSON().rules; }
  get denyRules() { return this.toJSON().deny_rules; }
  get exceptions() { return this.toJSON().exceptions; }
  get approvals() { return this.toJSON().approvals; }
  get grants() { return this.toJSON().grants; }
  get reasons() { return this.toJSON().reasons; }
  get errors() { return this.toJSON().errors; }
  get bundle() { return this.toJSON().bundle; }
  get trace() { return this.toJSON().trace; }
}

function keysText(publicKeys) {
  if (publicKeys === undefined || publicKeys === null) return null;
  const list = Array.isArray(publicKeys) ? publicKeys : [publicKeys];
  // No key at all is an error (the runtime rejects the empty text), never "unchecked".
  return list.map((k) => (Buffer.isBuffer(k) ? k.toString('utf8') : String(k))).join('\n');
}

function inputText(input) {
  if (typeof input === 'string' || Buffer.isBuffer(input)) return input;
  const text = JSON.stringify(input);
  if (text === undefined) throw new TypeError('input must be JSON text or a JSON-serializable value');
  return text;
}

/** A loaded, verified policy bundle, shared by all callers. */
class Bundle {
  constructor(handle) {
    this._h = handle;
    this._info = undefined;
  }

  /**
   * Loads and verifies a bundle from a path or its bytes. `options.publicKeys`: PEM texts of
   * Ed25519 public keys (one text may hold several); the bundle must be signed by one of them.
   * Without it signatures are not checked; an empty list is an error.
   */
  static open(source, options = {}) {
    const keys = keysText(options.publicKeys);
    try {
      if (source instanceof Uint8Array) return new Bundle(native.NativeBundle.openBytes(source, keys));
      return new Bundle(native.NativeBundle.openFile(String(source), keys));
    } catch (e) {
      if (e && e.code === 'ERR_PAVE_OPEN') {
        if (!(source instanceof Uint8Array) && e.message.startsWith('cannot open ') && !fs.existsSync(source)) {
          const err = new Error(e.message);
          err.code = 'ENOENT';
          err.path = path.resolve(String(source));
          throw err;
        }
        throw new BundleError(e.message);
      }
      throw e;
    }
  }

  /** Decides one input (an object, or JSON text as a string or Buffer), on this thread. */
  decide(input, options = {}) {
    return new Decision(this._h.decide(inputText(input), !!options.explain));
  }

  /** Decides on a worker thread (the libuv pool); resolves to a Decision. */
  async decideAsync(input, options = {}) {
    return new Decision(await this._h.decideAsync(inputText(input), !!options.explain));
  }

  /** digest, signed, signer_key, name, revision, compiler_version, sources_digest, rules, request_types, principal_types. */
  get info() {
    if (this._info === undefined) this._info = JSON.parse(this._h.info());
    return this._info;
  }

  get closed() { return this._h.closed; }

  /** Frees the bundle once decisions in progress finished; later use throws (code ERR_PAVE_CLOSED). */
  close() { this._h.close(); }
}

module.exports = { Bundle, Decision, BundleError, version: native.version };
