/**
 * src/protocol/flow_a_proof.ts: the bytes each proof MAC covers (label,
 * separator, length-prefixed SN, nonce, KCV), the derivation of each step,
 * and the refusal of malformed fields naming each.
 */
import { assertEquals, assertNotEquals, assertThrows } from "@std/assert";
import {
  proofDerivation,
  proofMacInput,
  TmkAckProofRequest,
  TmkDownloadRequest,
  ValidationError,
} from "../../src/protocol/mod.ts";
import { hex, toHex } from "../_helpers.ts";

const nonce = "0123456789ABCDEF".repeat(4);
const te = new TextEncoder();

Deno.test("flow A proof: the MAC input of each step, and its derivation", () => {
  const dl = proofMacInput("download", "SN00000001", nonce);
  assertEquals(
    toHex(dl),
    toHex(
      new Uint8Array([
        ...te.encode("TMK download"),
        0,
        10,
        ...te.encode("SN00000001"),
        ...hex(nonce),
      ]),
    ),
  );
  const ack = proofMacInput("ack", "SN00000001", nonce, "ABCDEF");
  assertEquals(
    toHex(ack),
    toHex(
      new Uint8Array([
        ...te.encode("TMK ack"),
        0,
        10,
        ...te.encode("SN00000001"),
        ...hex(nonce),
        0xab,
        0xcd,
        0xef,
      ]),
    ),
  );
  assertNotEquals(toHex(proofMacInput("download", "SN00000002", nonce)), toHex(dl));
  assertEquals(proofDerivation("download", "SN1234").label, "TMK download");
  assertEquals(proofDerivation("ack", "SN1234").label, "TMK ack");
  assertEquals(toHex(proofDerivation("ack", "SN1234").context), toHex(te.encode("SN1234")));
});

Deno.test("flow A proof: malformed fields are refused, each named", () => {
  assertThrows(() => proofMacInput("download", "sn-1", nonce), ValidationError, "sn");
  assertThrows(() => proofMacInput("download", "SN00000001", "00"), ValidationError, "nonce");
  assertThrows(() => proofMacInput("ack", "SN00000001", nonce), ValidationError, "tmkKcv");
  assertThrows(
    () => proofMacInput("ack", "SN00000001", nonce, "abcdef"),
    ValidationError,
    "tmkKcv",
  );
  assertThrows(
    () => TmkDownloadRequest.parse({ nonce, mac: "00" }, "body"),
    ValidationError,
    "body.mac",
  );
  assertThrows(
    () => TmkAckProofRequest.parse({ tmkKcv: "ABCDEF", nonce }, "body"),
    ValidationError,
    "body.mac",
  );
  assertThrows(
    () => TmkDownloadRequest.parse({ nonce, mac: "00".repeat(8), tmkKcv: "ABCDEF" }, "body"),
    ValidationError,
    "tmkKcv",
  );
});
