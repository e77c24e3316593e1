/**
 * Revocation at the servers (servers/_lib/revocation.ts): the MTMS's
 * operator-card check refuses a card once a CRL listing it is reloaded, and
 * a stale CRL leaves the card's status unknown, which is refused; a CRL
 * file that is missing or holds no CRL is an error at load.
 */
import { assertEquals, assertRejects } from "@std/assert";
import { loadCore } from "../../src/core/mod.ts";
import { pkcs1v15Sign, toHex } from "../../src/crypto/mod.ts";
import { AuthenticationError, verifyOperatorSignature } from "../../src/protocol/mod.ts";
import { parseCertificate } from "../../src/pki/mod.ts";
import { loadCrlFile, revocationChecked } from "../../servers/_lib/revocation.ts";
import { operatorCard, root, rootCrl, strangerRoot } from "./_tls_fixture.ts";

const core = await loadCore();
const signatures = {
  verify: (pem: string, data: Uint8Array, signature: string, at: Date) =>
    verifyOperatorSignature(pem, root, data, signature, at, core),
};

Deno.test("revocation: a revoked operator card is refused after the CRL file is reloaded", async () => {
  const dir = await Deno.makeTempDir({ prefix: "revocation_test_" });
  try {
    const file = `${dir}/crl.pem`;
    await Deno.writeTextFile(file, await rootCrl(1n, []));
    const crls = await loadCrlFile(file);
    const check = revocationChecked(signatures, {
      roots: [root],
      purpose: "operator-card",
      crls: crls.current,
    });
    const data = new TextEncoder().encode("Rnd || TimeOne");
    const sig = toHex(await pkcs1v15Sign(operatorCard.privateKey, data, { core })).toUpperCase();
    assertEquals(
      await check.verify(operatorCard.cert, data, sig, new Date()),
      "C=CN, O=TLS Test, CN=Operator 1",
    );
    const serial = parseCertificate(operatorCard.cert).serialNumber;
    await Deno.writeTextFile(file, await rootCrl(2n, [serial]));
    await crls.reload();
    const e = await assertRejects(
      () => check.verify(operatorCard.cert, data, sig, new Date()),
      AuthenticationError,
    );
    assertEquals(e.code, "certificate_revoked");
    // A bad signature keeps its own code, revoked or not.
    const bad = await assertRejects(
      () =>
        check.verify(
          operatorCard.cert,
          data,
          sig.replace(/^./, (c) => c === "0" ? "1" : "0"),
          new Date(),
        ),
      AuthenticationError,
    );
    assertEquals(bad.code, "signature_invalid");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("revocation: a stale CRL leaves the card's status unknown, and it is refused", async () => {
  const dir = await Deno.makeTempDir({ prefix: "revocation_test_" });
  try {
    const data = new TextEncoder().encode("Rnd || TimeOne");
    const sig = toHex(await pkcs1v15Sign(operatorCard.privateKey, data, { core })).toUpperCase();
    const file = `${dir}/crl.pem`;
    await Deno.writeTextFile(file, await rootCrl(1n, []));
    const crls = await loadCrlFile(file);
    const check = revocationChecked(signatures, {
      roots: [root],
      purpose: "operator-card",
      crls: crls.current,
    });
    // A day after the CRL's nextUpdate, it is stale.
    const later = new Date(Date.now() + 2 * 86_400_000);
    const e = await assertRejects(
      () => check.verify(operatorCard.cert, data, sig, later),
      AuthenticationError,
    );
    assertEquals(e.code, "certificate_status_unknown");
    await assertRejects(() => loadCrlFile(`${dir}/none.pem`), Deno.errors.NotFound);
    await Deno.writeTextFile(`${dir}/empty.pem`, strangerRoot);
    await assertRejects(() => loadCrlFile(`${dir}/empty.pem`), TypeError, "holds no PEM CRL");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
