/**
 * Argument checks shared by both cores, so that both throw the same errors
 * for the same bad input. They live in the @tmk/wasm-core package
 * (`wasm/_args.js`, plain JS so the package runs in every runtime); the pure-JS
 * core uses the same functions from here.
 *
 * @module
 */
export {
  checkAesBlocks,
  checkAesIv,
  checkAesKey,
  checkBlocks,
  checkBytes,
  checkIv,
  checkModPow,
  checkModulus,
  checkRsaPrivate,
  checkTdesKey,
  compareBig,
  MAX_MODULUS_BITS,
  padTo,
  stripLeadingZeros,
} from "./wasm/_args.js";
