/**
 * What code outside the KMS server (benchmarks, tools) may use of it: the
 * service, its page size, the key operations it runs on the HSM, how it
 * opens its HSM, and the progress bar of its issuance command.
 *
 * @module
 */
export { ISSUE_PAGE, type KmsKeyOps, KmsService } from "./service.ts";
export { defaultHsmWorkers, kmsKeyOps, MAX_HSM_WORKERS } from "./_keys.ts";
export { openHsm } from "../_lib/hsm.ts";
export { ProgressBar } from "../_lib/progress.ts";
