/**
 * What code outside the KMS server (benchmarks, tools) may use of it: the
 * service, its page size, and the key operations it runs on the HSM.
 *
 * @module
 */
export { ISSUE_PAGE, type KmsKeyOps, KmsService } from "./service.ts";
export { defaultHsmWorkers, kmsKeyOps, MAX_HSM_WORKERS } from "./_keys.ts";
