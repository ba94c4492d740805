/// <reference types="node" />

export type Outcome = 'allow' | 'approval' | 'deny';

export interface Approval { rule: string; groups: string[]; quorum: number; }
export interface LiftingException { id: string; lifts: string; until?: string; owner?: string; ticket?: string; }
export interface DecisionError { code: string; path?: string; rule?: string; message: string; }
export interface BundleRef { name: string; revision: string; digest: string; }

export interface DecisionJSON {
  decision: Outcome;
  request_type: string | null;
  rules: string[];
  deny_rules: string[];
  exceptions: LiftingException[];
  approvals: Approval[];
  grants: Record<string, unknown>;
  reasons: string[];
  errors: DecisionError[];
  bundle: BundleRef;
  trace?: unknown[];
}

export class Decision {
  /** The decision JSON, to log. */
  readonly raw: string;
  readonly decision: Outcome;
  readonly allowed: boolean;
  readonly requestType: string | null;
  readonly rules: string[];
  readonly denyRules: string[];
  readonly exceptions: LiftingException[];
  readonly approvals: Approval[];
  readonly grants: Record<string, unknown>;
  readonly reasons: string[];
  readonly errors: DecisionError[];
  readonly bundle: BundleRef;
  readonly trace: unknown[] | undefined;
  toJSON(): DecisionJSON;
}

export interface BundleInfo {
  digest: string;
  signed: boolean;
  signer_key: string | null;
  name: string | null;
  revision: string | null;
  compiler_version: string | null;
  sources_digest: string | null;
  rules: number;
  request_types: string[];
  principal_types: string[];
}

export interface OpenOptions {
  /** PEM texts of Ed25519 public keys; the bundle must be signed by one of them. */
  publicKeys?: string | Buffer | Array<string | Buffer>;
}

export interface DecideOptions { explain?: boolean; }

export type Input = string | Buffer | Record<string, unknown>;

export class Bundle {
  /** Throws BundleError, or an Error with code ENOENT for a missing file. */
  static open(source: string | Uint8Array, options?: OpenOptions): Bundle;
  decide(input: Input, options?: DecideOptions): Decision;
  decideAsync(input: Input, options?: DecideOptions): Promise<Decision>;
  readonly info: BundleInfo;
  readonly closed: boolean;
  close(): void;
}

export class BundleError extends Error {
  readonly code: 'ERR_PAVE_BUNDLE';
}

export function version(): string;
