/**
 * Bulk TMK issuance on the wasm core, one core call per terminal (the
 * kernel is `asm/issue.ts`, which documents what it checks and computes):
 * the binding that moves a TK block's hex, its expected hash and random
 * bytes into the kernel's region and reads the TMK's B block, D block and
 * KCV out as hex, with no allocation but the result's strings.
 *
 * One batch at a time per thread ({@link beginTmkIssuance} returns
 * `undefined` while another is open): the batch holds the LMK's derived
 * keys' schedules in the kernel's region until {@link TmkIssuanceBatch.end}
 * zeroes it. The caller (the software HSM) checks every header itself and
 * runs its general path for any terminal the kernel refuses.
 *
 * @module
 */
import { coreExports } from "./wasm/loader.js";

/** The offsets of the kernel's region (asm/issue.ts). */
const AT = {
  lmkK1: 480,
  tkHeaderState: 496,
  dHeaderState: 512,
  bHeader: 528,
  lmkKbek: 592,
  lmkKbak: 624,
  tkCt: 656,
  hash: 704,
  bCt: 816,
  dCt: 864,
  kcv: 912,
} as const;
const RANDOM_PER_TERMINAL = 80;

/** The LMK's side of a batch, and the B header every terminal's export carries. */
export interface TmkIssuanceKeys {
  /** The LMK's KBEK and KBAK for version D (AES-256, 32 bytes each). */
  kbek: Uint8Array;
  kbak: Uint8Array;
  /** The KBAK's CMAC subkey K1 (16 bytes). */
  kbakK1: Uint8Array;
  /** CBC-MAC (zero IV) under the KBAK of the TK blocks' header text (whole AES blocks). */
  tkHeaderState: Uint8Array;
  /** The same over the TMK's D header text. */
  dHeaderState: Uint8Array;
  /** The TMK's B header text (whole TDES blocks, at most 64 characters). */
  bHeader: string;
}

/** One terminal's TMK, as hex: the B block body (ciphertext || MAC), the D block body, the KCV. */
export interface IssuedTmk {
  bBody: string;
  dBody: string;
  kcv: string;
}

/** An open batch. */
export interface TmkIssuanceBatch {
  /**
   * One terminal.
   *
   * @param tkBody the TK block after its header: 96 uppercase hex digits (ciphertext, MAC).
   * @param expectedHash the TK's SHA-256, 64 hex digits, or undefined for no hash check.
   * @returns the TMK, or `undefined` if the kernel refuses (a body or hash it does not take, a
   *   MAC or key length that does not verify, a hash that differs, a degenerate TMK).
   */
  issue(tkBody: string, expectedHash: string | undefined): IssuedTmk | undefined;
  /** Zeroes the region: the LMK's schedules, the random reserve. */
  end(): void;
}

/** Each byte's two hex digits (uppercase), as character codes. */
const HEX_HI = Uint8Array.from({ length: 256 }, (_, i) => "0123456789ABCDEF".charCodeAt(i >> 4));
const HEX_LO = Uint8Array.from({ length: 256 }, (_, i) => "0123456789ABCDEF".charCodeAt(i & 15));
/** Each ASCII character's hex value in uppercase (`NIBBLE`) or either case (`NIBBLE_ANY`); -1 if none. */
const NIBBLE = Int8Array.from(
  { length: 128 },
  (_, c) => "0123456789ABCDEF".indexOf(String.fromCharCode(c)),
);
const NIBBLE_ANY = Int8Array.from(
  { length: 128 },
  (_, c) => "0123456789ABCDEF".indexOf(String.fromCharCode(c).toUpperCase()),
);
/** Character codes of one output's hex, reused per length (an array of that exact length). */
const codes = new Map<number, number[]>();
let open = false;

/** Writes `n` bytes of hex from `text` at `from` into `mem` at `at`; false at a non-hex digit. */
function putHex(
  mem: Uint8Array,
  at: number,
  text: string,
  from: number,
  n: number,
  lower: boolean,
): boolean {
  const table = lower ? NIBBLE_ANY : NIBBLE;
  let bad = 0;
  for (let i = 0; i < n; i++) {
    const a = text.charCodeAt(from + 2 * i);
    const b = text.charCodeAt(from + 2 * i + 1);
    const hi = a < 128 ? table[a] : -1;
    const lo = b < 128 ? table[b] : -1;
    bad |= hi | lo;
    mem[at + i] = ((hi << 4) | lo) & 0xff;
  }
  return bad >= 0;
}

/** `n` bytes of `mem` at `at` as uppercase hex, made as one flat string. */
function hexOf(mem: Uint8Array, at: number, n: number): string {
  let c = codes.get(n);
  if (c === undefined) {
    c = new Array<number>(2 * n).fill(0);
    codes.set(n, c);
  }
  for (let i = 0; i < n; i++) {
    const v = mem[at + i];
    c[2 * i] = HEX_HI[v];
    c[2 * i + 1] = HEX_LO[v];
  }
  return String.fromCharCode.apply(null, c);
}

/**
 * Opens a batch on the wasm core.
 *
 * @param k the LMK's keys and the headers' states (copied in; the caller keeps its own).
 * @returns the batch, or `undefined` if one is open already in this thread or the B header
 *   does not fit the kernel.
 */
export function beginTmkIssuance(k: TmkIssuanceKeys): TmkIssuanceBatch | undefined {
  if (open || k.bHeader.length % 8 !== 0 || k.bHeader.length > 64) return undefined;
  const x = coreExports();
  const base = x.issuePtr();
  const mem = new Uint8Array(x.memory.buffer);
  mem.set(k.kbek, base + AT.lmkKbek);
  mem.set(k.kbak, base + AT.lmkKbak);
  mem.set(k.kbakK1, base + AT.lmkK1);
  mem.set(k.tkHeaderState, base + AT.tkHeaderState);
  mem.set(k.dHeaderState, base + AT.dHeaderState);
  for (let i = 0; i < k.bHeader.length; i++) mem[base + AT.bHeader + i] = k.bHeader.charCodeAt(i);
  x.issueBegin();
  open = true;
  const bhLen = k.bHeader.length;
  const reserve = x.issueReservePtr();
  const slots = x.issueReserveSlots();
  let slot = slots;
  return {
    issue(tkBody, expectedHash) {
      if (!open) throw new Error("the TMK issuance batch is closed");
      if (tkBody.length !== 96 || (expectedHash !== undefined && expectedHash.length !== 64)) {
        return undefined;
      }
      const m = new Uint8Array(x.memory.buffer);
      if (!putHex(m, base + AT.tkCt, tkBody, 0, 48, false)) return undefined;
      if (expectedHash !== undefined && !putHex(m, base + AT.hash, expectedHash, 0, 32, true)) {
        return undefined;
      }
      if (slot === slots) {
        crypto.getRandomValues(m.subarray(reserve, reserve + slots * RANDOM_PER_TERMINAL));
        slot = 0;
      }
      const r = x.issueTmk(bhLen, expectedHash === undefined ? 0 : 1, slot++);
      if (r !== 0) return undefined;
      const out = {
        bBody: hexOf(m, base + AT.bCt, 40),
        dBody: hexOf(m, base + AT.dCt, 48),
        kcv: hexOf(m, base + AT.kcv, 3),
      };
      x.issueWipeOutputs();
      return out;
    },
    end() {
      if (!open) return;
      x.issueEnd();
      open = false;
    },
  };
}
